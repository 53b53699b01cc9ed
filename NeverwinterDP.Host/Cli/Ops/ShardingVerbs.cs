using System.CommandLine;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary><c>nwdp cluster-sharding ...</c>: shard regions and where their shards and entities live.</summary>
public static class ShardingVerbs
{
    private static readonly Option<string?> Type = Flags.Text("--type", "shard type, e.g. emitter, watchdog, sink-writer (required)", "TYPE", alias: "-t");

    public static IReadOnlyList<Command> Commands { get; } =
    [
        AdminVerb.Create("regions", "The shard types started on the node, with its shards and entities of each.", RegionsAsync),
        AdminVerb.Create("region-stats", "The node's shards of one type and the entities in each.", RegionStatsAsync, [Type]),
        AdminVerb.Create("shard-stats", "The shards of one type across the cluster: per member, its shards and their entities.", ShardStatsAsync, [Type]),
    ];

    private static string RequiredType(AdminCall call) =>
        call.Args.GetValue(Type) ?? throw new CliUsageException("flag '--type' (-t) is required: the shard type, e.g. -t emitter");

    private static async Task<int> RegionsAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/sharding/regions", AdminJson.Default.RegionsResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var rows = reply.Value.Regions.Select(r => new[] { r.Type, r.Shards.ToString(), r.Entities.ToString() }).ToList();
        await AdminVerb.WriteTableAsync(call.Out, ["type", "shards", "entities"], rows);
        await call.Out.WriteLineAsync($"Count: {rows.Count} regions");
        return 0;
    }

    private static async Task<int> RegionStatsAsync(AdminCall call)
    {
        var type = RequiredType(call);
        var reply = await call.Client.GetAsync("/v1/sharding/region-stats?type=" + Uri.EscapeDataString(type), AdminJson.Default.RegionStatsResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var r = reply.Value;
        await call.Out.WriteLineAsync($"{r.Type} on {r.Address}");
        await AdminVerb.WriteTableAsync(call.Out, ["shard", "entities"], r.Shards.Select(s => new[] { s.Key, s.Value.ToString() }).ToList());
        await call.Out.WriteLineAsync($"Total: {r.Shards.Count} shards, {r.Entities} entities");
        if (r.Failed.Count > 0) await call.Out.WriteLineAsync($"Did not answer: {string.Join(", ", r.Failed)}");
        return 0;
    }

    private static async Task<int> ShardStatsAsync(AdminCall call)
    {
        var type = RequiredType(call);
        var reply = await call.Client.GetAsync("/v1/sharding/shard-stats?type=" + Uri.EscapeDataString(type), AdminJson.Default.ShardStatsResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var r = reply.Value;
        await AdminVerb.WriteTableAsync(call.Out, ["address", "shards", "entities"],
            r.Members.Select(m => new[] { m.Address, m.Shards.Count.ToString(), m.Entities.ToString() }).ToList());
        foreach (var m in r.Members.Where(m => m.Shards.Count > 0))
            await call.Out.WriteLineAsync($"  {m.Address}: {string.Join(", ", m.Shards.Select(s => $"{s.Key}={s.Value}"))}");
        foreach (var m in r.Members.Where(m => m.Failed.Count > 0))
            await call.Out.WriteLineAsync($"  {m.Address} did not answer for: {string.Join(", ", m.Failed)}");
        await call.Out.WriteLineAsync($"Total: {r.Shards} shards, {r.Entities} entities on {r.Members.Count} members");
        return 0;
    }
}
