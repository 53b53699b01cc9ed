using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Monitoring;

/// <summary>
/// The Ganglia exporter against a real gmond (Debian's ganglia-monitor; scripts/services/ganglia.sh): a private gmond
/// on free loopback ports (udp_recv_channel, tcp_accept_channel), a node sending to it every second, and the metrics
/// read back from gmond's XML port.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class GangliaExporterSpecs(ITestOutputHelper output)
{
    private const string Gmond = "/usr/sbin/gmond";

    private static int FreeUdpPort()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
    }

    private static int FreeTcpPort()
    {
        var tcp = new TcpListener(IPAddress.Loopback, 0);
        tcp.Start();
        var port = ((IPEndPoint)tcp.LocalEndpoint).Port;
        tcp.Stop();
        return port;
    }

    /// <summary>gmond's XML dump: it writes the whole cluster state and closes the connection.</summary>
    private static async Task<string?> ReadXmlAsync(int port)
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            using var reader = new StreamReader(tcp.GetStream(), Encoding.UTF8);
            return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static string? Metric(string xml, string name) =>
        Regex.Match(xml, $"<METRIC NAME=\"{Regex.Escape(name)}\" VAL=\"([^\"]*)\"") is { Success: true } m ? m.Groups[1].Value : null;

    [Fact]
    public async Task The_node_metrics_arrive_in_a_real_gmond()
    {
        Assert.True(File.Exists(Gmond), $"{Gmond} is missing: apt-get install ganglia-monitor (scripts/services/ganglia.sh)");
        using var dir = new TempDir();
        var udpPort = FreeUdpPort();
        var xmlPort = FreeTcpPort();
        var conf = Path.Combine(dir.Path, "gmond.conf");
        await File.WriteAllTextAsync(conf, $$"""
            globals {
              daemonize = no
              setuid = no
              debug_level = 0
              mute = no
              deaf = no
              allow_extra_data = yes
              host_dmax = 0
              host_tmax = 20
              cleanup_threshold = 300
              gexec = no
              send_metadata_interval = 0
            }
            cluster { name = "nwdp-test" }
            udp_recv_channel { bind = 127.0.0.1 port = {{udpPort}} }
            tcp_accept_channel { bind = 127.0.0.1 port = {{xmlPort}} }
            """);
        await using var gmond = ChildProcess.Start("gmond", Gmond, ["-c", conf, "-f"], dir.Path);
        await Wait.UntilAsync(async () => gmond.HasExited || await ReadXmlAsync(xmlPort) is not null, TimeSpan.FromSeconds(20), () => gmond.Describe());
        Assert.False(gmond.HasExited, gmond.Describe());

        using var data = new TempDir();
        await using var node = await InProcessNode.StartAsync(data.Path, overrides: new()
        {
            ["nwdp.monitoring.ganglia.host"] = "127.0.0.1",
            ["nwdp.monitoring.ganglia.port"] = udpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["nwdp.monitoring.ganglia.interval"] = "1s",
        });
        const int n = 12;
        var post = await node.PostNdjsonAsync(Enumerable.Range(0, n).Select(i => $$"""{"msg":"m-{{i}}","host":"h1","type":"ganglia"}"""));
        Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());

        string xml = "";
        await Wait.UntilAsync(async () =>
        {
            xml = await ReadXmlAsync(xmlPort) ?? "";
            return Metric(xml, "nwdp_ingress_events_accepted") is { } v && double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) >= n
                   && Metric(xml, "nwdp_bus_up") == "1" && Metric(xml, "nwdp_sink_files_lag_records") is not null;
        }, TimeSpan.FromSeconds(60), () => $"gmond's XML:\n{xml}\n{gmond.Describe()}");
        output.WriteLine(string.Join('\n', xml.Split('\n').Where(l => l.Contains("nwdp_", StringComparison.Ordinal))));
        Assert.Matches("<METRIC NAME=\"nwdp_bus_up\" VAL=\"1\" TYPE=\"uint32\"", xml);
        Assert.Matches("<METRIC NAME=\"nwdp_ingress_events_accepted\" VAL=\"[0-9]+\" TYPE=\"double\" UNITS=\"events\"[^>]*SLOPE=\"positive\"", xml);
        Assert.Contains("<EXTRA_ELEMENT NAME=\"GROUP\" VAL=\"nwdp\"/>", xml);
    }
}
