using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Actors.Watchdog;

namespace NeverwinterDP.Actors.Emitter;

/// <summary>
/// What ingress accepted from one source since the last report (aggregated per node, sent about once a second).
/// Also the emitter's journal event: facts about accepted events, applied by adding.
/// </summary>
/// <param name="Reporter">The node incarnation that sent it (its registry's id; null in journals written before reports were acknowledged).</param>
/// <param name="ReportSeq">Increasing per reporter: the emitter applies a report once (a report sent again after a lost
/// acknowledgement, or to a node that died before it answered, is acknowledged and not added twice).</param>
public sealed record SourceActivity(
    string SourceId,
    string Host,
    string Process,
    long FirstSeenMs,
    long LastSeenMs,
    string Version,
    Dictionary<string, long> EventsByType,
    long Events,
    long Bytes,
    long LastSourceSeq,
    string? Reporter = null,
    long ReportSeq = 0) : IShardedMessage, INodeMessage
{
    public static string Manifest => "E1";

    public string EntityId => SourceId;

    /// <summary>This activity and <paramref name="more"/> of the same source summed (counts added, first/last widened, newest version kept).</summary>
    public SourceActivity Plus(SourceActivity more)
    {
        var types = new Dictionary<string, long>(EventsByType);
        foreach (var (type, n) in more.EventsByType) types[type] = types.GetValueOrDefault(type) + n;
        return this with
        {
            FirstSeenMs = Math.Min(FirstSeenMs, more.FirstSeenMs),
            LastSeenMs = Math.Max(LastSeenMs, more.LastSeenMs),
            Version = string.IsNullOrEmpty(more.Version) ? Version : more.Version,
            EventsByType = types,
            Events = Events + more.Events,
            Bytes = Bytes + more.Bytes,
            LastSourceSeq = Math.Max(LastSourceSeq, more.LastSourceSeq),
        };
    }
}

/// <summary>The emitter applied (or had applied) the report <paramref name="ReportSeq"/> of <paramref name="Reporter"/>.</summary>
public sealed record SourceActivityAck(string SourceId, string Reporter, long ReportSeq) : INodeMessage
{
    public static string Manifest => "E6";
}

/// <summary>Asks an emitter for its <see cref="SourceInfo"/> (answers <see cref="SourceUnknown"/> if it never saw an event).</summary>
public sealed record GetSource(string SourceId) : IShardedMessage, INodeMessage
{
    public static string Manifest => "E3";

    public string EntityId => SourceId;
}

public sealed record SourceUnknown(string SourceId) : INodeMessage
{
    public static string Manifest => "E5";
}

/// <summary>A source (<c>host/process</c>) as the emitter registry knows it.</summary>
public sealed record SourceInfo(
    string SourceId,
    string Host,
    string Process,
    long FirstSeenMs,
    long LastSeenMs,
    string Version,
    IReadOnlyDictionary<string, long> EventsByType,
    long Events,
    long Bytes,
    long LastSourceSeq) : INodeMessage
{
    public static string Manifest => "E4";
}

/// <summary>
/// What a listing of sharded entities found: the answers, and the ids of the entities that did not answer within the
/// ask timeout (their shard is on a member that crashed and is not removed yet, or is moving).
/// </summary>
public sealed record RegistryListing<T>(IReadOnlyList<T> Items, IReadOnlyList<string> Unavailable)
{
    /// <summary>All the items, or a <see cref="TimeoutException"/> naming those that did not answer (for callers that decide on whole data only).</summary>
    public IReadOnlyList<T> Whole(string what) => Unavailable.Count == 0 ? Items
        : throw new TimeoutException($"{Unavailable.Count} {what} did not answer in time (their shard is on a member that is down or moving): {string.Join(", ", Unavailable.Take(5))}{(Unavailable.Count > 5 ? ", ..." : "")}");
}

/// <summary>What the ops verbs <c>nwdp sources</c> and <c>nwdp watchdog</c>, the dashboard and the alerts read.</summary>
public interface IRegistryQueries
{
    /// <summary>Every source that answered, and those that did not (a partial answer beats none while a shard moves).</summary>
    Task<RegistryListing<SourceInfo>> ListSourcesAsync(CancellationToken cancellation);

    /// <summary>Every host the watchdog tracks that answered, and those that did not.</summary>
    Task<RegistryListing<HostStatus>> ListHostsAsync(CancellationToken cancellation);
}

public static class RegistryQueries
{
    /// <summary>Every source, or a <see cref="TimeoutException"/> when one did not answer.</summary>
    public static async Task<IReadOnlyList<SourceInfo>> SourcesAsync(this IRegistryQueries registry, CancellationToken cancellation) =>
        (await registry.ListSourcesAsync(cancellation).ConfigureAwait(false)).Whole("sources");

    /// <summary>Every host, or a <see cref="TimeoutException"/> when one did not answer.</summary>
    public static async Task<IReadOnlyList<HostStatus>> HostsAsync(this IRegistryQueries registry, CancellationToken cancellation) =>
        (await registry.ListHostsAsync(cancellation).ConfigureAwait(false)).Whole("hosts");
}
