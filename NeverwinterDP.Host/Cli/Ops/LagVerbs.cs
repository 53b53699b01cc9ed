using System.CommandLine;
using System.Globalization;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary><c>nwdp lag [--sink S]</c>: the consumer lag of the sink instances, per topic and partition (<c>GET /v1/lag</c>).</summary>
public static class LagVerbs
{
    private static readonly Option<string?> Sink = Flags.Text("--sink", "only this sink instance", "S");

    public static readonly Command Lag = AdminVerb.Create(
        "lag",
        "Consumer lag of the data pump, per sink instance, topic and partition: the offset the sink's consumer group\n" +
        "committed, the end offset (high watermark), the records in between, and the age in seconds of the oldest of\n" +
        "them (0 when caught up). Read from Kafka for the whole cluster, at most every nwdp.pump.lag-interval.\n" +
        "Exit 0, 1 when the node cannot be reached or refuses (or no such sink), 2 for usage errors.",
        LagAsync,
        [Sink]);

    private static async Task<int> LagAsync(AdminCall call)
    {
        var query = "/v1/lag";
        if (call.Args.GetValue(Sink) is { } sink) query += "?sink=" + Uri.EscapeDataString(sink);
        var reply = await call.Client.GetAsync(query, AdminJson.Default.LagResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var rows = reply.Value.Sinks.SelectMany(s => s.Partitions.Select(p => new[]
        {
            s.Sink, p.Topic, Count(p.Partition), p.CommittedOffset < 0 ? "-" : Count(p.CommittedOffset), Count(p.EndOffset), Count(p.LagRecords),
            p.LagSeconds.ToString("0.0", CultureInfo.InvariantCulture),
        })).ToList();
        await AdminVerb.WriteTableAsync(call.Out, ["sink", "topic", "partition", "committed", "end", "lag", "lag_s"], rows);
        foreach (var s in reply.Value.Sinks)
            await call.Out.WriteLineAsync($"{s.Sink}: {Count(s.LagRecords)} records behind, oldest {s.LagSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s" +
                                          (s.Partitions.Count == 0 ? $" (no topic matches {s.Topics} yet)" : ""));
        if (reply.Value.Error is { } error) await call.Error.WriteLineAsync($"nwdp lag: {error}");
        return 0;
    }

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);
}
