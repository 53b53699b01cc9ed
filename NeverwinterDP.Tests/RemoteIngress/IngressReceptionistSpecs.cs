using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.RemoteIngress;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.Remote;
using Xunit;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Tests.TestKit;
using Microsoft.Extensions.Time.Testing;

namespace NeverwinterDP.Tests.RemoteIngress;

/// <summary>The node's end of the remote ingress, against a bus the test answers by hand.</summary>
public sealed class IngressReceptionistSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTimeOffset IngressTime = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private readonly BlockingCollection<Submission> _submissions = new();
    private readonly RecordingHeartbeats _heartbeats = new();
    private readonly RemoteIngressMetrics _metrics = new();

    private sealed record Submission(IReadOnlyList<LogEvent> Events, string? Key, TaskCompletionSource<(IngressOutcome, Exception?)> Result);

    private IActorRef Receptionist(RemoteIngressOptions? options = null)
    {
        var contexts = new IngressContexts(new FixedNodeIdentity("node-1"), new FakeTimeProvider(IngressTime), new SourceSequences());
        return Sys.ActorOf(IngressReceptionist.Props((events, key, _) =>
        {
            var s = new Submission(events, key, new TaskCompletionSource<(IngressOutcome, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously));
            _submissions.Add(s);
            return s.Result.Task;
        }, contexts, [_heartbeats], options ?? new RemoteIngressOptions(), _metrics, TimeProvider.System));
    }

    private Submission NextSubmission() =>
        _submissions.TryTake(out var s, TimeSpan.FromSeconds(5)) ? s : throw new TimeoutException("nothing was submitted to the bus");

    private void NoSubmission() => Assert.False(_submissions.TryTake(out _, TimeSpan.FromMilliseconds(200)), "something was submitted");

    private static EmitBatch Batch(long seq, long firstUnacked = 1, int events = 3, string source = "web-1/nginx", string client = "c1") =>
        new(client, source, seq, firstUnacked, Enumerable.Range(0, events).Select(i => new LogEvent { Host = "web-1", Process = "nginx", Message = $"{seq}-{i}" }).ToList());

    [Fact]
    public void Batches_of_a_source_go_to_the_bus_one_at_a_time_in_order_and_are_acknowledged_only_once_durable()
    {
        var r = Receptionist();
        r.Tell(Batch(1), TestActor);
        r.Tell(Batch(2), TestActor);
        var first = NextSubmission();
        Assert.Equal(["1-0", "1-1", "1-2"], first.Events.Select(e => e.Message));
        NoSubmission(); // batch 2 waits behind batch 1
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        first.Result.SetResult((IngressOutcome.Durable, null));
        Assert.Equal(new EmitAck("web-1/nginx", 1, 3), ExpectMsg<EmitAck>());
        var second = NextSubmission();
        Assert.Equal("2-0", second.Events[0].Message);
        second.Result.SetResult((IngressOutcome.Durable, null));
        Assert.Equal(2, ExpectMsg<EmitAck>().BatchSeq);
        Assert.Equal(2, _metrics.BatchesAccepted);
    }

    [Fact]
    public void A_refused_batch_takes_the_batches_waiting_behind_it_along_so_none_overtakes_it()
    {
        var r = Receptionist(new RemoteIngressOptions { RetryAfter = TimeSpan.FromMilliseconds(700) });
        r.Tell(Batch(1), TestActor);
        r.Tell(Batch(2), TestActor);
        r.Tell(Batch(3), TestActor);
        NextSubmission().Result.SetResult((IngressOutcome.Saturated, null));

        var refusals = new[] { ExpectMsg<EmitRefused>(), ExpectMsg<EmitRefused>(), ExpectMsg<EmitRefused>() };
        Assert.Equal([1L, 2L, 3L], refusals.Select(x => x.BatchSeq));
        Assert.All(refusals, x => Assert.False(x.Permanent));
        Assert.All(refusals, x => Assert.Equal(TimeSpan.FromMilliseconds(700), x.RetryAfter));
        Assert.Contains("saturated", refusals[0].Reason);
        NoSubmission();

        // Sent again in order, they go through.
        r.Tell(Batch(1), TestActor);
        NextSubmission().Result.SetResult((IngressOutcome.Durable, null));
        Assert.Equal(1, ExpectMsg<EmitAck>().BatchSeq);
    }

    [Theory]
    [InlineData(IngressOutcome.Stopping, "shutting down")]
    [InlineData(IngressOutcome.Failed, "did not acknowledge")]
    public void Stopping_and_failing_buses_are_refused_for_a_retry(IngressOutcome outcome, string reason)
    {
        var r = Receptionist();
        r.Tell(Batch(1), TestActor);
        NextSubmission().Result.SetResult((outcome, outcome == IngressOutcome.Failed ? new TimeoutException("broker down") : null));
        var refused = ExpectMsg<EmitRefused>();
        Assert.False(refused.Permanent);
        Assert.Contains(reason, refused.Reason);
    }

    [Fact]
    public void A_batch_sent_again_is_written_once_and_acknowledged_each_time()
    {
        var r = Receptionist();
        r.Tell(Batch(1), TestActor);
        var first = NextSubmission();
        r.Tell(Batch(1), TestActor); // resent while in flight
        NoSubmission();
        first.Result.SetResult((IngressOutcome.Durable, null));
        Assert.Equal(1, ExpectMsg<EmitAck>().BatchSeq);
        Assert.Equal(1, ExpectMsg<EmitAck>().BatchSeq);

        r.Tell(Batch(1), TestActor); // resent after it was durable (the ack was lost)
        Assert.Equal(1, ExpectMsg<EmitAck>().BatchSeq);
        NoSubmission();
        Assert.Equal(1, _metrics.BatchesDuplicate);
    }

    [Fact]
    public void A_node_new_to_a_source_continues_from_what_the_client_has_acknowledged()
    {
        var r = Receptionist();
        // Batches 1-4 were acknowledged by another node; this one starts at 5.
        r.Tell(Batch(5, firstUnacked: 5), TestActor);
        NextSubmission().Result.SetResult((IngressOutcome.Durable, null));
        Assert.Equal(5, ExpectMsg<EmitAck>().BatchSeq);
        // A batch that skips one is refused (for a retry), never written out of order.
        r.Tell(Batch(7, firstUnacked: 6), TestActor);
        var refused = ExpectMsg<EmitRefused>();
        Assert.False(refused.Permanent);
        Assert.Contains("out of order", refused.Reason);
        NoSubmission();
    }

    [Fact]
    public void Invalid_batches_are_refused_permanently_naming_the_problem()
    {
        var r = Receptionist(new RemoteIngressOptions { MaxBatchEvents = 5, MaxBatchBytes = 1000 });
        r.Tell(Batch(1, events: 0), TestActor);
        Assert.Contains("empty", ExpectMsg<EmitRefused>(x => x.Permanent).Reason);
        r.Tell(Batch(1, events: 6), TestActor);
        Assert.Contains("max-batch-events", ExpectMsg<EmitRefused>(x => x.Permanent).Reason);
        r.Tell(Batch(1) with { WireBytes = 1001 }, TestActor);
        Assert.Contains("max-batch-bytes", ExpectMsg<EmitRefused>(x => x.Permanent).Reason);
        r.Tell(Batch(2, firstUnacked: 3), TestActor);
        Assert.Contains("batch numbers", ExpectMsg<EmitRefused>(x => x.Permanent).Reason);
        NoSubmission();
    }

    [Fact]
    public void Past_max_batches_in_flight_new_batches_are_refused_not_queued()
    {
        var r = Receptionist(new RemoteIngressOptions { MaxBatchesInFlight = 2, MaxBatchesPerSource = 16 });
        r.Tell(Batch(1, source: "a/p"), TestActor);
        r.Tell(Batch(1, source: "b/p"), TestActor);
        var held = new[] { NextSubmission(), NextSubmission() };
        r.Tell(Batch(1, source: "c/p"), TestActor);
        var refused = ExpectMsg<EmitRefused>();
        Assert.Equal("c/p", refused.SourceId);
        Assert.False(refused.Permanent);
        Assert.Contains("max-batches-in-flight", refused.Reason);
        Assert.Equal(2, _metrics.Held);
        foreach (var s in held) s.Result.SetResult((IngressOutcome.Durable, null));
        ExpectMsg<EmitAck>();
        ExpectMsg<EmitAck>();
        AwaitCondition(() => _metrics.Held == 0);
    }

    [Fact]
    public void Events_are_stamped_as_the_HTTP_ingress_stamps_them()
    {
        var r = Receptionist();
        var withSeq = new LogEvent { Host = "web-1", Process = "nginx", Message = "numbered by the client", Ts = 5, Lineage = new Lineage("", 77) };
        var bare = new LogEvent { Message = "bare" };
        r.Tell(new EmitBatch("c1", "web-1/nginx", 1, 1, [withSeq, bare], Key: "k1"), TestActor);
        var submitted = NextSubmission();
        Assert.Equal("k1", submitted.Key);
        var (a, b) = (submitted.Events[0], submitted.Events[1]);
        Assert.Equal(withSeq with { SystemTs = IngressTime.ToUnixTimeMilliseconds(), Lineage = new Lineage("node-1", 77) }, a);
        Assert.Equal(IngressTime.ToUnixTimeMilliseconds(), b.Ts); // no source time: the ingress time, as for HTTP
        Assert.Equal(IngressTime.ToUnixTimeMilliseconds(), b.SystemTs);
        Assert.Equal((LogEvent.DefaultProcess, LogEvent.DefaultType, LogEvent.DefaultLevel), (b.Process, b.Type, b.Level));
        Assert.Equal(new Lineage("node-1", 1), b.Lineage); // numbered by the node
    }

    [Fact]
    public void Heartbeats_go_to_every_listener_and_a_stopping_node_refuses_new_batches_but_answers_held_ones()
    {
        var r = Receptionist();
        r.Tell(new Heartbeat("web-1", "nginx", 1234, 10_000), TestActor);
        AwaitCondition(() => _heartbeats.Beats.Count == 1);
        Assert.Equal(new SourceHeartbeat("web-1", "nginx", 1234, TimeSpan.FromSeconds(10)), _heartbeats.Beats.Single());

        r.Tell(Batch(1), TestActor);
        var held = NextSubmission();
        r.Tell(IngressReceptionist.StopAccepting.Instance, TestActor);
        ExpectMsg<Akka.Done>();
        r.Tell(Batch(1, source: "other/p"), TestActor);
        Assert.Contains("shutting down", ExpectMsg<EmitRefused>().Reason);
        held.Result.SetResult((IngressOutcome.Durable, null));
        Assert.Equal("web-1/nginx", ExpectMsg<EmitAck>().SourceId);
    }
}
