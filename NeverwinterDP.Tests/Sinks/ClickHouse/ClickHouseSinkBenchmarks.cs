using System.Diagnostics;
using System.Globalization;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.ClickHouse;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.Sinks.Hive;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.ClickHouse;

/// <summary>
/// The ClickHouse sink's insert rate at batches of 1k and 10k events against the private server, printed,
/// never asserted. Run under ./test.sh's services (see docs/sinks/clickhouse.md) with
/// <c>--filter "FullyQualifiedName~ClickHouseSinkBenchmarks" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class ClickHouseSinkBenchmarks(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Total = 300_000;
    private const int Partitions = 4;
    private readonly string _table = ClickHouseServer.UniqueTable("bench");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => ClickHouseServer.QueryAsync($"DROP TABLE IF EXISTS `{_table}`");

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    public async Task Insert_events_of_about_200_bytes(int batchSize)
    {
        await using var sink = new ClickHouseSink(new ClickHouseSinkOptions { Url = ClickHouseServer.Url, Table = _table });
        await sink.OpenAsync(CancellationToken.None);
        var events = Enumerable.Range(0, 1000).Select(HiveSinkBenchmarks.TypicalEvent).ToArray();
        var offset = 0L;

        async Task Run(int count)
        {
            for (var done = 0; done < count; done += batchSize)
            {
                var batch = new List<SinkRecord>(batchSize);
                for (var i = 0; i < batchSize; i++, offset++) batch.Add(new SinkRecord("nwdp.logs.web", (int)(offset % Partitions), offset / Partitions, events[offset % events.Length]));
                Assert.True((await sink.WriteAsync(batch, CancellationToken.None)).IsAllDelivered);
            }
        }

        await Run(20_000); // warm-up
        var watch = Stopwatch.StartNew();
        await Run(Total);
        watch.Stop();

        var stored = long.Parse((await ClickHouseServer.QueryAsync($"SELECT count() FROM `{_table}`")).Trim(), CultureInfo.InvariantCulture);
        Assert.Equal(Total + 20_000, stored);
        output.WriteLine($"clickhouse sink (batch {batchSize:N0}, server {(await ClickHouseServer.QueryAsync("SELECT version()")).Trim()}): " +
            $"{Total / watch.Elapsed.TotalSeconds:N0} events/s ({Total:N0} events, {Partitions} partitions, one INSERT per batch)");
    }
}
