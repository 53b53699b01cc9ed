using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.AtRest;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Spillover;

/// <summary>Spill encryption as a node is composed (config, key file, the serializer's setup): sealed rows in the journal, replayed whole.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SpillEncryptionSpecs
{
    [Fact]
    public async Task With_encryption_on_a_node_spills_sealed_rows_without_the_events_plaintext_and_replays_them()
    {
        using var dir = new TempDir();
        var keyFile = Path.Combine(dir.Path, "spill.key");
        File.WriteAllText(keyFile, SpillKey.NewText());
        var data = Path.Combine(dir.Path, "data");
        await using var node = await InProcessNode.StartAsync(data, overrides: new()
        {
            ["nwdp.spill.after"] = "1s",
            ["nwdp.spill.probe-interval"] = "200ms",
            ["nwdp.spill.encryption.enabled"] = "on",
            ["nwdp.spill.encryption.key-file"] = keyFile,
            ["nwdp.pump.enabled"] = "off",
        });
        var topic = TopicNames.ForType("sealed");
        Assert.True((await node.PostNdjsonAsync([JsonSerializer.Serialize(new { host = "h", msg = "first" })], type: "sealed")).IsSuccessStatusCode);
        node.Bus.Embedded!.BrokerDown(1);
        var marker = "PLAINTEXT-MARKER-" + Guid.NewGuid().ToString("N");
        var response = await node.PostNdjsonAsync(Enumerable.Range(0, 50).Select(i => JsonSerializer.Serialize(new { host = "h", msg = $"{marker} {i}" })), type: "sealed");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var spill = node.App.Services.GetRequiredService<SpillWriter>();
        Assert.Equal(50, (await spill.StatusAsync([topic], CancellationToken.None)).Single().Events);

        await using (var db = new SqliteConnection($"Data Source={Path.Combine(data, "nwdp-state.db")};Mode=ReadOnly;Pooling=False"))
        {
            await db.OpenAsync();
            await using var query = db.CreateCommand();
            query.CommandText = "SELECT manifest, message FROM journal WHERE persistence_id = $p AND manifest IN ('E', 'B2', 'B3')";
            query.Parameters.AddWithValue("$p", SpilloverEntity.TypeName + "|" + topic);
            var rows = new List<(string Manifest, byte[] Message)>();
            await using (var reader = await query.ExecuteReaderAsync())
                while (await reader.ReadAsync()) rows.Add((reader.GetString(0), (byte[])reader[1]));
            Assert.NotEmpty(rows);
            Assert.All(rows, r => Assert.Equal("E", r.Manifest));
            Assert.All(rows, r => Assert.Equal(-1, r.Message.AsSpan().IndexOf(Encoding.UTF8.GetBytes(marker))));
        }

        node.Bus.Embedded.BrokerUp(1);
        SpillStatus? last = null;
        await Wait.UntilAsync(async () => (last = (await spill.StatusAsync([topic], CancellationToken.None)).Single()) is { Batches: 0, ReplayedEvents: 50 },
            TimeSpan.FromSeconds(60), () => last?.ToString() ?? "no status");
    }
}
