using Akka.Actor;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Replay;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Host.Admin;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Http;

namespace NeverwinterDP.Host.Dashboard;

/// <summary>
/// Builds the dashboard's snapshots from the services the admin routes use (the same calls, not a copy of them), at most
/// once per <see cref="Interval"/> however many pages are open: every page's event stream shares the latest one. Rates are
/// the difference to the previous snapshot. Dead letters are counted by reading the DLQ topics, so only every
/// <see cref="DeadLetterInterval"/>.
/// </summary>
public sealed class DashboardFeed(
    ActorSystem system,
    NodeConfig config,
    TimeProvider clock,
    BusWriter writer,
    IngressBudget budget,
    StatsCounter stats,
    StatsStore store,
    NodeMetrics metrics,
    SinkCatalog catalog,
    SinkHealthChecks checks,
    LocalPumps pumps,
    ConsumerLag lag,
    SpillWriter spill,
    SpillQuota quota,
    BusCircuit circuit,
    IRegistryQueries registry,
    DeadLetterReplay dlq,
    ReplayJobs replays,
    IServiceProvider services,
    ILogger<DashboardFeed> log)
{
    /// <summary>How often a snapshot is made (and so the most a page receives): once a second.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>A sink whose oldest undelivered record is older than this is shown as lagging (red).</summary>
    public static readonly TimeSpan LaggingAfter = TimeSpan.FromSeconds(60);

    /// <summary>A source that sent nothing for this long is shown as silent.</summary>
    public static readonly TimeSpan SilentAfter = TimeSpan.FromMinutes(5);

    /// <summary>Log types whose coverage summary is shown: the busiest this many of the last hour.</summary>
    public const int CoverageTypes = 10;

    /// <summary>Hour completions shown: the newest of each sink and topic, at most this many.</summary>
    public const int WatermarkRows = 20;

    /// <summary>How often the dead-letter topics are counted.</summary>
    public static readonly TimeSpan DeadLetterInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long one part (a cluster query, a health check) may take before the snapshot goes out without it.</summary>
    private static readonly TimeSpan PartTimeout = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private DashboardSnapshot? _latest;
    private Previous? _previous;
    private long _deadLettersAtMs = long.MinValue;
    private Dictionary<string, long>? _deadLetters;
    private Task? _deadLetterCount;

    private sealed record Previous(long AtMs, long Accepted, IReadOnlyDictionary<string, long> Delivered, IReadOnlyDictionary<string, long> ByType);

    /// <summary>The latest snapshot, made now when the last one is older than <see cref="Interval"/>.</summary>
    public async Task<DashboardSnapshot> GetAsync(CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation);
        try
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            if (_latest is { } latest && now - latest.AtMs < Interval.TotalMilliseconds) return latest;
            _latest = await BuildAsync(now, cancellation);
            return _latest;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<DashboardSnapshot> BuildAsync(long now, CancellationToken cancellation)
    {
        var problems = new List<string>();
        async Task<T?> Part<T>(string name, Func<CancellationToken, Task<T>> read) where T : class
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(PartTimeout);
            try
            {
                return await read(timeout.Token).WaitAsync(PartTimeout, cancellation);
            }
            catch (Exception e) when (!cancellation.IsCancellationRequested)
            {
                lock (problems) problems.Add($"{name}: {e.Message}");
                return null;
            }
        }

        // The parts that ask other members or servers run side by side.
        var sinksTask = Part("sinks", _ => NodeStatusAdmin.SinksStatusAsync(catalog, checks, pumps));
        var lagTask = Part("lag", c => lag.GetAsync(c));
        var spillTask = Part("spill", c => SpillAdmin.StatusOfAsync(spill, quota, circuit, writer, system, config, c));
        var hostsTask = Part("watchdog", registry.ListHostsAsync);
        var sourcesTask = Part("sources", registry.ListSourcesAsync);
        var mirrorBoard = services.GetService<MirrorsAdmin.MirrorBoard>();
        var mirrorsTask = mirrorBoard is { Catalog.Names.Count: > 0 } ? Part("mirrors", c => mirrorBoard.StatusAsync(null, c)) : Task.FromResult<MirrorsResponse?>(null);
        CountDeadLetters(now);

        var ingress = NodeStatusAdmin.IngressStatus(writer, budget, stats, metrics);
        var byType = stats.Totals().GroupBy(t => t.Key.Type, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(t => t.Lines.Sum()), StringComparer.Ordinal);
        var members = ClusterAdmin.MembersOf(system);
        var sinks = await sinksTask;
        var lagReport = await lagTask;
        var spillStatus = await spillTask;
        var hostsListing = await hostsTask;
        var sourcesListing = await sourcesTask;
        if (hostsListing is { Unavailable.Count: > 0 }) problems.Add($"watchdog: {hostsListing.Unavailable.Count} hosts not answering (their shard is moving)");
        if (sourcesListing is { Unavailable.Count: > 0 }) problems.Add($"sources: {sourcesListing.Unavailable.Count} not answering (their shard is moving)");
        var hosts = hostsListing?.Items;
        var sources = sourcesListing?.Items;
        var mirrors = await mirrorsTask;
        if (mirrors?.Error is { } mirrorError) problems.Add($"mirrors: {mirrorError}");
        if (lagReport?.Error is { } lagError) problems.Add($"lag: {lagError}");

        var previous = _previous;
        var seconds = previous is null ? 0 : (now - previous.AtMs) / 1000.0;
        double Rate(long value, long? before) => seconds <= 0 || before is null ? 0 : Math.Round(Math.Max(0, value - before.Value) / seconds, 1);

        var lagBySink = lagReport is null ? null : LagAdmin.Answer(lagReport, catalog, lag.Interval, null).Sinks.ToDictionary(s => s.Sink, StringComparer.Ordinal);
        var deadLetters = Volatile.Read(ref _deadLetters);
        var sinkRows = (sinks?.Sinks ?? []).Select(s =>
        {
            var l = lagBySink?.GetValueOrDefault(s.Sink);
            var state = !s.Healthy ? "failing" : l is not null && l.LagSeconds > LaggingAfter.TotalSeconds ? "lagging" : "ok";
            return new DashboardSink(s.Sink, s.Kind, state, s.Healthy, s.Detail, s.WritersHere, s.RunningHere, s.Delivered,
                Rate(s.Delivered, previous?.Delivered.TryGetValue(s.Sink, out var d) == true ? d : null), s.Rejected, l?.LagRecords ?? 0, l?.LagSeconds ?? 0,
                deadLetters?.GetValueOrDefault(s.Sink));
        }).ToList();

        // The last hour per minute, cluster-wide, as /v1/stats answers it; the minutes without a row are zeros.
        var firstMinute = now - now % 60_000 - 59 * 60_000L;
        var minutes = Enumerable.Range(0, 60).Select(i => firstMinute + i * 60_000L).ToList();
        var perMinute = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var row in store.Stats(firstMinute))
        {
            var slot = (int)((row.MinuteMs - firstMinute) / 60_000);
            if (slot is < 0 or >= 60) continue;
            if (!perMinute.TryGetValue(row.Type, out var series)) perMinute[row.Type] = series = new long[60];
            series[slot] += row.Lines.Values.Sum();
        }
        var types = byType.Keys.Union(perMinute.Keys).Order(StringComparer.Ordinal)
            .Select(t => new DashboardType(t, byType.GetValueOrDefault(t), Rate(byType.GetValueOrDefault(t), previous?.ByType.TryGetValue(t, out var b) == true ? b : null),
                perMinute.TryGetValue(t, out var series) ? series : new long[60]))
            .ToList();

        var topics = spillStatus?.Topics ?? [];
        var oldest = topics.Where(t => t.Events > 0 && t.OldestSpilledAtMs > 0).Select(t => (long?)t.OldestSpilledAtMs).Min();
        var bus = new DashboardBus(circuit.IsUp, circuit.DownSince?.ToUnixTimeMilliseconds(), topics.Sum(t => t.Events), topics.Sum(t => t.Bytes), oldest,
            quota.Used, quota.Limit, writer.InDoubt, topics);
        var sourceRows = (sources ?? []).OrderBy(s => s.SourceId, StringComparer.Ordinal)
            .Select(s => new DashboardSource(s.SourceId, s.Host, s.Process, s.LastSeenMs, s.Events, now - s.LastSeenMs > SilentAfter.TotalMilliseconds))
            .ToList();

        var coverage = Coverage(types, problems);
        var watermarks = services.GetService<Actors.Watermarks.WatermarkHub>()?.Completions(null, null)
            .GroupBy(c => (c.Sink, c.Topic)).Select(g => g.MaxBy(c => (c.HourMs, c.Version))!)
            .OrderByDescending(c => c.HourMs).ThenBy(c => c.Sink, StringComparer.Ordinal).ThenBy(c => c.Topic, StringComparer.Ordinal).Take(WatermarkRows)
            .Select(c => new DashboardWatermark(c.Sink, c.Topic, c.HourText, c.Version, c.State, c.Reason, c.Events, c.AnnouncedAtMs))
            .ToList();
        var replayRows = replays.List().OrderByDescending(r => r.StartedAtMs)
            .Select(r => new DashboardReplay(r.Id, r.Request.Sink ?? (r.Request.ToTopic is { } to ? "topic " + to : ""), r.State, r.Done, r.Total, r.EventsPerSec, r.EtaSeconds, r.Error))
            .ToList();

        _previous = new Previous(now, ingress.AcceptedEvents, (sinks?.Sinks ?? []).ToDictionary(s => s.Sink, s => s.Delivered, StringComparer.Ordinal), byType);
        return new DashboardSnapshot(now, members, new DashboardIngress(ingress, Rate(ingress.AcceptedEvents, previous?.Accepted), metrics.RefusalsByReason),
            bus, sinkRows, lagReport?.ComputedAtMs, hosts ?? [], sourceRows, minutes, types, coverage, watermarks, replayRows, problems,
            mirrors?.Mirrors.Select(m => new DashboardMirror(m.Name, m.SourceSite, m.TargetSite,
                m.Status.State == "running" ? (m.LagSeconds > LaggingAfter.TotalSeconds ? "lagging" : "ok") : m.Status.State,
                m.Status.Node, m.Status.Copied, m.LagRecords, m.LagSeconds, m.Status.LastError)).ToList());
    }

    /// <summary>The coverage summaries of the busiest types of the last hour; null when coverage is off.</summary>
    private List<DashboardCoverage>? Coverage(IReadOnlyList<DashboardType> types, List<string> problems)
    {
        if (!config.Coverage.Enabled || services.GetService<Actors.Coverage.CoverageReporter>() is not { } reporter) return null;
        try
        {
            return types.OrderByDescending(t => t.PerMinute.Sum()).ThenByDescending(t => t.EventsHere).Take(CoverageTypes)
                .Select(t => reporter.Summary(t.Type, TimeSpan.FromHours(1)))
                .Select(s => new DashboardCoverage(s.Type, s.Events, s.ErrorRatio, s.DistinctHosts, s.DistinctSources, s.Keys, s.Unsketched))
                .ToList();
        }
        catch (Exception e)
        {
            lock (problems) problems.Add($"coverage: {e.Message}");
            return null;
        }
    }

    /// <summary>Starts a count of the dead-letter topics in the background when the last is older than <see cref="DeadLetterInterval"/>.</summary>
    private void CountDeadLetters(long now)
    {
        if (_deadLetterCount is { IsCompleted: false } || now - _deadLettersAtMs < DeadLetterInterval.TotalMilliseconds) return;
        _deadLettersAtMs = now;
        _deadLetterCount = Task.Run(() =>
        {
            try
            {
                var counts = dlq.Count(catalog.Names);
                Volatile.Write(ref _deadLetters, catalog.Names.ToDictionary(n => n, n => counts.Where(c => c.Sink == n).Sum(c => c.Count), StringComparer.Ordinal));
            }
            catch (Exception e)
            {
                log.LogWarning(e, "dashboard: counting the dead-letter topics failed");
            }
        });
    }
}
