using Akka.Actor;
using Akka.Cluster;
using NeverwinterDP.Actors.Alerts;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Replay;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Actors.Stats;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// The signals the alert rules watch, read on the evaluating node for the whole cluster: the per-minute stats
/// (every node's, from <c>nwdp.stats</c>), the watchdog and the emitter registry (sharded entities), the consumer
/// lag and the dead-letter topics (read from Kafka), the spill backlog (the spillover entities) and the membership.
/// The parts are taken from the container at each read (they are built on first use, after the actor system).
/// </summary>
public sealed class AlertSignals(IServiceProvider services) : IAlertSignals
{
    private const long MinuteMs = 60_000;

    public async Task<AlertReading> ReadAsync(IReadOnlyList<AlertRule> rules, CancellationToken cancellation)
    {
        var samples = new Dictionary<string, IReadOnlyList<AlertSample>>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        // Each source read once per evaluation, whatever the number of rules over it.
        var cache = new Dictionary<string, Task<object>>(StringComparer.Ordinal);
        Task<object> Once(string key, Func<Task<object>> read)
        {
            if (!cache.TryGetValue(key, out var t)) cache[key] = t = read();
            return t;
        }
        foreach (var rule in rules)
        {
            try
            {
                samples[rule.Name] = await ReadAsync(rule, Once, cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
            {
                errors[rule.Name] = e.GetBaseException().Message;
            }
        }
        return new AlertReading(samples, errors);
    }

    private async Task<IReadOnlyList<AlertSample>> ReadAsync(AlertRule rule, Func<string, Func<Task<object>>, Task<object>> once, CancellationToken cancellation)
    {
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds();
        switch (rule.Kind)
        {
            case AlertKinds.EventsRate:
            case AlertKinds.ErrorRatio:
                return Stats(rule, now);
            case AlertKinds.Silent when rule.Of == "source":
            {
                var sources = (IReadOnlyList<SourceInfo>)await once("sources", async () => await services.GetRequiredService<IRegistryQueries>().SourcesAsync(cancellation).ConfigureAwait(false)).ConfigureAwait(false);
                return sources.Where(s => rule.Subject is null || s.SourceId == rule.Subject)
                    .Select(s => Sample("source", s.SourceId, Math.Max(0, now - s.LastSeenMs) / 1000.0)).ToList();
            }
            case AlertKinds.Silent:
            {
                var hosts = (IReadOnlyList<Actors.Watchdog.HostStatus>)await once("hosts", async () => await services.GetRequiredService<IRegistryQueries>().HostsAsync(cancellation).ConfigureAwait(false)).ConfigureAwait(false);
                return hosts.Where(h => rule.Subject is null || h.Host == rule.Subject)
                    .Select(h => Sample("host", h.Host, Math.Max(0, now - h.LastHeartbeatMs) / 1000.0)).ToList();
            }
            case AlertKinds.SinkLag:
            {
                var report = (LagReport)await once("lag", async () => await services.GetRequiredService<ConsumerLag>().GetAsync(cancellation).ConfigureAwait(false)).ConfigureAwait(false);
                if (report.Error is { } error) throw new InvalidOperationException($"consumer lag: {error}");
                return services.GetRequiredService<SinkCatalog>().Names.Where(s => rule.Subject is null || s == rule.Subject)
                    .Select(s => Sample("sink", s, report.Partitions.Where(p => p.Sink == s).Select(p => p.LagSeconds).DefaultIfEmpty(0).Max())).ToList();
            }
            case AlertKinds.DlqGrowth:
            {
                var sinks = services.GetRequiredService<SinkCatalog>().Names.Where(s => rule.Subject is null || s == rule.Subject).ToList();
                var counts = (IReadOnlyList<DeadLetterCount>)await once("dlq", () => Task.Run(() => (object)services.GetRequiredService<DeadLetterReplay>().Count(
                    services.GetRequiredService<SinkCatalog>().Names), cancellation)).ConfigureAwait(false);
                return sinks.Select(s => Sample("sink", s, counts.Where(c => c.Sink == s).Sum(c => c.Count))).ToList();
            }
            case AlertKinds.SpillAge:
            {
                var status = (IReadOnlyList<SpillStatus>)await once("spill", async () =>
                {
                    var spill = services.GetRequiredService<SpillWriter>();
                    var topics = await spill.TopicsAsync(services.GetRequiredService<ActorSystem>(), cancellation).ConfigureAwait(false);
                    return await spill.StatusAsync(topics, cancellation).ConfigureAwait(false);
                }).ConfigureAwait(false);
                return status.Where(s => (rule.Subject is null || s.Topic == rule.Subject) && s.Batches > 0 && s.OldestSpilledAtMs > 0)
                    .Select(s => Sample("topic", s.Topic, Math.Max(0, now - s.OldestSpilledAtMs) / 1000.0)).ToList();
            }
            case AlertKinds.NodeUnreachable:
            {
                var state = Cluster.Get(services.GetRequiredService<ActorSystem>()).State;
                return state.Unreachable.Select(m => Sample("node", m.Address.ToString(), 1)).ToList();
            }
            default:
                throw new InvalidOperationException($"unknown kind {rule.Kind}");
        }
    }

    /// <summary>
    /// events/s (or the error ratio) over the rule's window of whole minutes that every node has published: the
    /// minutes that ended at least grace + publish-interval ago.
    /// </summary>
    private IReadOnlyList<AlertSample> Stats(AlertRule rule, long now)
    {
        var options = services.GetRequiredService<StatsOptions>();
        var end = (now - (long)(options.Grace + options.PublishInterval).TotalMilliseconds) / MinuteMs * MinuteMs;
        var start = end - (long)rule.Window.TotalMilliseconds;
        var rows = services.GetRequiredService<StatsStore>().Stats(start, rule.Type).Where(r => r.MinuteMs >= start && r.MinuteMs < end).ToList();
        var subject = rule.Type is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["type"] = rule.Type };
        if (rule.Kind == AlertKinds.EventsRate)
            return [new AlertSample(subject, rows.Sum(r => r.Lines.Values.Sum()) / rule.Window.TotalSeconds)];
        var errors = rows.Sum(r => r.Lines.GetValueOrDefault("error") + r.Lines.GetValueOrDefault("error_spill"));
        var all = errors + rows.Sum(r => r.Lines.GetValueOrDefault("normal") + r.Lines.GetValueOrDefault("normal_spill"));
        return all == 0 ? [] : [new AlertSample(subject, (double)errors / all)];
    }

    private static AlertSample Sample(string label, string value, double v) => new(new Dictionary<string, string> { [label] = value }, v);
}
