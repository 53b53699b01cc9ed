using Confluent.Kafka;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Pump;

/// <summary>
/// The audit's delivered counts: a record counts when the pump commits it, once, however often it was written
/// (again after a restart, a rebalance or a commit that failed), and the pump waits for the counts to be durable.
/// </summary>
public sealed class DeliveredOnceTests
{
    private sealed class Recorder : IDurableDeliveryObserver
    {
        public List<(string Sink, string Messages)> Calls { get; } = new();
        public int DurableCalls { get; private set; }

        public List<CountedPosition> Positions { get; } = new();

        public void Committing(string sink, IReadOnlyList<DeliveryCount> records, IReadOnlyList<CountedPosition> positions)
        {
            Positions.AddRange(positions);
            if (records.Count > 0)
                Calls.Add((sink, records.Select(r => $"{r.Type}@{r.SystemTs}:{r.MessageBytes}").OrderBy(s => s, StringComparer.Ordinal).Aggregate((x, y) => x + "," + y)));
        }

        public Task DurableAsync(CancellationToken cancellation)
        {
            DurableCalls++;
            return Task.CompletedTask;
        }
    }

    private const string Topic = "nwdp.logs.app";

    private static List<SinkRecord> Records(int partition, params long[] offsets) =>
        offsets.Select(o => new SinkRecord(Topic, partition, o, new LogEvent { Message = "m" + o, Type = "app", SystemTs = 1000 + o })).ToList();

    private static long[] Range(long from, long to) => Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i).ToArray();

    private static string Told(params long[] offsets) =>
        string.Join(",", offsets.Select(o => $"app@{1000 + o}:{("m" + o).Length}").OrderBy(s => s, StringComparer.Ordinal));

    private static Dictionary<TopicPartition, long> At(int partition, long highest) => new() { [new TopicPartition(Topic, partition)] = highest };

    [Fact]
    public async Task Records_count_when_committed_once_however_often_they_were_written()
    {
        var recorder = new Recorder();
        var once = new DeliveredOnce(recorder, "files");

        once.Delivered("files", Records(0, Range(0, 9)));
        Assert.Empty(recorder.Calls); // written, not committed: not counted
        // A restart before the commit: 5..9 again, then new ones; an errored record retried after the ones behind it.
        once.Delivered("files", Records(0, Range(5, 14)));
        once.Delivered("files", Records(0, 16, 17));
        once.Delivered("files", Records(0, 15));
        once.Delivered("files", Records(1, Range(0, 2)));
        Assert.Equal(5, once.Repeated);
        Assert.Equal(21, once.Held);

        // Committed up to 12 on partition 0: those records count, once; the rest waits for its commit.
        once.Committing(At(0, 12));
        await once.DurableAsync(CancellationToken.None);
        Assert.Equal([("files", Told(Range(0, 12)))], recorder.Calls);
        Assert.Equal(1, recorder.DurableCalls);

        // The commit failed after its counts were published: the stream reads from 0 again. Below the counted
        // position nothing counts again; the rest counts at the next commit.
        recorder.Calls.Clear();
        once.ReadFrom(new TopicPartition(Topic, 0), 0);
        once.Delivered("files", Records(0, Range(0, 17)));
        once.Committing(At(0, 17));
        once.Committing(At(1, 2));
        Assert.Equal([("files", Told(Range(13, 17))), ("files", Told(Range(0, 2)))], recorder.Calls);
        Assert.Equal(0, once.Held);
    }

    [Fact]
    public void What_another_node_committed_while_the_partition_was_away_is_dropped_not_counted()
    {
        var recorder = new Recorder();
        var once = new DeliveredOnce(recorder, "files");
        // Written here, then the partition moved away before the commit; another node committed up to 19.
        once.Delivered("files", Records(0, Range(0, 9)));
        // The partition comes back: read from 20.
        once.ReadFrom(new TopicPartition(Topic, 0), 20);
        once.Delivered("files", Records(0, Range(20, 24)));
        once.Committing(At(0, 24));
        Assert.Equal([("files", Told(Range(20, 24)))], recorder.Calls);
        Assert.Equal(0, once.Held);
    }

    [Fact]
    public void The_pumps_of_a_sink_on_one_node_share_what_was_counted_and_other_sinks_count_on_their_own()
    {
        var recorder = new Recorder();
        var shared = new DeliveredOnceBySink(recorder);
        shared.For("files").Delivered("files", Records(0, Range(0, 4)));
        shared.For("files").Committing(At(0, 4));
        // A new pump of the same sink (a restarted writer) writes the same records again: not counted again.
        shared.For("files").Delivered("files", Records(0, Range(0, 6)));
        shared.For("files").Committing(At(0, 6));
        // Another sink delivering the same records counts them for itself.
        shared.Delivered("drop", Records(0, Range(0, 1)));
        shared.For("drop").Committing(At(0, 1));
        Assert.Equal([("files", Told(Range(0, 4))), ("files", Told(5, 6)), ("drop", Told(0, 1))], recorder.Calls);
        Assert.Same(shared.For("files"), shared.For("files"));
    }

    /// <summary>The counted positions every node published, as the stats feed holds them.</summary>
    private sealed class Published : IDeliveredPositions
    {
        public Dictionary<(string, string, int), long> Next { get; } = new();

        public long CountedNext(string sink, string topic, int partition) => Next.GetValueOrDefault((sink, topic, partition), long.MinValue);

        public Task ReadyAsync(CancellationToken cancellation) => Task.CompletedTask;
    }

    [Fact]
    public void Each_commit_tells_the_positions_below_which_the_sink_counted()
    {
        var recorder = new Recorder();
        var once = new DeliveredOnce(recorder, "files");
        once.Delivered("files", Records(0, Range(0, 9)));
        once.Delivered("files", Records(1, Range(0, 3)));
        once.Committing(new Dictionary<TopicPartition, long> { [new TopicPartition(Topic, 0)] = 9, [new TopicPartition(Topic, 1)] = 3 });
        // A commit of what was already counted (a retried commit) tells nothing new.
        once.Committing(At(0, 9));
        once.Delivered("files", Records(0, Range(10, 11)));
        once.Committing(At(0, 11));
        Assert.Equal([new CountedPosition(Topic, 0, 10), new CountedPosition(Topic, 1, 4), new CountedPosition(Topic, 0, 12)], recorder.Positions);
    }

    [Fact]
    public void What_a_killed_node_counted_but_did_not_commit_is_written_again_here_and_not_counted_again()
    {
        // Node A counted 0..14 of partition 0, published the counts and the position 15, and was killed before its
        // commit: the group's committed offset is still 5. This node reads from 5 and writes 5..19 again.
        var published = new Published();
        published.Next[("files", Topic, 0)] = 15;
        published.Next[("pg", Topic, 0)] = 100; // another sink's position does not matter here
        var recorder = new Recorder();
        var once = new DeliveredOnce(recorder, "files", published);
        once.ReadFrom(new TopicPartition(Topic, 0), 5);
        once.Delivered("files", Records(0, Range(5, 12)));
        // A commit below the dead node's position counts nothing (and tells no position: nothing new is counted).
        once.Committing(At(0, 12));
        Assert.Empty(recorder.Calls);
        Assert.Empty(recorder.Positions);
        once.Delivered("files", Records(0, Range(13, 19)));
        once.Committing(At(0, 19));
        Assert.Equal([("files", Told(Range(15, 19)))], recorder.Calls);
        Assert.Equal([new CountedPosition(Topic, 0, 20)], recorder.Positions);
        Assert.Equal(10, once.CountedElsewhere);
        Assert.Equal(0, once.Held);
    }
}
