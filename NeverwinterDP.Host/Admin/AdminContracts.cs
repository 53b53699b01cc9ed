using System.Text.Json.Serialization;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Host.Persistence;

namespace NeverwinterDP.Host.Admin;

// What the admin API answers, and what the nwdp ops verbs read back: one set of records for both sides.
// JSON names are snake_case (see AdminJson); dictionary keys (shard ids) are kept as they are.

/// <summary>One cluster member as this node sees it.</summary>
public sealed record MemberInfo(string Address, IReadOnlyList<string> Roles, string Status, bool Reachable, int UpNumber, bool Leader, bool Self);

/// <summary><c>GET /v1/cluster/members</c>.</summary>
public sealed record MembersResponse(string Self, string? Leader, IReadOnlyList<MemberInfo> Members);

/// <summary><c>GET /v1/cluster/status</c>: this node.</summary>
public sealed record StatusResponse(MemberInfo Node, string? Leader, int Members, int Unreachable, long UptimeSeconds);

/// <summary><c>GET /v1/cluster/leader</c>: the leader, and the leader of each role.</summary>
public sealed record LeaderResponse(string? Leader, IReadOnlyDictionary<string, string?> RoleLeaders);

/// <summary>What a cluster command did (<c>leave</c>, <c>join</c>, <c>down</c>, <c>down-unreachable</c>).</summary>
public sealed record CommandResponse(string Action, IReadOnlyList<string> Addresses, string Message);

/// <summary>One line of <c>GET /v1/cluster/events</c> (NDJSON): MemberJoined, MemberUp, MemberLeft, MemberExited,
/// MemberRemoved, MemberDowned, UnreachableMember, ReachableMember, LeaderChanged, ...</summary>
public sealed record MembershipEvent(string Event, string? Address, IReadOnlyList<string>? Roles, string? Status, long TsMs);

/// <summary>A shard region on this node: its shards and entities here.</summary>
public sealed record RegionInfo(string Type, int Shards, int Entities);

/// <summary><c>GET /v1/sharding/regions</c>.</summary>
public sealed record RegionsResponse(IReadOnlyList<RegionInfo> Regions);

/// <summary><c>GET /v1/sharding/region-stats?type=T</c>: this node's shards of one type, entities per shard.</summary>
public sealed record RegionStatsResponse(string Type, string Address, IReadOnlyDictionary<string, int> Shards, int Entities, IReadOnlyList<string> Failed);

/// <summary>One member's shards of a type (<see cref="ShardStatsResponse"/>).</summary>
public sealed record MemberShards(string Address, IReadOnlyDictionary<string, int> Shards, int Entities, IReadOnlyList<string> Failed);

/// <summary><c>GET /v1/sharding/shard-stats?type=T</c>: the shards of one type across the cluster.</summary>
public sealed record ShardStatsResponse(string Type, IReadOnlyList<MemberShards> Members, int Shards, int Entities);

/// <summary>One actor: its path and its depth under <c>/user</c> or <c>/system</c> (0 for those two).</summary>
public sealed record ActorEntry(string Path, int Depth, int Children);

/// <summary><c>GET /v1/actors?depth=N</c>: the actor tree, depth first, parents before children.</summary>
public sealed record ActorsResponse(int Depth, bool Truncated, IReadOnlyList<ActorEntry> Actors);

/// <summary><c>GET /v1/sources</c>: the sources that answered, and the ids of those that did not (their shard is moving).</summary>
public sealed record SourcesResponse(IReadOnlyList<SourceInfo> Sources, IReadOnlyList<string>? Unavailable = null);

/// <summary><c>GET /v1/watchdog</c>: the hosts that answered, and those that did not (their shard is moving).</summary>
public sealed record WatchdogResponse(IReadOnlyList<HostStatus> Hosts, IReadOnlyList<string>? Unavailable = null);

/// <summary>Every 4xx/5xx of the admin API.</summary>
public sealed record ErrorResponse(string Error);

/// <summary><c>GET /v1/spill/status</c>: the spill backlog per topic and this node's quota.</summary>
/// <param name="RequestsInDoubt">Spilled requests whose records the Kafka producer still holds (<see cref="NeverwinterDP.Actors.Bus.BusWriter.InDoubt"/>): no replay runs until it is 0.</param>
public sealed record SpillStatusResponse(IReadOnlyList<NeverwinterDP.Actors.Spillover.SpillStatus> Topics, long QuotaUsedBytes, long QuotaLimitBytes, bool BusUp,
    long? BusDownSinceMs, int RequestsInDoubt);

/// <summary>
/// <c>GET /v1/spill/check</c>: the state store's integrity now (SQLite's quick_check), what was quarantined at
/// earlier starts, and spilled batches kept aside because their checksum did not match.
/// </summary>
public sealed record SpillCheckResponse(string Provider, string? Store, bool Healthy, string Detail,
    IReadOnlyList<NeverwinterDP.Host.Persistence.StateStoreReport> Quarantines, IReadOnlyList<string> QuarantinedBatches);

/// <summary>
/// <c>GET /v1/stats?type=&amp;host=&amp;since=10m</c>: per minute and (type, process, host), summed over the nodes,
/// lines and bytes per category (normal, error, watchdog and their <c>_spill</c> twins); <c>since</c> is the first minute.
/// </summary>
public sealed record StatsResponse(string Since, IReadOnlyList<NeverwinterDP.Actors.Stats.StatsRow> Rows);

/// <summary>
/// <c>GET /v1/audit?since=1h</c>: per type and minute, accepted, on the bus and delivered per sink with a verdict
/// (ok, lost, duplicated, pending); <c>lost</c> and <c>duplicated</c> count the flagged (minute, type, sink).
/// </summary>
public sealed record AuditResponse(string Since, double SettleTimeS, long Lost, long Duplicated, IReadOnlyList<NeverwinterDP.Actors.Stats.AuditRow> Rows);

/// <summary>One partition of a sink instance's lag (<see cref="LagResponse"/>); <c>committed_offset</c> is -1 when the group never committed there.</summary>
public sealed record PartitionLagInfo(string Topic, int Partition, long CommittedOffset, long EndOffset, long LagRecords, double LagSeconds);

/// <summary>One sink instance's lag: the sum of its partitions' records behind, and the oldest undelivered record's age (their max).</summary>
public sealed record SinkLagInfo(string Sink, string Topics, long LagRecords, double LagSeconds, IReadOnlyList<PartitionLagInfo> Partitions);

/// <summary>
/// <c>GET /v1/lag?sink=S</c>: consumer lag per sink instance, topic and partition, as computed at <c>computed_at_ms</c>
/// (at most every <c>interval_s</c>); <c>error</c> names what Kafka did not answer (the figures may then be partial).
/// </summary>
public sealed record LagResponse(long ComputedAtMs, double IntervalS, string? Error, IReadOnlyList<SinkLagInfo> Sinks);

/// <summary><c>GET /v1/ingress</c>: this node's ingress (counts since it started).</summary>
public sealed record IngressStatusResponse(bool Running, long BytesInFlight, long MaxBytesInFlight, int Queued, long AcceptedEvents, long SpilledEvents, long RefusedRequests);

/// <summary>One sink instance: its health check (cached a few seconds) and the writers of it on this node (delivered and dead-lettered by them).</summary>
public sealed record SinkStatusInfo(string Sink, string Kind, bool Healthy, string? Detail, int WritersHere, int RunningHere, long Delivered, long Rejected);

/// <summary><c>GET /v1/sinks</c>.</summary>
public sealed record SinksStatusResponse(IReadOnlyList<SinkStatusInfo> Sinks);

/// <summary><c>GET /v1/admin/replay</c>: this node's replay jobs, running or saved in its data directory, newest first.</summary>
public sealed record ReplayListResponse(IReadOnlyList<NeverwinterDP.Actors.Replay.ReplayStatus> Jobs);

/// <summary><c>GET /v1/admin/dlq?sink=S</c>: dead letters counted by sink, reason and type.</summary>
public sealed record DlqListResponse(IReadOnlyList<string> Sinks, IReadOnlyList<NeverwinterDP.Actors.Replay.DeadLetterCount> Counts);

/// <summary><c>GET /v1/admin/dlq/{sink}?reason=R&amp;limit=N</c>: the first letters and why.</summary>
public sealed record DlqShowResponse(string Sink, string? Reason, IReadOnlyList<NeverwinterDP.Actors.Replay.DeadLetterEntry> Letters);

/// <summary>One announced hour completion (<see cref="WatermarksResponse"/>): see <see cref="NeverwinterDP.Protocol.HourCompletion"/>.</summary>
public sealed record WatermarkInfo(string Sink, string Topic, long HourMs, string Hour, int Version, string State, string? Reason, long Events,
    IReadOnlyList<long> Counts, IReadOnlyList<string> Nodes, long Delivered, long LateEvents, long AnnouncedAtMs);

/// <summary>
/// <c>GET /v1/watermarks?sink=S&amp;topic=T&amp;all=true</c>: the hour completions this node's pumps announced, the last version of
/// each hour (every version with <c>all</c>), oldest first; <c>enabled</c> is false when <c>nwdp.watermarks.enabled</c> is off.
/// </summary>
public sealed record WatermarksResponse(bool Enabled, bool Pump, IReadOnlyList<WatermarkInfo> Watermarks);

/// <summary>One source partition of a mirror (<see cref="MirrorsResponse"/>); <c>next_offset</c> is -1 when the mirror never committed there.</summary>
public sealed record MirrorPartitionInfo(string Topic, int Partition, string TargetTopic, long NextOffset, long EndOffset, long LagRecords, double LagSeconds);

/// <summary>
/// A mirror as its entity reports it (<see cref="MirrorsResponse"/>, and the answer to pause and resume): <c>state</c> is
/// starting, running, paused, failed, stopping, or unknown (its entity did not answer: moving, or no node hosts it);
/// <c>node</c> the cluster address it runs on; the counts are since it started there.
/// </summary>
public sealed record MirrorStateInfo(string Name, string State, bool Paused, string? Node, long Copied, long Skipped, long Transactions, long Aborted, string? LastError);

/// <summary>One mirror in <c>GET /v1/mirrors</c>: its settings, its entity's state, and its lag (from Kafka) per source partition.</summary>
public sealed record MirrorInfo(string Name, string From, string To, string SourceSite, string TargetSite, string Topics, string TargetTopic,
    MirrorStateInfo Status, long LagRecords, double LagSeconds, IReadOnlyList<MirrorPartitionInfo> Partitions);

/// <summary><c>GET /v1/mirrors</c>: every configured mirror; the lag is computed at most every <c>interval_s</c> (<c>nwdp.mirror.lag-interval</c>).</summary>
public sealed record MirrorsResponse(long ComputedAtMs, double IntervalS, string? Error, IReadOnlyList<MirrorInfo> Mirrors);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MembersResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(LeaderResponse))]
[JsonSerializable(typeof(CommandResponse))]
[JsonSerializable(typeof(MembershipEvent))]
[JsonSerializable(typeof(RegionsResponse))]
[JsonSerializable(typeof(RegionStatsResponse))]
[JsonSerializable(typeof(ShardStatsResponse))]
[JsonSerializable(typeof(ActorsResponse))]
[JsonSerializable(typeof(SourcesResponse))]
[JsonSerializable(typeof(WatchdogResponse))]
[JsonSerializable(typeof(SpillStatusResponse))]
[JsonSerializable(typeof(SpillCheckResponse))]
[JsonSerializable(typeof(StatsResponse))]
[JsonSerializable(typeof(AuditResponse))]
[JsonSerializable(typeof(NeverwinterDP.Actors.Coverage.SummaryReport))]
[JsonSerializable(typeof(NeverwinterDP.Actors.Coverage.KeysReport))]
[JsonSerializable(typeof(NeverwinterDP.Actors.Coverage.ValuesReport))]
[JsonSerializable(typeof(LagResponse))]
[JsonSerializable(typeof(MirrorsResponse))]
[JsonSerializable(typeof(MirrorStateInfo))]
[JsonSerializable(typeof(WatermarksResponse))]
[JsonSerializable(typeof(NeverwinterDP.Actors.Alerts.AlertsView))]
[JsonSerializable(typeof(NeverwinterDP.Actors.Alerts.AlertsReloaded))]
[JsonSerializable(typeof(IngressStatusResponse))]
[JsonSerializable(typeof(SinksStatusResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(NeverwinterDP.Host.Search.SearchResponse))]
[JsonSerializable(typeof(NeverwinterDP.Host.Search.SearchErrorResponse))]
[JsonSerializable(typeof(NeverwinterDP.Actors.Replay.ReplayRequest))]
[JsonSerializable(typeof(NeverwinterDP.Actors.Replay.ReplayStatus))]
[JsonSerializable(typeof(ReplayListResponse))]
[JsonSerializable(typeof(DlqListResponse))]
[JsonSerializable(typeof(DlqShowResponse))]
[JsonSerializable(typeof(NeverwinterDP.Actors.Replay.DeadLetterReplayReport))]
public sealed partial class AdminJson : JsonSerializerContext;
