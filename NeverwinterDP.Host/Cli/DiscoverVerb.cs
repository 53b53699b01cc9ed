using System.CommandLine;
using System.Text.Json;
using NeverwinterDP.Host.Discovery;
using NeverwinterDP.Protocol.Discovery;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp discover</c>: the nodes a method finds (docs/cluster.md#discovery), as an <c>EmitterClient</c> with
/// <c>Discovery</c> or a starting node with <c>nwdp.cluster.discovery.method</c> would find them. One line per node
/// (or with <c>--json</c> one JSON array); exit 0 when a node answered, 1 when none did, 2 for usage errors.
/// </summary>
public static class DiscoverVerb
{
    private static readonly Option<string?> Method = Flags.Text("--method", "mdns (default), mdns:SERVICE, dns-srv:NAME or dns-srv:NAME@SERVER[:PORT]", "METHOD");
    private static readonly Option<TimeSpan?> Timeout = Flags.Duration("--timeout", "how long to look (default 5s); with mdns it ends sooner, once the nodes that answered settled");
    private static readonly Option<string?> ClusterName = Flags.Text("--cluster", "only nodes that announce this cluster name (nwdp.cluster.discovery.cluster-name)", "NAME");
    private static readonly Option<string[]> Interfaces = Flags.Repeated("--interface", "mdns: query on this network interface only (repeatable; default every multicast-capable one)", "NAME");
    private static readonly Option<bool> Json = Flags.Switch("--json", "print the nodes as one JSON array");

    public static Command Command { get; } = CreateCommand();

    private static Command CreateCommand()
    {
        var command = new Command("discover",
            "Find a cluster's nodes without a list of hosts: over mDNS (nodes announce with nwdp.cluster.discovery.announce = on)\n" +
            "or by a name's DNS SRV records. Prints INSTANCE akka=ADDRESS ingress=URL roles=ROLES cluster=NAME per node.\n" +
            "Exit 0 when a node answered, 1 when none did within --timeout, 2 for usage errors.")
        {
            Method, Timeout, ClusterName, Interfaces, Json,
        };
        command.SetAction((parsed, cancellation) => RunAsync(parsed, Console.Out, cancellation));
        return command;
    }

    public static async Task<int> RunAsync(ParseResult args, TextWriter stdout, CancellationToken cancellation)
    {
        DiscoveryMethod method;
        try
        {
            method = DiscoveryMethod.Parse(args.GetValue(Method) ?? "mdns");
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"flag '--method': {e.Message}");
        }
        var timeout = args.GetValue(Timeout) ?? TimeSpan.FromSeconds(5);
        if (timeout <= TimeSpan.Zero) throw new CliUsageException("flag '--timeout' must be positive");
        var nodes = await ClusterDiscovery.FindAsync(method, timeout, args.GetValue(ClusterName),
            NodeDiscovery.InterfaceFilter(args.GetValue(Interfaces) ?? []), cancellation);
        if (args.GetValue(Json))
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(nodes.Select(n => new
            {
                instance = n.Instance,
                host = n.Host,
                port = n.Port,
                akka = n.Akka,
                receptionist = n.Receptionist,
                ingress = n.Ingress,
                roles = n.Roles,
                cluster = n.Cluster,
            })));
        }
        else
        {
            foreach (var n in nodes)
                await stdout.WriteLineAsync($"{n.Instance} akka={n.Akka} ingress={n.Ingress ?? "-"} roles={(n.Roles.Count == 0 ? "-" : string.Join(',', n.Roles))} cluster={n.Cluster ?? "-"}");
            if (nodes.Count == 0) await Console.Error.WriteLineAsync($"nwdp discover: no node answered {method} within {timeout.TotalSeconds:0.###} s");
        }
        return nodes.Count > 0 ? 0 : 1;
    }
}
