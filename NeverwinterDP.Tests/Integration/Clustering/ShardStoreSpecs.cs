using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Actors.Watchdog;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Clustering;

/// <summary>The shard coordinators and remembered entities of a running node keep their state in the journal (not ddata/LMDB).</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ShardStoreSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task A_running_nodes_shard_coordinators_and_remembered_watchdog_entities_write_to_the_journal_and_no_ddata_store_is_made()
    {
        using var dir = new TempDir();
        var ddataBefore = DdataDirectories();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var config = node.System.Settings.Config;
        Assert.Equal("persistence", config.GetString("akka.cluster.sharding.state-store-mode"));
        Assert.Equal("eventsourced", config.GetString("akka.cluster.sharding.remember-entities-store"));

        // An event makes an emitter and a watchdog entity (a beat for its host).
        var response = await node.PostNdjsonAsync(["""{"host":"store-host","msg":"hello"}"""], type: "store");
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}");

        // Spillover is no shard region: a per-node actor on the node's own spill store (docs/cluster.md).
        string[] coordinators = [EmitterEntity.TypeName, WatchdogEntity.TypeName, SinkWriterEntity.TypeName];
        var ids = new List<string>();
        await Wait.UntilAsync(() =>
        {
            ids = PersistenceIds(dir.Path);
            return coordinators.All(t => ids.Any(id => id.Contains($"/{t}Coordinator", StringComparison.Ordinal)))
                && ids.Any(id => id.StartsWith($"/sharding/{WatchdogEntity.TypeName}Shard", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(60), () => "journal persistence ids: " + string.Join(", ", ids));
        output.WriteLine(string.Join('\n', ids.Where(id => id.Contains("sharding", StringComparison.Ordinal))));
        Assert.Equal(ddataBefore, DdataDirectories());
    }

    private static List<string> PersistenceIds(string dataDir)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDir, "nwdp-state.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT persistence_id FROM journal";
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read()) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>LMDB stores ddata would make in the working directory (<c>ddata-SYSTEM-REPLICATOR-PORT</c>).</summary>
    private static string[] DdataDirectories() =>
        Directory.EnumerateDirectories(Directory.GetCurrentDirectory(), "ddata*").Order(StringComparer.Ordinal).ToArray();
}
