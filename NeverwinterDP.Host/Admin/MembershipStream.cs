using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// <c>GET /v1/cluster/events</c>: membership events as NDJSON, one line each, flushed as they happen, starting
/// with the current state (a MemberUp/MemberJoined/... line per member, unreachable ones, the leader). Ends
/// when the client goes away or the node stops.
/// </summary>
public static class MembershipStream
{
    /// <summary>Events a slow client may fall behind by before its stream is ended.</summary>
    private const int Buffer = 4096;

    public static async Task StreamAsync(HttpContext http, ActorSystem system, IHostApplicationLifetime lifetime)
    {
        var channel = Channel.CreateBounded<ClusterEvent.IClusterDomainEvent>(new BoundedChannelOptions(Buffer) { SingleReader = true });
        var subscriber = system.ActorOf(Props.Create(() => new Subscriber(channel.Writer)));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            http.Response.ContentType = "application/x-ndjson";
            http.Response.Headers.CacheControl = "no-cache";
            await http.Response.StartAsync(stop.Token);
            await foreach (var e in channel.Reader.ReadAllAsync(stop.Token))
            {
                if (ToLine(e) is not { } line) continue;
                await http.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(line, AdminJson.Default.MembershipEvent), stop.Token);
                await http.Response.Body.WriteAsync("\n"u8.ToArray(), stop.Token);
                await http.Response.Body.FlushAsync(stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The client left or the node stops: the stream just ends.
        }
        catch (ChannelClosedException)
        {
            // Fell more than Buffer events behind: end the stream rather than grow without bound.
        }
        finally
        {
            system.Stop(subscriber);
        }
    }

    public static MembershipEvent? ToLine(ClusterEvent.IClusterDomainEvent e)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        MembershipEvent Member(string name, Member m) =>
            new(name, m.Address.ToString(), m.Roles.Where(r => !r.StartsWith("dc-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList(), m.Status.ToString(), now);
        return e switch
        {
            ClusterEvent.IMemberEvent m => Member(e.GetType().Name, m.Member),
            ClusterEvent.UnreachableMember u => Member("UnreachableMember", u.Member),
            ClusterEvent.ReachableMember r => Member("ReachableMember", r.Member),
            ClusterEvent.LeaderChanged l => new MembershipEvent("LeaderChanged", l.Leader?.ToString(), null, null, now),
            _ => null,
        };
    }

    /// <summary>Subscribes to the cluster's events for as long as it lives and hands them to the stream.</summary>
    private sealed class Subscriber(ChannelWriter<ClusterEvent.IClusterDomainEvent> events) : UntypedActor
    {
        protected override void PreStart() =>
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));

        protected override void PostStop()
        {
            Cluster.Get(Context.System).Unsubscribe(Self);
            events.TryComplete();
        }

        protected override void OnReceive(object message)
        {
            if (message is ClusterEvent.IClusterDomainEvent e && !events.TryWrite(e))
                events.TryComplete(new ChannelClosedException("the client reads too slowly"));
        }
    }
}
