using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Registry;

/// <summary>A message for one sharded registry entity (emitter: <c>host/process</c>; watchdog: host).</summary>
public interface IRegistryEnvelope
{
    string EntityId { get; }
}

/// <summary>
/// What ingress accepted from one source since the last report (aggregated per node, sent about once a second).
/// Also the emitter's journal event: facts about accepted events, applied by adding.
/// </summary>
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
    long LastSourceSeq) : IRegistryEnvelope, INodeMessage
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

/// <summary>Asks an emitter for its <see cref="SourceInfo"/> (answers <see cref="SourceUnknown"/> if it never saw an event).</summary>
public sealed record GetSource(string SourceId) : IRegistryEnvelope, INodeMessage
{
    public static string Manifest => "E3";

    public string EntityId => SourceId;
}

public sealed record SourceUnknown(string SourceId) : INodeMessage
{
    public static string Manifest => "E5";
}

/// <summary>A sign of life of one process on a host (a heartbeat, or accepted events) for the watchdog.</summary>
public sealed record HostBeat(string Host, string Process, long TsMs, long IntervalMs, bool IsHeartbeat) : IRegistryEnvelope, INodeMessage
{
    public static string Manifest => "W1";

    public string EntityId => Host;
}

/// <summary>Asks a watchdog entity for its <see cref="HostStatus"/>.</summary>
public sealed record GetHostStatus(string Host) : IRegistryEnvelope, INodeMessage
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
