using System.Text.Json;
using NeverwinterDP.Protocol;
using Npgsql;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.Sinks.Elasticsearch;
using NeverwinterDP.Tests.Sinks.HBase;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.EndToEnd;

/// <summary>
/// Events posted over HTTP arrive in every configured sink exactly once — files, Hive (Parquet), PostgreSQL,
/// Elasticsearch and HBase in one node — also across a 30 s outage of one sink's server, stopped and restarted
/// by the test while events keep coming.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class EverySinkSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task Events_arrive_in_every_sink_exactly_once_across_a_30s_sink_outage()
    {
        using var dir = new TempDir();
        await using var es = await FakeElasticsearch.StartAsync();
        await using var hbase = await FakeHBaseRest.StartAsync();
        await using var pg = await PostgresDatabase.CreateAsync();
        var hive = Path.Combine(dir.Path, "hive");
        var sinks = $$"""
            nwdp.sinks {
              es { kind = elasticsearch, urls = ["{{es.Url}}"] }
              hbase { kind = hbase, url = "{{hbase.BaseUrl}}", table = e2e }
              pg { kind = postgresql, connection-string = "{{pg.ConnectionString}}", table = e2e }
              hive { kind = hive, directory = "{{hive}}" }
            }
            nwdp.pump.retry-max-backoff = 2s
            """;
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "node"), overrides: new() { ["nwdp.sinks.files.fsync"] = "off" }, extraHocon: sinks);

        var run = Guid.NewGuid().ToString("N")[..8];
        const int total = 6000, batch = 200;
        var sent = new List<string>();
        async Task PostAsync(int from, int to)
        {
            for (var b = from; b < to; b += batch)
            {
                var messages = Enumerable.Range(b, batch).Select(i => $"{run}-{i}").ToList();
                var response = await node.PostNdjsonAsync(messages.Select(m => JsonSerializer.Serialize(new { host = "web-1", process = "nginx", msg = m })), type: "e2e");
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                sent.AddRange(messages);
            }
        }

        await PostAsync(0, 2000);
        await es.StopAsync();
        output.WriteLine("elasticsearch stopped");
        var outage = DateTime.UtcNow;
        for (var part = 0; part < 3; part++)
        {
            await PostAsync(2000 + part * 1000, 3000 + part * 1000);
            await Task.Delay(TimeSpan.FromSeconds(10));
        }
        await es.RestartAsync();
        output.WriteLine($"elasticsearch back after {(DateTime.UtcNow - outage).TotalSeconds:0} s");
        await PostAsync(5000, total);

        var topic = TopicNames.ForType("e2e");
        IReadOnlyList<string> Files() => node.PublishedLines(topic).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()!).ToList();
        IReadOnlyList<string> Elastic() => es.Documents().Select(d => d.Source.GetProperty("msg").GetString()!).ToList();
        IReadOnlyList<string> HBase() => hbase.ReadRows("e2e").Select(r => r.Latest("e:msg")!).ToList();
        IReadOnlyList<string> Postgres()
        {
            using var c = new NpgsqlConnection(pg.ConnectionString);
            c.Open();
            using var cmd = new NpgsqlCommand("SELECT message FROM e2e", c);
            using var r = cmd.ExecuteReader();
            var list = new List<string>();
            while (r.Read()) list.Add(r.GetString(0));
            return list;
        }
        IReadOnlyList<string> Hive() => Directory.Exists(hive)
            ? DuckDb.Query($"SELECT message FROM {DuckDb.AllParquet(hive)}").Select(row => (string)row[0]!).ToList()
            : [];

        var stores = new (string Name, Func<IReadOnlyList<string>> Read)[] { ("files", Files), ("elasticsearch", Elastic), ("hbase", HBase), ("postgresql", Postgres), ("hive", Hive) };
        await Wait.UntilAsync(() => stores.All(s => s.Read().Count >= total), TimeSpan.FromSeconds(120),
            () => string.Join(", ", stores.Select(s => $"{s.Name}={s.Read().Count}")));
        var expected = sent.Order().ToList();
        Assert.Equal(total, expected.Count);
        foreach (var (name, read) in stores)
        {
            var got = read();
            output.WriteLine($"{name}: {got.Count}");
            Assert.True(expected.SequenceEqual(got.Order()), $"{name} holds {got.Count} events, {got.Distinct().Count()} distinct; expected each of {total} once");
        }
    }
}
