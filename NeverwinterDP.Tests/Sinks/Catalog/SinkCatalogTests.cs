using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Host.Node;
using Xunit;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Tests.Sinks.Catalog;

public sealed class SinkCatalogTests
{
    [Fact]
    public void Sink_instances_come_from_the_file_from_extra_hocon_and_from_flags()
    {
        var config = NodeConfig.Load(null, new Dictionary<string, string>
        {
            ["nwdp.node.data-dir"] = Path.GetTempPath(),
            ["nwdp.sinks.flagged.kind"] = "files",
        }, extraHocon: "nwdp.sinks { extra { kind = files } }");
        var names = SinkKind.Resolve([new SinkKind("files", _ => throw new InvalidOperationException())], config.Hocon.GetConfig("nwdp.sinks"), config.DataDir)
            .Select(s => s.Section.Name).ToList();
        Assert.Equal(["extra", "files", "flagged"], names);
    }

    [Fact]
    public void A_sink_that_waits_for_hour_completions_stops_the_start_when_watermarks_are_off_naming_its_key()
    {
        var kinds = new ServiceCollection().AddSinkKinds().BuildServiceProvider().GetServices<SinkKind>().ToList();
        SinkCatalog Catalog(string hocon, bool completions) =>
            new(new SinkCatalogSettings(Akka.Configuration.ConfigurationFactory.ParseString(hocon), Path.GetTempPath(), completions), kinds);
        const string hdfs = "archive { kind = hdfs, namenode-url = \"http://127.0.0.1:9870\" }";
        const string hive = "warehouse { kind = hive, directory = \"/tmp/nwdp-hive-test\", register-on = complete }";

        var e = Assert.Throws<SinkConfigException>(() => Catalog(hdfs, completions: false)); // success-on = complete is the default
        Assert.Equal("nwdp.sinks.archive.success-on", e.Key);
        Assert.Contains("nwdp.watermarks.enabled", e.Message);
        Assert.Equal("nwdp.sinks.warehouse.register-on", Assert.Throws<SinkConfigException>(() => Catalog(hive, completions: false)).Key);

        Assert.Equal(["archive"], Catalog(hdfs, completions: true).Names);
        Assert.Equal(["archive"], Catalog("archive { kind = hdfs, namenode-url = \"http://127.0.0.1:9870\", success-on = closed }", completions: false).Names);
    }
}
