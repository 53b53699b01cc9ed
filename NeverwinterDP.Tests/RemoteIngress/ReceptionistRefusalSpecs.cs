using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.RemoteIngress;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.Remote;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.RemoteIngress;

/// <summary>The Akka-remote ingress refuses for good what the bus can never take, and the source goes on.</summary>
public sealed class ReceptionistRefusalSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly BlockingCollection<(IReadOnlyList<LogEvent> Events, TaskCompletionSource<(IngressOutcome, Exception?)> Result)> _submissions = new();

    private IActorRef Receptionist()
    {
        var contexts = new IngressContexts(new FixedNodeIdentity("node-1"), new ManualClock(DateTimeOffset.UtcNow), new SourceSequences());
        return Sys.ActorOf(IngressReceptionist.Props((events, _, _) =>
        {
            var result = new TaskCompletionSource<(IngressOutcome, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously);
            _submissions.Add((events, result));
            return result.Task;
        }, contexts, [], new RemoteIngressOptions(), new RemoteIngressMetrics(), TimeProvider.System));
    }

    private static EmitBatch Batch(long seq) =>
        new("c1", "web-1/nginx", seq, 1, Enumerable.Range(0, 3).Select(i => new LogEvent { Host = "web-1", Process = "nginx", Message = $"{seq}-{i}" }).ToList());

    private TaskCompletionSource<(IngressOutcome, Exception?)> Next() =>
        _submissions.TryTake(out var s, TimeSpan.FromSeconds(5)) ? s.Result : throw new TimeoutException("nothing was submitted");

    [Fact]
    public void A_batch_with_an_event_larger_than_the_bus_accepts_is_refused_permanently_and_the_next_batch_is_taken()
    {
        var r = Receptionist();
        r.Tell(Batch(1), TestActor);
        r.Tell(Batch(2), TestActor);
        Next().SetResult((IngressOutcome.Refused, new EventTooLargeException(1, 1_500_000, 1_000_000)));
        var refused = ExpectMsg<EmitRefused>();
        Assert.True(refused.Permanent);
        Assert.Equal(1, refused.BatchSeq);
        Assert.Equal("event 2 of batch 1: event of 1500000 bytes exceeds the bus limit of 1000000", refused.Reason);

        // Batch 2 waited behind it: it goes to the bus now (not refused as out of order).
        Next().SetResult((IngressOutcome.Durable, null));
        Assert.Equal(2, ExpectMsg<EmitAck>().BatchSeq);
        r.Tell(Batch(3), TestActor);
        Next().SetResult((IngressOutcome.Durable, null));
        Assert.Equal(3, ExpectMsg<EmitAck>().BatchSeq);

        // Batch 1 sent again (its refusal lost): refused again, never acknowledged as if it were durable.
        r.Tell(Batch(1), TestActor);
        var again = ExpectMsg<EmitRefused>();
        Assert.True(again.Permanent);
        Assert.Equal(refused.Reason, again.Reason);
    }
}
