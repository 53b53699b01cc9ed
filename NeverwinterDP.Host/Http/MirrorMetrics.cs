using System.Globalization;
using NeverwinterDP.Actors.Mirror;
using Prometheus;

namespace NeverwinterDP.Host.Http;

/// <summary>
/// The mirrors' series of <c>/metrics</c>, in the node's registry, only when mirrors are configured: their lag per source
/// partition (read from Kafka, the same on every node, like the sinks' lag) and the counters of the mirrors running on
/// this node (a mirror that moves counts on its new node from there).
/// </summary>
public sealed class MirrorMetrics
{
    private static readonly string[] CounterNames = ["copied", "skipped", "transactions", "aborted"];

    private readonly MirrorLag _lag;
    private readonly LocalMirrors _local;
    private readonly Gauge _lagRecords;
    private readonly Gauge _lagSeconds;
    private readonly Gauge _nextOffset;
    private readonly Gauge _endOffset;
    private readonly Gauge _paused;
    private readonly Counter[] _counters;
    private readonly object _gate = new();
    private readonly Dictionary<MirrorRun, long[]> _seen = new(ReferenceEqualityComparer.Instance);
    private HashSet<(string Mirror, string Topic, string Partition)> _series = [];

    public MirrorMetrics(NodeMetrics metrics, MirrorLag lag, LocalMirrors local, MirrorCatalog catalog)
    {
        _lag = lag;
        _local = local;
        if (catalog.Names.Count == 0)
        {
            // No mirror configured: /metrics stays as it was.
            (_lagRecords, _lagSeconds, _nextOffset, _endOffset, _paused, _counters) = (null!, null!, null!, null!, null!, []);
            return;
        }
        var factory = Metrics.WithCustomRegistry(metrics.Registry);
        string[] partition = ["mirror", "topic", "partition"];
        _lagRecords = factory.CreateGauge("nwdp_mirror_lag_records", "Records of the source topic partition the mirror has not copied yet (end offset minus its committed position).", partition);
        _lagSeconds = factory.CreateGauge("nwdp_mirror_lag_seconds", "Age of the oldest record of the source partition the mirror has not copied (now minus its timestamp); 0 when caught up.", partition);
        _nextOffset = factory.CreateGauge("nwdp_mirror_next_offset", "The next source offset the mirror copies on the partition (its position committed on the target; -1: never committed).", partition);
        _endOffset = factory.CreateGauge("nwdp_mirror_end_offset", "End offset (high watermark) of the source partition.", partition);
        _paused = factory.CreateGauge("nwdp_mirror_paused", "1 while the mirror is paused (its flag on the target), else 0.", "mirror");
        _counters = CounterNames.Select(n => factory.CreateCounter($"nwdp_mirror_{n}_total",
            n switch
            {
                "copied" => "Records the mirror copied into the target (committed), while it ran on this node.",
                "skipped" => "Records the mirror did not copy because they came through the target site (loop prevention), while it ran on this node.",
                "transactions" => "Transactions the mirror committed on the target, while it ran on this node.",
                _ => "Transactions the mirror aborted (their records are read again), while it ran on this node.",
            }, "mirror")).ToArray();
        foreach (var name in catalog.Names)
        {
            foreach (var c in _counters) c.WithLabels(name); // exported from the start, at 0
            _paused.WithLabels(name).Set(0);
        }
        metrics.Registry.AddBeforeCollectCallback(RefreshCounters);
        metrics.Registry.AddBeforeCollectCallback(RefreshLagAsync);
    }

    private void RefreshCounters()
    {
        lock (_gate)
        {
            var live = _local.All;
            foreach (var run in live)
            {
                var (copied, skipped, transactions, aborts) = run.Counters;
                long[] now = [copied, skipped, transactions, aborts];
                var before = _seen.TryGetValue(run, out var b) ? b : new long[now.Length];
                for (var i = 0; i < now.Length; i++)
                    if (now[i] > before[i]) _counters[i].WithLabels(run.Name).Inc(now[i] - before[i]);
                _seen[run] = now;
            }
            foreach (var gone in _seen.Keys.Where(k => !live.Contains(k)).ToList()) _seen.Remove(gone);
        }
    }

    private async Task RefreshLagAsync(CancellationToken cancellation)
    {
        MirrorLagReport report;
        try
        {
            report = await _lag.GetAsync(cancellation).WaitAsync(TimeSpan.FromSeconds(15), cancellation);
        }
        catch (Exception e) when (e is TimeoutException or ObjectDisposedException or OperationCanceledException)
        {
            return; // the last figures stay
        }
        foreach (var (name, paused) in report.Paused) _paused.WithLabels(name).Set(paused ? 1 : 0);
        var now = new HashSet<(string, string, string)>();
        foreach (var p in report.Partitions)
        {
            var part = p.Partition.ToString(CultureInfo.InvariantCulture);
            now.Add((p.Mirror, p.Topic, part));
            _lagRecords.WithLabels(p.Mirror, p.Topic, part).Set(p.LagRecords);
            _lagSeconds.WithLabels(p.Mirror, p.Topic, part).Set(p.LagSeconds);
            _nextOffset.WithLabels(p.Mirror, p.Topic, part).Set(p.Next);
            _endOffset.WithLabels(p.Mirror, p.Topic, part).Set(p.EndOffset);
        }
        if (report.Error is not null && report.Partitions.Count == 0) return;
        lock (_gate)
        {
            foreach (var (mirror, topic, part) in _series.Where(s => !now.Contains(s)))
                foreach (var gauge in new[] { _lagRecords, _lagSeconds, _nextOffset, _endOffset }) gauge.RemoveLabelled(mirror, topic, part);
            _series = now;
        }
    }
}
