using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Host.Syslog;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using static NeverwinterDP.Tests.TestKit.ClientTestKit;

namespace NeverwinterDP.Tests.Integration.Inputs;

/// <summary>
/// Syslog on a node: util-linux <c>logger</c> over TCP (both framings) and UDP, a real <c>rsyslogd</c> forwarding over
/// RELP (omrelp) and TCP (omfwd), and RELP's answers to what is wrong; every accepted message lands in the files sink once.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SyslogInputSpecs
{
    private static Task<InProcessNode> StartNodeAsync(string dir, string type) =>
        InProcessNode.StartAsync(dir, overrides: new()
        {
            ["nwdp.inputs.syslog.tcp-port"] = "0",
            ["nwdp.inputs.syslog.udp-port"] = "0",
            ["nwdp.inputs.syslog.relp-port"] = "0",
            ["nwdp.inputs.syslog.type"] = type,
        });

    private static IPEndPoint Endpoint(InProcessNode node, string listener) =>
        node.App.Services.GetRequiredService<SyslogService>().Endpoints[listener];

    private static List<JsonElement> Events(InProcessNode node, string type) =>
        node.PublishedLines(TopicNames.ForType(type)).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
    }

    [Fact]
    public async Task Logger_over_TCP_with_either_framing_and_over_UDP_lands_once_with_the_syslog_mapping()
    {
        using var dir = new TempDir();
        await using var node = await StartNodeAsync(dir.Path, "logger");
        var tcp = Endpoint(node, "tcp").Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var udp = Endpoint(node, "udp").Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        await RunAsync("logger", "--tcp", "-n", "127.0.0.1", "-P", tcp, "-t", "web", "-p", "local3.err", "--msgid", "REQ", "--sd-id", "ctx@32473", "--sd-param", "user=\"ann\"", "tcp-newline");
        await RunAsync("logger", "--tcp", "--octet-count", "-n", "127.0.0.1", "-P", tcp, "-t", "web", "-p", "user.warning", "tcp-octets");
        await RunAsync("logger", "--tcp", "--rfc3164", "-n", "127.0.0.1", "-P", tcp, "-t", "legacy", "-p", "daemon.info", "tcp-3164");
        await RunAsync("logger", "--udp", "-n", "127.0.0.1", "-P", udp, "-t", "dgram", "-p", "user.debug", "udp-5424");

        await Eventually(() => Events(node, "logger").Count >= 4, TimeSpan.FromSeconds(60), () => string.Join('\n', node.PublishedLines(TopicNames.ForType("logger"))));
        await Task.Delay(500); // a duplicate would arrive with the others, in the same part files
        var events = Events(node, "logger").ToDictionary(e => e.GetProperty("msg").GetString()!);
        Assert.Equal(["tcp-3164", "tcp-newline", "tcp-octets", "udp-5424"], events.Keys.Order());
        Assert.Equal(4, Events(node, "logger").Count);

        var first = events["tcp-newline"];
        Assert.Equal(("web", "error"), (first.GetProperty("process").GetString(), first.GetProperty("level").GetString()));
        Assert.StartsWith(Environment.MachineName.ToLowerInvariant(), first.GetProperty("host").GetString()!.ToLowerInvariant()); // logger's HOSTNAME, not the address
        Assert.Equal(("local3", "REQ", "ann"), (first.GetProperty("attributes").GetProperty("facility").GetString(), first.GetProperty("attributes").GetProperty("msgid").GetString(), first.GetProperty("attributes").GetProperty("sd.ctx@32473.user").GetString()));
        Assert.Equal(("127.0.0.1", "warn"), (first.GetProperty("ip").GetString(), events["tcp-octets"].GetProperty("level").GetString()));
        Assert.Equal(("legacy", "info", "daemon"), (events["tcp-3164"].GetProperty("process").GetString(), events["tcp-3164"].GetProperty("level").GetString(), events["tcp-3164"].GetProperty("attributes").GetProperty("facility").GetString()));
        Assert.Equal(("dgram", "debug"), (events["udp-5424"].GetProperty("process").GetString(), events["udp-5424"].GetProperty("level").GetString()));
        // Sent just now: the parsed source time is within a minute of the ingress time.
        Assert.InRange(Math.Abs(first.GetProperty("ts").GetInt64() - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), 0, 60_000);
    }

    [Fact]
    public async Task Rsyslogd_forwarding_over_RELP_and_TCP_delivers_every_line_once()
    {
        Assert.True(File.Exists("/usr/sbin/rsyslogd") && File.Exists("/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so") || File.Exists("/usr/lib/rsyslog/omrelp.so"),
            "rsyslogd and omrelp are needed: apt-get install rsyslog rsyslog-relp (./test.sh installs them: scripts/services/rsyslog.sh)");
        using var dir = new TempDir();
        await using var node = await StartNodeAsync(dir.Path, "rsys");
        var work = Directory.CreateDirectory(Path.Combine(dir.Path, "rsyslog")).FullName;
        const int perFile = 200;
        // imfile reads each file from its start: the lines are there before rsyslogd starts.
        foreach (var name in new[] { "relp", "tcp", "legacy" })
            await File.WriteAllLinesAsync(Path.Combine(work, name + ".log"), Enumerable.Range(1, perFile).Select(i => $"{name}-{i} line with some text"));
        var conf = Path.Combine(work, "rsyslog.conf");
        var relpPort = Endpoint(node, "relp").Port;
        var tcpPort = Endpoint(node, "tcp").Port;
        await File.WriteAllTextAsync(conf, $$"""
            global(workDirectory="{{work}}")
            module(load="imfile" mode="polling" PollingInterval="1")
            module(load="omrelp")
            input(type="imfile" File="{{work}}/relp.log" Tag="relpapp:" Facility="local3" Severity="warning" ruleset="relp")
            input(type="imfile" File="{{work}}/tcp.log" Tag="tcpapp:" ruleset="tcp")
            input(type="imfile" File="{{work}}/legacy.log" Tag="legacyapp:" Severity="error" ruleset="legacy")
            ruleset(name="relp") { action(type="omrelp" target="127.0.0.1" port="{{relpPort}}" template="RSYSLOG_SyslogProtocol23Format") }
            ruleset(name="tcp") { action(type="omfwd" target="127.0.0.1" port="{{tcpPort}}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format") }
            ruleset(name="legacy") { action(type="omfwd" target="127.0.0.1" port="{{tcpPort}}" protocol="tcp") }
            """);
        var start = new ProcessStartInfo("/usr/sbin/rsyslogd") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-n", "-f", conf, "-i", Path.Combine(work, "rsyslogd.pid") }) start.ArgumentList.Add(a);
        using var rsyslogd = Process.Start(start)!;
        var output = new StringBuilder();
        rsyslogd.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        rsyslogd.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        rsyslogd.BeginOutputReadLine();
        rsyslogd.BeginErrorReadLine();
        try
        {
            await Eventually(() => Events(node, "rsys").Count >= 3 * perFile || rsyslogd.HasExited, TimeSpan.FromSeconds(120),
                () => $"{Events(node, "rsys").Count} of {3 * perFile} landed; rsyslogd said: {output}");
            Assert.False(rsyslogd.HasExited, $"rsyslogd exited {(rsyslogd.HasExited ? rsyslogd.ExitCode : 0)}: {output}");
        }
        finally
        {
            if (!rsyslogd.HasExited)
            {
                rsyslogd.Kill();
                await rsyslogd.WaitForExitAsync();
            }
        }
        await Task.Delay(500);
        var events = Events(node, "rsys");
        var messages = events.Select(e => e.GetProperty("msg").GetString()!).ToList();
        Assert.Equal(3 * perFile, messages.Count);
        Assert.Equal(3 * perFile, messages.Distinct().Count());
        foreach (var name in new[] { "relp", "tcp", "legacy" })
            Assert.Equal(Enumerable.Range(1, perFile).Select(i => $"{name}-{i} line with some text").Order(), messages.Where(m => m.StartsWith(name + "-", StringComparison.Ordinal)).Order());

        var relp = events.First(e => e.GetProperty("msg").GetString()!.StartsWith("relp-", StringComparison.Ordinal));
        Assert.Equal(("relpapp", "warn", "local3"), (relp.GetProperty("process").GetString(), relp.GetProperty("level").GetString(), relp.GetProperty("attributes").GetProperty("facility").GetString()));
        Assert.NotEqual("127.0.0.1", relp.GetProperty("host").GetString());
        var legacy = events.First(e => e.GetProperty("msg").GetString()!.StartsWith("legacy-", StringComparison.Ordinal));
        Assert.Equal(("legacyapp", "error"), (legacy.GetProperty("process").GetString(), legacy.GetProperty("level").GetString()));
        var tcp = events.First(e => e.GetProperty("msg").GetString()!.StartsWith("tcp-", StringComparison.Ordinal));
        Assert.Equal("tcpapp", tcp.GetProperty("process").GetString());
    }

    [Fact]
    public async Task Relp_answers_200_when_durable_500_for_a_malformed_message_and_serverclose_for_broken_framing()
    {
        using var dir = new TempDir();
        await using var node = await StartNodeAsync(dir.Path, "relp");
        var relp = Endpoint(node, "relp");

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(relp);
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII);
            await Send(stream, "1 syslog 13 <13>1 - - - -");
            Assert.Equal("1 rsp 47 500 the session is not open (send 'open' first)", await reader.ReadLineAsync());
            const string offers = "relp_version=0\nrelp_software=test\ncommands=syslog";
            await Send(stream, $"2 open {offers.Length} {offers}");
            Assert.Equal("2 rsp 56 200 OK", await reader.ReadLineAsync());
            Assert.Equal(["relp_version=0", "relp_software=nwdp", "commands=syslog"], new[] { await reader.ReadLineAsync(), await reader.ReadLineAsync(), await reader.ReadLineAsync() }.Select(l => l ?? "(end)").ToArray());
            const string good = "<14>1 2026-12-05T20:00:00Z h app - - - relp-good";
            const string bad = "<14>1 yesterday h app - - - relp-bad";
            await Send(stream, $"3 syslog {good.Length} {good}\n4 syslog {bad.Length} {bad}\n5 close 0");
            Assert.Equal("3 rsp 6 200 OK", await reader.ReadLineAsync());
            Assert.StartsWith("4 rsp ", await reader.ReadLineAsync() is var refused ? refused : "");
            Assert.Contains("500 RFC 5424 TIMESTAMP 'yesterday' is not an RFC 3339 date-time", refused);
            Assert.Equal("5 rsp 0", await reader.ReadLineAsync());
            Assert.Null(await reader.ReadLineAsync()); // closed by the node
        }

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(relp);
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII);
            await Send(stream, "1 open 0\n2 syslog 3 abcdef");
            Assert.StartsWith("1 rsp ", await reader.ReadLineAsync());
            while (await reader.ReadLineAsync() is { } line && line != "0 serverclose 0") { }
            Assert.Null(await reader.ReadLineAsync());
        }

        await Eventually(() => Events(node, "relp").Count >= 1, TimeSpan.FromSeconds(60));
        await Task.Delay(300);
        Assert.Equal(["relp-good"], Events(node, "relp").Select(e => e.GetProperty("msg").GetString()));
        var metrics = await node.Client.GetStringAsync("/metrics");
        Assert.Contains("nwdp_syslog_connections_closed_total{listener=\"relp\",reason=\"bad_framing\"} 1", metrics);
        Assert.Contains("nwdp_syslog_messages_total{listener=\"relp\",outcome=\"accepted\"} 1", metrics);
    }

    [Fact]
    public async Task Broken_tcp_framing_closes_the_connection_after_the_whole_frames_before_it()
    {
        using var dir = new TempDir();
        await using var node = await StartNodeAsync(dir.Path, "broken");

        using var client = new TcpClient();
        await client.ConnectAsync(Endpoint(node, "tcp"));
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("<13>before the break\n99999999 <13>too long for max-message-bytes"));
        var buffer = new byte[16];
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30))); // closed by the node

        await Eventually(() => Events(node, "broken").Count >= 1, TimeSpan.FromSeconds(60));
        Assert.Equal(["before the break"], Events(node, "broken").Select(e => e.GetProperty("msg").GetString()));
    }

    [Fact]
    public async Task Syslog_over_TLS_uses_the_ingress_certificate_and_lands_once()
    {
        using var dir = new TempDir();
        using (var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            using var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Combine(dir.Path, "node.crt"), self.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(dir.Path, "node.key"), key.ExportPkcs8PrivateKeyPem());
        }
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "data"), overrides: new()
        {
            ["nwdp.inputs.syslog.tls-port"] = "0",
            ["nwdp.inputs.syslog.type"] = "tls",
            ["nwdp.security.tls.cert-file"] = Path.Combine(dir.Path, "node.crt"),
            ["nwdp.security.tls.key-file"] = Path.Combine(dir.Path, "node.key"),
        });

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(Endpoint(node, "tls"));
            await using var tls = new System.Net.Security.SslStream(client.GetStream(), false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync("127.0.0.1");
            const string a = "<38>1 2026-12-05T20:00:00Z bastion sshd 77 - - over tls one";
            await tls.WriteAsync(Encoding.UTF8.GetBytes($"{a.Length} {a}<38>Dec  5 20:00:01 bastion sshd[77]: over tls two\n"));
            await tls.FlushAsync();
        }

        await Eventually(() => Events(node, "tls").Count >= 2, TimeSpan.FromSeconds(60));
        await Task.Delay(300);
        var events = Events(node, "tls");
        Assert.Equal(["over tls one", "over tls two"], events.Select(e => e.GetProperty("msg").GetString()).Order());
        Assert.All(events, e => Assert.Equal(("bastion", "sshd", "auth"), (e.GetProperty("host").GetString(), e.GetProperty("process").GetString(), e.GetProperty("attributes").GetProperty("facility").GetString())));
    }

    private static Task Send(NetworkStream stream, string frames) => stream.WriteAsync(Encoding.ASCII.GetBytes(frames + "\n")).AsTask();
}
