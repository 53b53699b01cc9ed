using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Registry;

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

/// <summary>A host as the watchdog knows it: online while heartbeats (or events) keep arriving before the deadline.</summary>
public sealed record HostStatus(string Host, bool Online, long LastHeartbeatMs, long DeadlineMs, long ChangedAtMs, IReadOnlyList<string> Processes) : INodeMessage
{
    public static string Manifest => "W6";
}

/// <summary>A heartbeat of one source process (from an EmitterClient or <c>POST /v1/heartbeats</c>).</summary>
public sealed record SourceHeartbeat(string Host, string Process, long TsMs, TimeSpan? Interval = null);

/// <summary>Takes heartbeats to the watchdog; must not block.</summary>
public interface IHeartbeatListener
{
    void Heartbeat(SourceHeartbeat heartbeat);
}

/// <summary>What the ops verbs <c>nwdp sources</c> and <c>nwdp watchdog</c> read.</summary>
public interface IRegistryQueries
{
    Task<IReadOnlyList<SourceInfo>> SourcesAsync(CancellationToken cancellation);

    Task<IReadOnlyList<HostStatus>> HostsAsync(CancellationToken cancellation);
}
