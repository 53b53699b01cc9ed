using NeverwinterDP.Actors.Sinks.Catalog;
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
}
