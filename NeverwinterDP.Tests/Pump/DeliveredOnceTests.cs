using Confluent.Kafka;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Pump;

/// <summary>The audit's delivered counts: a record the pump writes again (not committed yet at a restart) counts once.</summary>
public sealed class DeliveredOnceTests
{
    private sealed class Recorder : IDeliveryObserver
    {
        public List<(string Sink, long[] Offsets)> Calls { get; } = new();

        public void Delivered(string sink, IReadOnlyList<SinkRecord> records) => Calls.Add((sink, records.Select(r => r.Offset).ToArray()));
    }

    private static List<SinkRecord> Records(int partition, params long[] offsets) =>
        offsets.Select(o => new SinkRecord("nwdp.logs.app", partition, o, new LogEvent { Message = "m" + o, Type = "app" })).ToList();

    private static long[] Range(long from, long to) => Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i).ToArray();

    [Fact]
    public void Replayed_records_are_told_once_and_records_after_a_gap_or_on_another_partition_are_told()
    {
        var recorder = new Recorder();
        var once = new DeliveredOnce(recorder);

        once.Delivered("files", Records(0, Range(0, 9)));
        // A restart before the commit: 5..9 again, then new ones.
        once.Delivered("files", Records(0, Range(5, 14)));
        // An errored record retried after the ones behind it: 16 and 17 first, then 15.
        once.Delivered("files", Records(0, 16, 17));
        once.Delivered("files", Records(0, 15));
        // The same offsets on another partition are other records.
        once.Delivered("files", Records(1, Range(0, 2)));
        Assert.Equal([Range(0, 9), Range(10, 14), [16L, 17], [15L], Range(0, 2)], recorder.Calls.Select(c => c.Offsets));
        Assert.All(recorder.Calls, c => Assert.Equal("files", c.Sink));
        Assert.Equal(5, once.Repeated);

        // Committed up to 17: a replay from an older position tells nothing; what follows is new.
        once.Committed(new Dictionary<TopicPartition, long> { [new TopicPartition("nwdp.logs.app", 0)] = 17 });
        recorder.Calls.Clear();
        once.Delivered("files", Records(0, Range(12, 20)));
        once.Delivered("files", Records(0, Range(0, 3)));
        Assert.Equal([Range(18, 20)], recorder.Calls.Select(c => c.Offsets));
        Assert.Equal(5 + 6 + 4, once.Repeated);
    }

    [Fact]
    public void The_pumps_of_a_sink_on_one_node_share_what_was_told_and_other_sinks_count_on_their_own()
    {
        var recorder = new Recorder();
        var shared = new DeliveredOnceBySink(recorder);
        shared.For("files").Delivered("files", Records(0, Range(0, 4)));
        // A new pump of the same sink (a restarted writer) replays the same records: not told again.
        shared.For("files").Delivered("files", Records(0, Range(0, 6)));
        // Another sink delivering the same records counts them for itself.
        shared.Delivered("drop", Records(0, Range(0, 1)));
        Assert.Equal(["files 0,1,2,3,4", "files 5,6", "drop 0,1"], recorder.Calls.Select(c => $"{c.Sink} {string.Join(',', c.Offsets)}"));
        Assert.Same(shared.For("files"), shared.For("files"));
    }
}
