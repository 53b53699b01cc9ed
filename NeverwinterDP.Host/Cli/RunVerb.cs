using NeverwinterDP.Host.Hosting;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp run</c>: starts a node. Prints <c>ready http=... kafka=... data=...</c> on standard output once it
/// accepts traffic; Ctrl-C / SIGTERM stop it gracefully (stop accepting, answer requests in flight, drain
/// the pump, commit) and it exits 0.
/// </summary>
public static class RunVerb
{
    public static readonly VerbSpec Spec = new(
        "run",
        "Start a node: HTTP ingress, Kafka bus (embedded in-memory broker unless --kafka is given), data pump and sinks.\n" +
        "Prints 'ready http=URL kafka=BOOTSTRAP data=DIR' on standard output when it accepts traffic.",
        [
            new OptionSpec("--data", "data directory (nwdp.node.data-dir; default ./data)", "DIR"),
            new OptionSpec("--http", "HTTP listen address (nwdp.http.endpoint; default 127.0.0.1:8080; port 0 = any free port)", "ADDR:PORT"),
            new OptionSpec("--kafka", "bootstrap servers of a real Kafka cluster (nwdp.kafka.bootstrap-servers); none = embedded broker", "BOOTSTRAP"),
            new OptionSpec("--config", "HOCON file to use instead of the cluster.hocon beside the executable", "FILE"),
            new OptionSpec("--set", "override one HOCON key, e.g. --set nwdp.pump.flush-interval=1s (repeatable)", "KEY=VALUE", Repeatable: true),
        ],
        RunAsync);

    public static async Task<int> RunAsync(CliArgs args, CancellationToken cancellation)
    {
        var config = LoadConfig(args);
        Directory.CreateDirectory(config.DataDir);
        await using var app = NodeHost.Build(config);
        await app.StartAsync(cancellation);
        var http = app.HttpAddress();
        app.Services.GetRequiredService<NeverwinterDP.Host.Http.NodeIdentity>().Id = config.ResolveNodeId(http.Port);
        var bus = app.Services.GetRequiredService<KafkaBus>();
        Console.Out.WriteLine($"ready http={http.ToString().TrimEnd('/')} kafka={bus.BootstrapServers} data={config.DataDir}");
        Console.Out.Flush();
        // Standard output carries only the ready line: whatever else writes to the console (Akka's own
        // loggers while the system shuts down) goes to standard error.
        Console.SetOut(Console.Error);
        await app.WaitForShutdownAsync(cancellation);
        return 0;
    }

    public static NodeConfig LoadConfig(CliArgs args)
    {
        var overrides = new Dictionary<string, string>();
        if (args.Get("--data") is { } data) overrides["nwdp.node.data-dir"] = data;
        if (args.Get("--http") is { } http)
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
        if (args.Get("--kafka") is { } kafka) overrides["nwdp.kafka.bootstrap-servers"] = kafka;
        foreach (var set in args.GetAll("--set"))
        {
            var eq = set.IndexOf('=');
            if (eq <= 0) throw new CliUsageException($"flag '--set' takes KEY=VALUE, got '{set}'");
            overrides[set[..eq].Trim()] = set[(eq + 1)..].Trim();
        }
        try
        {
            return NodeConfig.Load(args.Get("--config"), overrides);
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or Akka.Configuration.ConfigurationException or FormatException)
        {
            throw new CliUsageException(e.Message);
        }
    }
}
