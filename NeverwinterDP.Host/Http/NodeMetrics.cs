using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Stats;
using Prometheus;

namespace NeverwinterDP.Host.Http;

/// <summary>
/// The node's Prometheus metrics (<c>GET /metrics</c>), in a registry of its own (not prometheus-net's static
/// one), so nodes in one process keep apart. Event and sink counters are read from their owners at scrape time.
/// </summary>
public sealed class NodeMetrics
{
    private static readonly string[] SinkCounterNames = ["delivered", "dead_lettered", "errored", "retries", "batches", "flushes"];

    private readonly StatsCounter _stats;
    private readonly Counter _flowFlushes;
    private readonly Counter _flowRecords;
    private readonly LocalPumps _pumps;
    private readonly Counter _events;
    private readonly Counter _bytes;
    private readonly Counter _dropped;
    private readonly Counter _accepted;
    private readonly Counter _spilled;
    private readonly Counter _heartbeats;
    private readonly Counter _requests;
    private readonly Counter _refusals;
    private readonly Gauge _bytesInFlight;
    private readonly Counter _syslogMessages;
    private readonly Counter _syslogBroken;
    private readonly Counter _zeroMqBatches;
    private readonly Counter _zeroMqEvents;
    private readonly IngressBudget? _budget;
    private readonly Actors.Bus.BusWriter? _bus;
    private readonly Gauge _inDoubt;
    private readonly Counter[] _sink;
    private readonly object _sinkGate = new();
    // Pumps come and go (hand-off, restart) with fresh counters: what each added since the last scrape is summed.
    private readonly Dictionary<SinkMetrics, long[]> _seen = new(ReferenceEqualityComparer.Instance);
    private readonly ConsumerLag? _lag;
    private readonly Gauge _lagRecords;
    private readonly Gauge _lagSeconds;
    private readonly Gauge _committedOffset;
    private readonly Gauge _endOffset;
    private HashSet<(string Sink, string Topic, string Partition)> _lagSeries = [];
    private long _refused;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _refusedBy = new(StringComparer.Ordinal);

    public NodeMetrics(StatsCounter stats, LocalPumps pumps, IngressBudget? budget = null, ConsumerLag? lag = null, Actors.Bus.BusWriter? bus = null)
    {
        _stats = stats;
        _pumps = pumps;
        _budget = budget;
        _bus = bus;
        _lag = lag;
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        string[] series = ["type", "process", "host", "category"];
        _events = factory.CreateCounter("nwdp_events_total", "Events ingress made durable, per log type, process, host and category (normal, error, watchdog and their _spill twins); heartbeats count as watchdog lines of type heartbeat.", series);
        _bytes = factory.CreateCounter("nwdp_event_bytes_total", "UTF-8 bytes of the messages of those events.", series);
        _dropped = factory.CreateCounter("nwdp_stats_dropped_total", "Events not counted per minute because their minute was past nwdp.stats.retention.");
        _flowFlushes = factory.CreateCounter("nwdp_stats_flushes_total",
            "Flushes of the audit counts (accepted, bus, delivered) to nwdp.stats ahead of the minute: ingress waits for one before it answers, a pump before it commits; concurrent requests share one.");
        _flowRecords = factory.CreateCounter("nwdp_stats_flush_records_total", "nwdp.stats records those flushes produced.");
        _accepted = factory.CreateCounter("nwdp_ingress_events_accepted_total", "Events ingress made durable (in Kafka or spilled).");
        _spilled = factory.CreateCounter("nwdp_ingress_events_spilled_total", "Events ingress wrote to the spillover store.");
        _heartbeats = factory.CreateCounter("nwdp_ingress_heartbeats_total", "Heartbeats received.");
        _requests = factory.CreateCounter("nwdp_ingress_requests_total", "Ingress requests (POST /v1/events and the other inputs: /v1/fluent-bit, Splunk HEC) by outcome (accepted, refused) and HTTP status.", "outcome", "status");
        _refusals = factory.CreateCounter("nwdp_ingress_refusals_total",
            "Ingress requests (every input) refused, by reason: body_too_large, unsupported_content_type, unsupported_content_encoding, invalid_gzip, " +
            "malformed, too_many_events, event_too_large, bus_refused, bytes_in_flight, saturated, stopping, bus_failed, spill_full, body_too_slow, bad_framing, unauthorized, forbidden_type, rate_limit, rate_limited, invalid_typed_field, unknown_schema, schema_not_accepted, invalid_schema.", "reason");
        _bytesInFlight = factory.CreateGauge("nwdp_ingress_bytes_in_flight",
            "Bytes the HTTP ingress requests being handled hold of nwdp.ingress.max-bytes-in-flight (read, inflated, parsed, waiting for Kafka).");
        _inDoubt = factory.CreateGauge("nwdp_ingress_requests_in_doubt",
            "Requests answered (spilled) after nwdp.spill.after whose records are still with the Kafka producer, until it acknowledges them or gives up (message.timeout.ms); while there are any, spill replays wait and new requests spill at once.");
        _syslogMessages = factory.CreateCounter("nwdp_syslog_messages_total",
            "Syslog and RELP messages by listener (tcp, tls, udp, relp) and outcome: accepted (durable), refused (malformed, or refused by the bus; RELP answered 500), dropped (UDP: too large).", "listener", "outcome");
        _syslogBroken = factory.CreateCounter("nwdp_syslog_connections_closed_total",
            "Syslog and RELP connections the node closed, by listener and reason: bad_framing, too_many_connections.", "listener", "reason");
        _zeroMqBatches = factory.CreateCounter("nwdp_zeromq_batches_total",
            "ZeroMQ batches by outcome: accepted (durable, answered 200), duplicate (resent after it was durable, answered 200 again), or the refusal's reason (malformed, body_too_large, saturated, ...).", "outcome");
        _zeroMqEvents = factory.CreateCounter("nwdp_zeromq_events_total", "Events of ZeroMQ batches made durable.");
        _sink = SinkCounterNames.Select(n => factory.CreateCounter($"nwdp_sink_{n}_total", $"Sink records {n.Replace('_', '-')} (per sink instance; summed over its writers on this node).", "sink")).ToArray();
        string[] partition = ["sink", "topic", "partition"];
        _lagRecords = factory.CreateGauge("nwdp_sink_lag_records", "Records of the topic partition the sink instance's consumer group has not committed (end offset minus committed offset).", partition);
        _lagSeconds = factory.CreateGauge("nwdp_sink_lag_seconds", "Age of the oldest record the sink instance has not committed on the partition (now minus its timestamp); 0 when caught up.", partition);
        _committedOffset = factory.CreateGauge("nwdp_sink_committed_offset", "Offset the sink instance's consumer group committed on the partition (-1: never committed).", partition);
        _endOffset = factory.CreateGauge("nwdp_sink_end_offset", "End offset (high watermark) of the partition.", partition);
        Registry.AddBeforeCollectCallback(Refresh);
        if (lag is not null) Registry.AddBeforeCollectCallback(RefreshLagAsync);
    }

    /// <summary>Ingress requests refused since the node started (every input), for <c>nwdp check ingress</c>.</summary>
    public long RefusedRequests => Interlocked.Read(ref _refused);

    /// <summary>Ingress requests refused since the node started, by the reason the endpoint named (<c>nwdp_ingress_refusals_total</c>), for the dashboard.</summary>
    public IReadOnlyDictionary<string, long> RefusalsByReason => new SortedDictionary<string, long>(_refusedBy, StringComparer.Ordinal);

    public CollectorRegistry Registry { get; }

    /// <summary>Counts one answered ingress request; a refusal also by its <paramref name="reason"/> (when the endpoint named one).</summary>
    public void IngressRequest(int status, string? reason = null)
    {
        _requests.WithLabels(status is >= 200 and < 300 ? "accepted" : "refused", status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        if (reason is not null && status >= 400)
        {
            _refusals.WithLabels(reason).Inc();
            _refusedBy.AddOrUpdate(reason, 1, (_, n) => n + 1);
        }
        if (status is < 200 or >= 300) Interlocked.Increment(ref _refused);
    }

    /// <summary>The lag gauges from the last lag report (computed at most every <c>nwdp.pump.lag-interval</c>); a scrape waits for at most the lag's own timeouts.</summary>
    private async Task RefreshLagAsync(CancellationToken cancellation)
    {
        LagReport report;
        try
        {
            report = await _lag!.GetAsync(cancellation).WaitAsync(TimeSpan.FromSeconds(15), cancellation);
        }
        catch (Exception e) when (e is TimeoutException or ObjectDisposedException or OperationCanceledException)
        {
            return; // the last figures stay
        }
        var now = new HashSet<(string, string, string)>();
        foreach (var p in report.Partitions)
        {
            var labels = (p.Sink, p.Topic, p.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
            now.Add(labels);
            _lagRecords.WithLabels(labels.Sink, labels.Topic, labels.Item3).Set(p.LagRecords);
            _lagSeconds.WithLabels(labels.Sink, labels.Topic, labels.Item3).Set(p.LagSeconds);
            _committedOffset.WithLabels(labels.Sink, labels.Topic, labels.Item3).Set(p.CommittedOffset);
            _endOffset.WithLabels(labels.Sink, labels.Topic, labels.Item3).Set(p.EndOffset);
        }
        // A report that failed as a whole keeps the last series; a partition that is gone is dropped.
        if (report.Error is not null && report.Partitions.Count == 0) return;
        lock (_sinkGate)
        {
            foreach (var (sink, topic, part) in _lagSeries.Where(s => !now.Contains(s)))
                foreach (var gauge in new[] { _lagRecords, _lagSeconds, _committedOffset, _endOffset }) gauge.RemoveLabelled(sink, topic, part);
            _lagSeries = now;
        }
    }

    /// <summary>Counts <paramref name="count"/> syslog messages of <paramref name="listener"/> with <paramref name="outcome"/>.</summary>
    public void SyslogMessages(string listener, string outcome, int count = 1)
    {
        if (count > 0) _syslogMessages.WithLabels(listener, outcome).Inc(count);
    }

    /// <summary>Counts a syslog connection the node closed.</summary>
    public void SyslogConnectionClosed(string listener, string reason) => _syslogBroken.WithLabels(listener, reason).Inc();

    /// <summary>Counts one ZeroMQ batch answered with <paramref name="outcome"/> and the <paramref name="events"/> it made durable.</summary>
    public void ZeroMqBatch(string outcome, int events = 0)
    {
        _zeroMqBatches.WithLabels(outcome).Inc();
        if (events > 0) _zeroMqEvents.Inc(events);
    }

    private void Refresh()
    {
        foreach (var t in _stats.Totals())
        {
            for (var c = 0; c < StatsCategories.Count; c++)
            {
                if (t.Lines[c] == 0 && t.Bytes[c] == 0) continue;
                var labels = new[] { t.Key.Type, t.Key.Process, t.Key.Host, StatsCategories.Names[c] };
                _events.WithLabels(labels).IncTo(t.Lines[c]);
                _bytes.WithLabels(labels).IncTo(t.Bytes[c]);
            }
        }
        _dropped.IncTo(_stats.Dropped);
        _flowFlushes.IncTo(_stats.FlowCollects);
        _flowRecords.IncTo(_stats.FlowRecords);
        _accepted.IncTo(_stats.AcceptedEvents);
        _spilled.IncTo(_stats.SpilledEvents);
        _heartbeats.IncTo(_stats.Heartbeats);
        _bytesInFlight.Set(_budget?.InFlight ?? 0);
        _inDoubt.Set(_bus?.InDoubt ?? 0);

        lock (_sinkGate)
        {
            var live = _pumps.All.Select(p => p.SinkMetrics).ToList();
            foreach (var m in live)
            {
                long[] now = [m.Delivered, m.DeadLettered, m.Errored, m.Retries, m.Batches, m.Flushes];
                var before = _seen.TryGetValue(m, out var b) ? b : new long[now.Length];
                for (var i = 0; i < now.Length; i++)
                {
                    var child = _sink[i].WithLabels(m.Sink); // exported from the start, at 0
                    if (now[i] > before[i]) child.Inc(now[i] - before[i]);
                }
                _seen[m] = now;
            }
            foreach (var gone in _seen.Keys.Where(k => !live.Contains(k)).ToList()) _seen.Remove(gone);
        }
    }
}
