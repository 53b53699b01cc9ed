using System.Text;
using NeverwinterDP.Host.ZeroMq;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.ZeroMq;

/// <summary>What the ZeroMQ input refuses before the bus sees a batch, and how it counts batches in flight and resent.</summary>
public class ZeroMqIngressTests
{
    private static readonly byte[] Id = [7, 7];

    private static readonly IngressContext Context = new(null, "unknown", "unknown", "node-1", 1_765_000_000_000);

    private static ZeroMqRequest Request(string payload, ContentKind kind = ContentKind.Ndjson) => new(Id, kind, null, Encoding.UTF8.GetBytes(payload));

    [Fact]
    public void A_malformed_batch_is_refused_whole_naming_the_line()
    {
        var answer = ZeroMqIngress.Check(Request("{\"msg\":\"one\"}\n\n{\"msg\":\"two\",\"ts\":true}\n{\"msg\":\"three\"}\n"), 1 << 20, 1000, Context, out var events);

        Assert.NotNull(answer);
        Assert.Equal((400, "malformed", 3), (answer.Status, answer.Reason, answer.Line));
        Assert.Equal("field 'ts' must be a number or an RFC 3339 string", answer.Error);
        Assert.Empty(events);
    }

    [Fact]
    public void A_batch_past_max_batch_bytes_or_max_events_is_refused_413()
    {
        var tooLarge = ZeroMqIngress.Check(Request(new string('x', 2000)), 1024, 1000, Context, out _)!;
        Assert.Equal((413, "body_too_large"), (tooLarge.Status, tooLarge.Reason));
        Assert.Equal("the batch is 2000 bytes; the limit is 1024 (nwdp.inputs.zeromq.max-batch-bytes)", tooLarge.Error);

        var tooMany = ZeroMqIngress.Check(Request("{\"msg\":\"a\"}\n{\"msg\":\"b\"}\n{\"msg\":\"c\"}\n"), 1024, 2, Context, out _)!;
        Assert.Equal((413, "too_many_events"), (tooMany.Status, tooMany.Reason));
    }

    [Fact]
    public void A_good_batch_becomes_its_events_with_the_v1_events_mapping()
    {
        Assert.Null(ZeroMqIngress.Check(Request("[{\"message\":\"a\",\"host\":\"h\",\"level\":\"warn\",\"k\":1}]", ContentKind.Json), 1024, 10, Context, out var events));
        var e = Assert.Single(events);
        Assert.Equal(("a", "h", "warn", "1", "node-1"), (e.Message, e.Host, e.Level, e.Attributes["k"], e.Lineage.IngressNode));
    }

    [Fact]
    public void Past_max_in_flight_a_batch_is_turned_away_and_a_slot_frees_when_one_ends()
    {
        var tracker = new ZeroMqBatchTracker(maxInFlight: 2, remembered: 10);

        Assert.Equal(ZeroMqBatchTracker.Arrival.Started, tracker.Arrive([1], [0xA], out _));
        Assert.Equal(ZeroMqBatchTracker.Arrival.Started, tracker.Arrive([2], [0xA], out _));
        Assert.Equal(ZeroMqBatchTracker.Arrival.Full, tracker.Arrive([3], [0xA], out _));
        Assert.Equal([new byte[] { 0xA }], tracker.Finish([1], ZeroMqAnswerKind.Refused));
        Assert.Equal(ZeroMqBatchTracker.Arrival.Started, tracker.Arrive([3], [0xA], out _));
        Assert.Equal(2, tracker.InFlight);
    }

    [Fact]
    public void A_batch_resent_while_in_flight_is_answered_on_both_routes_and_once_durable_is_not_taken_again()
    {
        var tracker = new ZeroMqBatchTracker(maxInFlight: 4, remembered: 2);

        Assert.Equal(ZeroMqBatchTracker.Arrival.Started, tracker.Arrive([1], [0xA], out _));
        Assert.Equal(ZeroMqBatchTracker.Arrival.Joined, tracker.Arrive([1], [0xB], out _)); // the client reconnected and resent
        Assert.Equal([new byte[] { 0xA }, [0xB]], tracker.Finish([1], ZeroMqAnswerKind.Durable, accepted: 5));

        Assert.Equal(ZeroMqBatchTracker.Arrival.AlreadyDurable, tracker.Arrive([1], [0xC], out var accepted));
        Assert.Equal(5, accepted);

        // Only the last 'remembered' ids are kept.
        foreach (var id in new byte[] { 2, 3 })
        {
            tracker.Arrive([id], [0xA], out _);
            tracker.Finish([id], ZeroMqAnswerKind.Durable, accepted: 1);
        }
        Assert.Equal(ZeroMqBatchTracker.Arrival.Started, tracker.Arrive([1], [0xA], out _));
    }

    [Fact]
    public void A_batch_the_node_gave_up_on_is_neither_answered_nor_remembered()
    {
        var tracker = new ZeroMqBatchTracker(maxInFlight: 4, remembered: 10);
        tracker.Arrive([1], [0xA], out _);

        Assert.Empty(tracker.Finish([1], ZeroMqAnswerKind.Unanswered));
        Assert.Equal(ZeroMqBatchTracker.Arrival.Started, tracker.Arrive([1], [0xA], out _));
    }
}
