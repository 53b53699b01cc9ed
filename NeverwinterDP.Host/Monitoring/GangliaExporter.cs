using System.Globalization;
using System.Net.Sockets;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Http;

namespace NeverwinterDP.Host.Monitoring;

/// <summary>
/// Sends the node's key metrics to a gmond over UDP every <c>interval</c> in the gmetric format (<see cref="Gmetric"/>):
/// ingress (events accepted and spilled, requests refused, bytes in flight), the bus (up), the spill quota, the sinks
/// (records delivered here, the lag in records and seconds per sink instance). Metadata goes with every value (gmond
/// may have restarted); a send that fails is logged and tried again next interval.
/// </summary>
public sealed class GangliaExporter(GangliaOptions options, StatsCounter stats, IngressBudget budget, BusCircuit bus, Actors.Spillover.SpillQuota quota,
    NodeMetrics metrics, LocalPumps pumps, ConsumerLag lag, ILogger<GangliaExporter> log) : BackgroundService
{
    private const string Group = "nwdp";

    /// <summary>One metric: gmond's name, type, units, slope and value.</summary>
    public sealed record Sample(string Name, string Type, string Units, Gmetric.Slope Slope, double Value, string Description);

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        using var udp = new UdpClient();
        var host = Environment.MachineName;
        log.LogInformation("Ganglia: sending the node's metrics to gmond at {Host}:{Port} every {Interval}", options.Host, options.Port, options.Interval);
        var warned = false;
        using var timer = new PeriodicTimer(options.Interval);
        do
        {
            try
            {
                var samples = await SamplesAsync(stop);
                var dmax = (uint)Math.Max(60, options.Interval.TotalSeconds * 5);
                var tmax = (uint)Math.Max(1, options.Interval.TotalSeconds);
                foreach (var s in samples)
                {
                    await udp.SendAsync(Gmetric.Metadata(host, s.Name, s.Type, s.Units, s.Slope, tmax, dmax, Group, s.Description), options.Host, options.Port, stop);
                    await udp.SendAsync(Gmetric.Value(host, s.Name, s.Value.ToString(s.Type == "double" ? "0.###" : "0", CultureInfo.InvariantCulture)), options.Host, options.Port, stop);
                }
                warned = false;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is SocketException or InvalidOperationException or ObjectDisposedException)
            {
                if (!warned) log.LogWarning("Ganglia: cannot send to {Host}:{Port}: {Error}; trying again every {Interval}", options.Host, options.Port, e.Message, options.Interval);
                warned = true;
            }
        } while (await NextAsync(timer, stop));
    }

    private static async Task<bool> NextAsync(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>What is sent: the node's figures now, and the lag of every sink instance (its last report).</summary>
    public async Task<IReadOnlyList<Sample>> SamplesAsync(CancellationToken cancellation)
    {
        var samples = new List<Sample>
        {
            new("nwdp_ingress_events_accepted", "double", "events", Gmetric.Slope.Positive, stats.AcceptedEvents, "events made durable by this node's ingress since it started"),
            new("nwdp_ingress_events_spilled", "double", "events", Gmetric.Slope.Positive, stats.SpilledEvents, "events this node's ingress spilled since it started"),
            new("nwdp_ingress_requests_refused", "double", "requests", Gmetric.Slope.Positive, metrics.RefusedRequests, "ingress requests refused since the node started"),
            new("nwdp_ingress_bytes_in_flight", "double", "bytes", Gmetric.Slope.Both, budget.InFlight, "bytes the ingress requests being handled hold"),
            new("nwdp_bus_up", "uint32", "", Gmetric.Slope.Both, bus.IsUp ? 1 : 0, "1 while the bus (Kafka) answers this node"),
            new("nwdp_spill_quota_used", "double", "bytes", Gmetric.Slope.Both, quota.Used, "bytes of the spill quota in use on this node"),
        };
        foreach (var sink in pumps.All.GroupBy(p => p.Sink.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
            samples.Add(new($"nwdp_sink_{sink.Key}_delivered", "double", "records", Gmetric.Slope.Positive, sink.Sum(p => p.Stats.Delivered),
                $"records this node's writers of sink {sink.Key} delivered"));
        try
        {
            var report = await lag.GetAsync(cancellation).WaitAsync(TimeSpan.FromSeconds(15), cancellation);
            foreach (var sink in report.Partitions.GroupBy(p => p.Sink).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                samples.Add(new($"nwdp_sink_{sink.Key}_lag_records", "double", "records", Gmetric.Slope.Both, sink.Sum(p => p.LagRecords),
                    $"records sink {sink.Key} has not committed (all partitions)"));
                samples.Add(new($"nwdp_sink_{sink.Key}_lag_seconds", "double", "seconds", Gmetric.Slope.Both, sink.Max(p => p.LagSeconds),
                    $"age of the oldest record sink {sink.Key} has not committed"));
            }
        }
        catch (TimeoutException)
        {
            // The lag waits for the next interval; the other figures go now.
        }
        return samples;
    }
}
