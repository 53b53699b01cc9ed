using System.Text.Json;
using Microsoft.Data.Sqlite;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Host.Persistence;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Spillover;

/// <summary>A damaged spill store does not stop the node: the damaged part is kept aside and reported, the rest replayed.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SpillDamageSpecs(ITestOutputHelper output)
{
    private const int Batches = 10, PerBatch = 100;

    private static Dictionary<string, string> Settings() => new()
    {
        ["nwdp.spill.after"] = "1s",
        ["nwdp.spill.probe-interval"] = "200ms",
        ["nwdp.sinks.files.fsync"] = "off",
    };

    /// <summary>Spills <see cref="Batches"/> requests with the broker down, then stops the node; returns every message sent.</summary>
    private static async Task<List<string>> SpillAndStopAsync(string dir, string run)
    {
        var sent = new List<string>();
        await using var node = await InProcessNode.StartAsync(dir, overrides: Settings());
        node.Bus.Embedded!.BrokerDown(1);
        for (var b = 0; b < Batches; b++)
        {
            var messages = Enumerable.Range(b * PerBatch, PerBatch).Select(i => $"{run}-{i}").ToList();
            var response = await node.PostNdjsonAsync(messages.Select(m => JsonSerializer.Serialize(new { host = "h", msg = m })), type: "damage");
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            sent.AddRange(messages);
        }
        return sent;
    }

    private static string StorePath(string dir) => Path.Combine(dir, "nwdp-state.db");

    private static List<string> Published(InProcessNode node) =>
        node.PublishedLines(TopicNames.ForType("damage")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()!).ToList();

    [Fact]
    public async Task A_garbled_batch_is_quarantined_and_reported_and_the_rest_is_replayed()
    {
        using var dir = new TempDir();
        var run = Guid.NewGuid().ToString("N")[..8];
        var sent = await SpillAndStopAsync(dir.Path, run);

        // Garble the newest spilled batch's row (its bytes, not SQLite's structure: SQLite cannot tell).
        await using (var db = new SqliteConnection($"Data Source={StorePath(dir.Path)};Pooling=False"))
        {
            await db.OpenAsync();
            var update = db.CreateCommand();
            update.CommandText = """
                UPDATE journal SET message = randomblob(length(message))
                WHERE persistence_id = 'spillover|nwdp.logs.damage'
                  AND sequence_number = (SELECT max(sequence_number) FROM journal WHERE persistence_id = 'spillover|nwdp.logs.damage' AND manifest = 'B2')
                """;
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: Settings());
        await Wait.UntilAsync(() => Published(node).Count >= (Batches - 1) * PerBatch, TimeSpan.FromSeconds(60), () => $"{Published(node).Count} published");
        var published = Published(node);
        Assert.Equal((Batches - 1) * PerBatch, published.Count);
        Assert.Equal(sent.Take((Batches - 1) * PerBatch).Order(), published.Order());
        var kept = Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "quarantine", "spill")));
        output.WriteLine($"quarantined: {kept}");

        // The ops verbs report it: spill check fails (exit 3) naming the batch; spill status counts it.
        var check = await NeverwinterDP.Tests.TestKit.Nwdp.RunAsync("spill", "check", "--node", node.AdminNode);
        output.WriteLine(check.ToString());
        Assert.Equal(3, check.ExitCode);
        Assert.Contains(Path.GetFileName(kept), check.Stdout);
        await Wait.UntilAsync(async () =>
        {
            var status = await NeverwinterDP.Tests.TestKit.Nwdp.RunAsync("spill", "status", "--node", node.AdminNode, "--json");
            using var json = JsonDocument.Parse(status.Stdout);
            // Once everything is replayed (and deleted from the journal) the topic has no backlog, or is gone from the list.
            var topic = json.RootElement.GetProperty("topics").EnumerateArray().Where(t => t.GetProperty("topic").GetString() == "nwdp.logs.damage").ToList();
            return status.ExitCode == 0 && topic.All(t => t.GetProperty("batches").GetInt32() == 0 && t.GetProperty("events").GetInt64() == 0);
        }, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_truncated_store_is_quarantined_the_node_starts_and_what_is_readable_is_replayed()
    {
        using var dir = new TempDir();
        var run = Guid.NewGuid().ToString("N")[..8];
        var sent = await SpillAndStopAsync(dir.Path, run);

        var path = StorePath(dir.Path);
        // The store runs in WAL mode: fold the log into the file first (what a process's exit does), so the
        // truncation cuts rows that are in the file, not an empty file with everything still in the log.
        SqliteConnection.ClearAllPools();
        await using (var db = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await db.OpenAsync();
            var checkpoint = db.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            await checkpoint.ExecuteNonQueryAsync();
        }
        Assert.Equal(0, new FileInfo(path + "-wal") is { Exists: true } wal ? wal.Length : 0);
        var length = new FileInfo(path).Length;
        await using (var f = new FileStream(path, FileMode.Open, FileAccess.Write)) f.SetLength(length - 12 * 1024);
        Assert.NotNull(StateStoreCheck.Inspect(path));

        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: Settings());
        var report = Assert.Single(StateStoreCheck.Quarantined(dir.Path));
        output.WriteLine($"{report.Detail}: salvaged {report.Salvaged}, lost {report.Lost}");
        Assert.False(report.Healthy);
        Assert.True(report.Salvaged > 0);
        Assert.True(File.Exists(report.QuarantinedTo));
        Assert.Null(StateStoreCheck.Inspect(path));
        var check = await NeverwinterDP.Tests.TestKit.Nwdp.RunAsync("spill", "check", "--node", node.AdminNode);
        output.WriteLine(check.ToString());
        Assert.Equal(3, check.ExitCode);
        Assert.Contains("quarantined at start", check.Stdout);

        // What survived is replayed, each event once and whole batches only; the node takes new events too.
        var fresh = Enumerable.Range(0, 50).Select(i => $"{run}-new-{i}").ToList();
        Assert.True((await node.PostNdjsonAsync(fresh.Select(m => JsonSerializer.Serialize(new { host = "h", msg = m })), type: "damage")).IsSuccessStatusCode);
        await Wait.UntilAsync(() => fresh.All(Published(node).Contains), TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(2)); // let the spill backlog finish (it replays before newer traffic of the topic)
        var published = Published(node);
        var replayed = published.Except(fresh).ToList();
        output.WriteLine($"replayed {replayed.Count} of {sent.Count} spilled events");
        Assert.Equal(published.Count, published.Distinct().Count());
        Assert.Subset(sent.ToHashSet(), replayed.ToHashSet());
        Assert.Equal(0, replayed.Count % PerBatch);
    }
}
