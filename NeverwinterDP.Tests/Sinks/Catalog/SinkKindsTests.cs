using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Actors.Sinks.ClickHouse;
using NeverwinterDP.Actors.Sinks.Hive;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Catalog;

public class SinkKindsTests
{
    [Fact]
    public async Task The_host_builds_hive_and_clickhouse_sinks_from_their_sections()
    {
        using var provider = new ServiceCollection().AddSinkKinds().BuildServiceProvider();
        var sinks = ConfigurationFactory.ParseString("""
            lake { kind = hive, format = avro, table-prefix = raw_ }
            ch { kind = clickhouse, url = "http://127.0.0.1:8123/", table = logs }
            """);

        var built = SinkKind.CreateAll(provider.GetServices<SinkKind>(), sinks, "/data");

        var hive = Assert.IsType<HiveSink>(built.Single(b => b.Section.Name == "lake").Sink);
        Assert.Equal(("lake", Path.Combine("/data", "sinks", "lake"), HiveFormat.Avro, "raw_nwdp_logs_web"),
            (hive.Name, hive.Options.Directory, hive.Options.Format, hive.TableOf("nwdp.logs.web")));
        var clickHouse = Assert.IsType<ClickHouseSink>(built.Single(b => b.Section.Name == "ch").Sink);
        Assert.Equal(("ch", "logs"), (clickHouse.Name, clickHouse.Options.Table));
        foreach (var (_, sink) in built) await sink.DisposeAsync();
    }
}
