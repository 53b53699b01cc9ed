using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Persistence;

namespace NeverwinterDP.Host.Admin;

/// <summary>The spillover store's backlog and integrity (what <c>nwdp spill status</c> and <c>nwdp spill check</c> show).</summary>
public static class SpillAdmin
{
    public static async Task<IResult> StatusAsync(SpillWriter spill, SpillQuota quota, BusCircuit circuit, BusWriter bus, Akka.Actor.ActorSystem system, NodeConfig config,
        CancellationToken cancellation) =>
        AdminApi.Json(await StatusOfAsync(spill, quota, circuit, bus, system, config, cancellation), AdminJson.Default.SpillStatusResponse);

    /// <summary>The bus circuit and the spill backlog per topic (<c>GET /v1/spill/status</c> and the dashboard).</summary>
    public static async Task<SpillStatusResponse> StatusOfAsync(SpillWriter spill, SpillQuota quota, BusCircuit circuit, BusWriter bus, Akka.Actor.ActorSystem system, NodeConfig config,
        CancellationToken cancellation)
    {
        var topics = (await spill.TopicsAsync(system, cancellation)).Union(SpillQuarantine.Topics(SpillQuarantine.DirectoryOf(config.DataDir))).ToList();
        var status = await spill.StatusAsync(topics, cancellation);
        return new SpillStatusResponse(status, quota.Used, quota.Limit, circuit.IsUp, circuit.DownSince?.ToUnixTimeMilliseconds(), bus.InDoubt);
    }

    public static IResult Check(NodeConfig config)
    {
        var quarantined = SpillQuarantine.DirectoryOf(config.DataDir);
        var batches = Directory.Exists(quarantined) ? Directory.GetFiles(quarantined).Select(Path.GetFileName).OfType<string>().Order().ToList() : [];
        var reports = StateStoreCheck.Quarantined(config.DataDir);
        // The spill store is a SQLite file on this node's disk whatever the cluster's journal is.
        var path = SpillStoreFile.Locate(config).Path;
        var problem = File.Exists(path) ? StateStoreCheck.Inspect(path) : null;
        var detail = problem ?? (batches.Count == 0 ? "ok" : $"ok; {batches.Count} spilled batches were kept aside (damaged in the journal: *.bin; refused by the bus for good: *.refused.bin)");
        return AdminApi.Json(new SpillCheckResponse("sqlite", path, problem is null && batches.Count == 0, detail, reports, batches), AdminJson.Default.SpillCheckResponse);
    }
}
