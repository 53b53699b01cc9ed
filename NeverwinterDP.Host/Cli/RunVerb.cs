using System.CommandLine;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp run</c>: starts a node. Prints <c>ready http=... kafka=... data=... node=... admin=...</c> on standard output once it
/// accepts traffic; Ctrl-C / SIGTERM stop it gracefully (stop accepting, answer requests in flight, drain
/// the pump, commit) and it exits 0.
/// </summary>
public static class RunVerb
{
    private static readonly Option<string?> Data = Flags.Text("--data", "data directory (nwdp.node.data-dir; default ./data)", "DIR");
    private static readonly Option<string?> HttpEndpoint = Flags.Text("--http", "HTTP listen address (nwdp.http.endpoint; default 127.0.0.1:8080; port 0 = any free port)", "ADDR:PORT");
    private static readonly Option<string?> Kafka = Flags.Text("--kafka", "bootstrap servers of a real Kafka cluster (nwdp.kafka.bootstrap-servers); none = embedded broker", "BOOTSTRAP");
    private static readonly Option<string?> NodePort = Flags.Text("--node-port", "Akka remoting port of this node (nwdp.cluster.port; default 0 = any free port, printed as node=...)", "PORT");
    private static readonly Option<string?> NodeHostName = Flags.Text("--node-host", "host name or IP other nodes reach this node at (nwdp.cluster.hostname; default 127.0.0.1)", "HOST");
    private static readonly Option<string?> Seed = Flags.Text("--seed", "seed nodes to join, comma-separated (nwdp.cluster.seeds); none = a cluster of one", "HOST:PORT[,HOST:PORT...]");
    private static readonly Option<string?> Roles = Flags.Text("--roles", "what this node does, comma-separated: ingress, pump (nwdp.cluster.roles; default both)", "ROLES");
    private static readonly Option<string?> AdminEndpoint = Flags.Text("--admin", "admin API listen address (nwdp.admin.endpoint; default 127.0.0.1:9110; port 0 = any free port; off = none)", "HOST:PORT");
    private static readonly Option<string?> TlsCert = Flags.Text("--tls-cert", "certificate of the HTTP listener: PEM (with --tls-key) or .pfx/.p12 (nwdp.security.tls.cert-file); none = plain HTTP", "FILE");
    private static readonly Option<string?> TlsKey = Flags.Text("--tls-key", "private key (PEM) of --tls-cert (nwdp.security.tls.key-file)", "FILE");
    private static readonly Option<string?> ConfigFile = Flags.Text("--config", "HOCON file to use instead of the cluster.hocon beside the executable", "FILE");
    private static readonly Option<string[]> Set = Flags.Repeated("--set", "override one HOCON key, e.g. --set nwdp.pump.flush-interval=1s (repeatable)", "KEY=VALUE");

    public static Command Command { get; } = CreateCommand();

    private static Command CreateCommand()
    {
        var command = new Command("run",
            "Start a node: HTTP ingress, Kafka bus (embedded in-memory broker unless --kafka is given), data pump and sinks.\n" +
            "Prints 'ready http=URL kafka=BOOTSTRAP data=DIR node=AKKA-ADDRESS admin=URL' on standard output when it accepts traffic\n" +
            "(admin=... only when the admin API is on; schemas=URL: the schema registry clients use).")
        {
            Data, HttpEndpoint, Kafka, NodePort, NodeHostName, Seed, Roles, AdminEndpoint, TlsCert, TlsKey, ConfigFile, Set,
        };
        command.SetAction((parsed, cancellation) => RunAsync(parsed, cancellation));
        return command;
    }

    public static async Task<int> RunAsync(ParseResult args, CancellationToken cancellation)
    {
        var config = LoadConfig(args);
        Directory.CreateDirectory(config.DataDir);
        WebApplication built;
        try
        {
            built = NodeHost.Build(config);
        }
        catch (NeverwinterDP.Protocol.AtRest.SpillKeyException e)
        {
            await args.InvocationConfiguration.Error.WriteLineAsync("nwdp run: " + e.Message);
            return 1;
        }
        await using var app = built;
        await app.StartAsync(cancellation);
        Console.Out.WriteLine(ReadyLine(app, config));
        Console.Out.Flush();
        // Standard output carries only the ready line: whatever else writes to the console (Akka's own
        // loggers while the system shuts down) goes to standard error.
        Console.SetOut(Console.Error);
        await app.WaitForShutdownAsync(cancellation);
        var exit = app.Services.GetRequiredService<NeverwinterDP.Host.Node.NodeExit>();
        if (exit.Reason is { } reason) await args.InvocationConfiguration.Error.WriteLineAsync("nwdp run: " + reason);
        return exit.Code;
    }

    /// <summary>
    /// <c>ready http=URL kafka=BOOTSTRAP data=DIR node=AKKA-ADDRESS [admin=URL] [schemas=URL]</c>: the first three fields
    /// stay first and unchanged (scripts parse them); the cluster address, the admin API and the schema registry follow,
    /// then the syslog listeners and the ZeroMQ input (<c>zeromq=tcp://HOST:PORT</c>) that are on.
    /// </summary>
    public static string ReadyLine(WebApplication app, NodeConfig config)
    {
        var http = app.HttpAddress().ToString().TrimEnd('/');
        var bus = app.Services.GetRequiredService<KafkaBus>();
        var line = $"ready http={http} kafka={bus.BootstrapServers} data={config.DataDir} node={app.ClusterAddress()}";
        if (app.AdminAddress() is { } admin) line += $" admin={admin.ToString().TrimEnd('/')}";
        if (app.SchemaRegistryAddress() is { } schemas) line += $" schemas={schemas.ToString().TrimEnd('/')}";
        // One NAME=URL per syslog listener that is on: syslog-tcp, syslog-tls, syslog-udp, relp.
        foreach (var (name, endpoint) in app.Services.GetRequiredService<NeverwinterDP.Host.Syslog.SyslogService>().Endpoints)
            line += name == "relp" ? $" relp=relp://{endpoint}" : $" syslog-{name}={name}://{endpoint}";
        if (app.Services.GetRequiredService<NeverwinterDP.Host.ZeroMq.ZeroMqService>().Endpoint is { } zeromq) line += $" zeromq={zeromq}";
        return line;
    }

    public static NodeConfig LoadConfig(ParseResult args)
    {
        var overrides = new Dictionary<string, string>();
        if (args.GetValue(Data) is { } data) overrides["nwdp.node.data-dir"] = data;
        if (args.GetValue(TlsCert) is { } tlsCert) overrides["nwdp.security.tls.cert-file"] = tlsCert;
        if (args.GetValue(TlsKey) is { } tlsKey) overrides["nwdp.security.tls.key-file"] = tlsKey;
        if (args.GetValue(NodePort) is { } nodePort)
        {
            if (!int.TryParse(nodePort, out var p) || p is < 0 or > 65535)
                throw new CliUsageException($"flag '--node-port' must be a port number (0 = any free port), got '{nodePort}'");
            overrides["nwdp.cluster.port"] = nodePort;
        }
        if (args.GetValue(NodeHostName) is { } nodeHost) overrides["nwdp.cluster.hostname"] = nodeHost;
        if (args.GetValue(Seed) is { } seeds)
        {
            foreach (var seed in seeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                try
                {
                    ClusterOptions.SeedAddress(seed);
                }
                catch (ArgumentException e)
                {
                    throw new CliUsageException($"flag '--seed': {e.Message}");
                }
            }
            overrides["nwdp.cluster.seeds"] = seeds;
        }
        if (args.GetValue(Roles) is { } roles)
        {
            foreach (var role in roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (!NeverwinterDP.Actors.NodeRoles.All.Contains(role))
                    throw new CliUsageException($"flag '--roles': unknown role '{role}'; roles are {string.Join(", ", NeverwinterDP.Actors.NodeRoles.All)}");
            overrides["nwdp.cluster.roles"] = roles;
        }
        if (args.GetValue(AdminEndpoint) is { } admin)
        {
            if (admin != "off")
            {
                try
                {
                    NodeConfig.ParseEndpoint(admin, "flag '--admin'");
                }
                catch (ArgumentException e)
                {
                    throw new CliUsageException(e.Message);
                }
            }
            overrides["nwdp.admin.endpoint"] = admin;
        }
        if (args.GetValue(HttpEndpoint) is { } http)
        {
            try
            {
                NodeConfig.ParseEndpoint(http, "flag '--http'");
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException(e.Message);
            }
            overrides["nwdp.http.endpoint"] = http;
        }
        if (args.GetValue(Kafka) is { } kafka) overrides["nwdp.kafka.bootstrap-servers"] = kafka;
        foreach (var set in args.GetValue(Set)!)
        {
            var eq = set.IndexOf('=');
            if (eq <= 0) throw new CliUsageException($"flag '--set' takes KEY=VALUE, got '{set}'");
            overrides[set[..eq].Trim()] = set[(eq + 1)..].Trim();
        }
        try
        {
            return NodeConfig.Load(args.GetValue(ConfigFile), overrides);
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or Akka.Configuration.ConfigurationException or FormatException)
        {
            throw new CliUsageException(e.Message);
        }
    }
}
