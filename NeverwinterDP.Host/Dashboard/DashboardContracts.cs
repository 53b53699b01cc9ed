using System.Text.Json.Serialization;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Dashboard;

// What the dashboard page receives on /ui/events (one JSON object per server-sent event). Built from the same
// answers the admin API gives (members, ingress, sinks, lag, spill status, watchdog, stats); rates are the
// difference between two snapshots. JSON names are snake_case, as the admin API's.

/// <summary>This node's ingress: the <c>GET /v1/ingress</c> figures, the rate since the last snapshot, and refusals by reason.</summary>
public sealed record DashboardIngress(IngressStatusResponse Status, double EventsPerSecond, IReadOnlyDictionary<string, long> RefusalsByReason);

/// <summary>
/// The bus as this node sees it: up or down (the circuit), what waits in the spillover store, and how many spilled
/// requests the Kafka producer still holds (<c>RequestsInDoubt</c>: replays wait until it is 0).
/// </summary>
public sealed record DashboardBus(bool Up, long? DownSinceMs, long SpilledEvents, long SpilledBytes, long? OldestSpilledAtMs, long QuotaUsedBytes, long QuotaLimitBytes,
    int RequestsInDoubt, IReadOnlyList<NeverwinterDP.Actors.Spillover.SpillStatus> Topics);

/// <summary>
/// One sink instance: its health and this node's writers (<c>GET /v1/sinks</c>), delivered per second here, its lag
/// (<c>GET /v1/lag</c>) and its dead letters (<c>GET /v1/admin/dlq</c>, every topic of it); <c>state</c> is ok,
/// lagging (lag above <see cref="DashboardFeed.LaggingAfter"/>) or failing (its health check fails).
/// </summary>
public sealed record DashboardSink(string Sink, string Kind, string State, bool Healthy, string? Detail, int WritersHere, int RunningHere, long Delivered,
    double DeliveredPerSecond, long DeadLetteredHere, long LagRecords, double LagSeconds, long? DeadLetters);

/// <summary>
/// One mirror of <c>nwdp.mirrors</c> (<c>GET /v1/mirrors</c>): <c>state</c> is ok, lagging (its oldest record not copied is
/// older than <see cref="DashboardFeed.LaggingAfter"/>), paused, or what its entity says when it does not run (starting,
/// failed, unknown); <c>node</c> where it runs; <c>copied</c> since it started there.
/// </summary>
public sealed record DashboardMirror(string Name, string SourceSite, string TargetSite, string State, string? Node, long Copied, long LagRecords, double LagSeconds, string? LastError);

/// <summary>A source and whether it is silent (nothing for <see cref="DashboardFeed.SilentAfter"/>).</summary>
public sealed record DashboardSource(string SourceId, string Host, string Process, long LastSeenMs, long Events, bool Silent);

/// <summary>
/// One log type: what this node made durable since it started and the rate now (live), and per minute over the last hour
/// for the whole cluster (<c>GET /v1/stats</c>, published once a minute has settled: the last minutes fill in late).
/// </summary>
public sealed record DashboardType(string Type, long EventsHere, double EventsPerSecond, IReadOnlyList<long> PerMinute);

/// <summary>
/// One log type's coverage summary of the last hour, cluster-wide (<c>nwdp report summary --type T --since 1h</c>): events,
/// error ratio, distinct hosts and sources (estimates), attribute keys, and the events counted but not sketched.
/// </summary>
public sealed record DashboardCoverage(string Type, long Events, double ErrorRatio, long DistinctHosts, long DistinctSources, int Keys, long Unsketched);

/// <summary>The newest hour completion per sink and topic (<c>nwdp watermarks</c>): complete, or closed incomplete and why.</summary>
public sealed record DashboardWatermark(string Sink, string Topic, string Hour, int Version, string State, string? Reason, long Events, long AnnouncedAtMs);

/// <summary>A replay job of this node (<c>nwdp replay</c>): its state and progress.</summary>
public sealed record DashboardReplay(string Id, string Sink, string State, long Done, long Total, double EventsPerSecond, double? EtaSeconds, string? Error);

/// <summary>One update of the dashboard. <c>problems</c> names what could not be read this time (the rest is current).</summary>
public sealed record DashboardSnapshot(
    long AtMs,
    MembersResponse Cluster,
    DashboardIngress Ingress,
    DashboardBus Bus,
    IReadOnlyList<DashboardSink> Sinks,
    long? LagComputedAtMs,
    IReadOnlyList<HostStatus> Hosts,
    IReadOnlyList<DashboardSource> Sources,
    IReadOnlyList<long> Minutes,
    IReadOnlyList<DashboardType> Types,
    IReadOnlyList<DashboardCoverage>? Coverage,
    IReadOnlyList<DashboardWatermark>? Watermarks,
    IReadOnlyList<DashboardReplay> Replays,
    IReadOnlyList<string> Problems,
    IReadOnlyList<DashboardMirror>? Mirrors = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DashboardSnapshot))]
public sealed partial class DashboardJson : JsonSerializerContext;
