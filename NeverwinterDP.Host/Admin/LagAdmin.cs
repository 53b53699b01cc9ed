using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks.Catalog;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// <c>GET /v1/lag?sink=S</c>: the consumer lag of every sink instance (or one), per topic and partition, read from
/// Kafka for the whole cluster (what <c>nwdp lag</c> and <c>nwdp check lag</c> show); computed at most every
/// <c>nwdp.pump.lag-interval</c>.
/// </summary>
public static class LagAdmin
{
    public static async Task<IResult> LagAsync(HttpRequest request, ConsumerLag lag, SinkCatalog sinks, CancellationToken cancellation)
    {
        var only = request.Query["sink"].ToString();
        if (only.Length > 0 && !sinks.Names.Contains(only, StringComparer.Ordinal))
            return AdminApi.Fail(404, $"no sink instance '{only}' (configured: {(sinks.Names.Count == 0 ? "none" : string.Join(", ", sinks.Names))})");
        var report = await lag.GetAsync(cancellation);
        return AdminApi.Json(Answer(report, sinks, lag.Interval, only.Length > 0 ? only : null), AdminJson.Default.LagResponse);
    }

    internal static LagResponse Answer(LagReport report, SinkCatalog sinks, TimeSpan interval, string? only)
    {
        var bySink = report.Partitions.ToLookup(p => p.Sink, StringComparer.Ordinal);
        var rows = sinks.Sections
            .Where(s => only is null || s.Name == only)
            .Select(s =>
            {
                var partitions = bySink[s.Name].Select(p => new PartitionLagInfo(p.Topic, p.Partition, p.CommittedOffset, p.EndOffset, p.LagRecords, Math.Round(p.LagSeconds, 3))).ToList();
                return new SinkLagInfo(s.Name, s.Topics, partitions.Sum(p => p.LagRecords), partitions.Count == 0 ? 0 : partitions.Max(p => p.LagSeconds), partitions);
            })
            .ToList();
        return new LagResponse(report.ComputedAtMs, interval.TotalSeconds, report.Error, rows);
    }
}
