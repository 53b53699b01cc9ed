using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Watchdog;

/// <summary>A sign of life of one process on a host (a heartbeat, or accepted events) for the watchdog.</summary>
public sealed record HostBeat(string Host, string Process, long TsMs, long IntervalMs, bool IsHeartbeat) : IShardedMessage, INodeMessage
{
    public static string Manifest => "W1";

    public string EntityId => Host;
}

/// <summary>Asks a watchdog entity for its <see cref="HostStatus"/>.</summary>
public sealed record GetHostStatus(string Host) : IShardedMessage, INodeMessage
{
    public static string Manifest => "W5";

    public string EntityId => Host;
}

public sealed record HostUnknown(string Host) : INodeMessage
{
    public static string Manifest => "W7";
}

/// <summary>Journal events of the watchdog entity.</summary>
public sealed record HostBeatRecorded(string Process, long TsMs, long IntervalMs) : INodeMessage
{
    public static string Manifest => "W2";
}

public sealed record HostWentOnline(long AtMs) : INodeMessage
{
    public static string Manifest => "W3";
}

public sealed record HostWentOffline(long AtMs, long LastBeatMs) : INodeMessage
{
    public static string Manifest => "W4";
}

/// <summary>An online/offline transition, as published on <c>nwdp.watchdog</c>.</summary>
public sealed record WatchdogTransition(string Host, bool Online, long AtMs, long LastBeatMs, IReadOnlyList<string> Processes);

/// <summary>Publishes watchdog transitions (to the <c>nwdp.watchdog</c> topic); must not block.</summary>
public interface IWatchdogPublisher
{
    void Publish(WatchdogTransition transition);
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
