using System.Collections.Concurrent;
using System.Net.NetworkInformation;
using DnsClient;
using Makaretu.Dns;

namespace NeverwinterDP.Protocol.Discovery;

/// <summary>
/// Finds a cluster's nodes without a list of hosts (docs/cluster.md#discovery): by DNS-SD over multicast DNS, where
/// nodes announce themselves (<c>nwdp.cluster.discovery.announce</c>), or by the SRV records of a name in a data
/// centre's DNS. Used by NeverwinterDP.Client's <c>EmitterClient</c> (<c>EmitterClientOptions.Discovery</c>) and by a node
/// looking for seed nodes (<c>nwdp.cluster.discovery.method</c>).
/// </summary>
public static class ClusterDiscovery
{
    /// <summary>
    /// After the first node answered an mDNS query, how much longer answers are collected (the others of the same
    /// cluster answer within the same second: RFC 6762 lets a responder delay 20-120 ms, or up to 500 ms).
    /// </summary>
    public static readonly TimeSpan MdnsSettle = TimeSpan.FromMilliseconds(750);

    /// <summary>How often an unanswered mDNS query is sent again while waiting (RFC 6762 5.2 starts at one second).</summary>
    public static readonly TimeSpan MdnsRequery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The nodes found by <paramref name="method"/>, in a stable order (by Akka address); empty when none answered
    /// within <paramref name="timeout"/>. With <paramref name="cluster"/>, nodes that announce another cluster name
    /// are left out (nodes that give none are kept).
    /// </summary>
    /// <param name="interfaces">mDNS only: which network interfaces to query on; null = every multicast-capable one.</param>
    public static async Task<IReadOnlyList<NodeAnnouncement>> FindAsync(DiscoveryMethod method, TimeSpan timeout, string? cluster = null,
        Func<IEnumerable<NetworkInterface>, IEnumerable<NetworkInterface>>? interfaces = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        var found = method.Multicast
            ? await FindByMdnsAsync(method.Name, timeout, interfaces, cancellation).ConfigureAwait(false)
            : await FindBySrvAsync(method, timeout, cancellation).ConfigureAwait(false);
        return found
            .Where(n => cluster is null || n.Cluster is null || n.Cluster == cluster)
            .GroupBy(n => n.Akka).Select(g => g.First())
            .OrderBy(n => n.Akka, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The receptionists (<c>akka.tcp://nwdp@HOST:PORT/system/receptionist</c>) of the nodes found; throws when none
    /// answered, naming the method, so that a client does not start with nowhere to send.
    /// </summary>
    /// <exception cref="InvalidOperationException">No node was found within <paramref name="timeout"/>.</exception>
    public static async Task<IReadOnlyList<string>> ContactPointsAsync(DiscoveryMethod method, TimeSpan timeout, string? cluster = null, CancellationToken cancellation = default)
    {
        var nodes = await FindAsync(method, timeout, cluster, null, cancellation).ConfigureAwait(false);
        return nodes.Count > 0
            ? nodes.Select(n => n.Receptionist).ToList()
            : throw new InvalidOperationException($"discovery {method}: no node answered within {timeout.TotalSeconds:0.###} s" +
                (cluster is null ? "" : $" for cluster '{cluster}'") +
                (method.Multicast ? " (are nodes announcing with nwdp.cluster.discovery.announce = on, on this network, with multicast allowed?)" : ""));
    }

    /// <summary>
    /// One PTR query for <c>SERVICE.local</c>, sent again each <see cref="MdnsRequery"/> until a node answered; SRV and
    /// TXT records come with the answer (as additional records) or are asked for per instance.
    /// </summary>
    private static async Task<IReadOnlyList<NodeAnnouncement>> FindByMdnsAsync(string serviceType, TimeSpan timeout,
        Func<IEnumerable<NetworkInterface>, IEnumerable<NetworkInterface>>? interfaces, CancellationToken cancellation)
    {
        var service = new DomainName(serviceType + ".local");
        var instances = new ConcurrentDictionary<DomainName, Instance>();
        var firstFound = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var mdns = new MdnsChannel(interfaces);
        mdns.Received += (message, _) =>
        {
            if (!message.QR) return; // another browser's query
            var records = message.Answers.Concat(message.AdditionalRecords).ToList();
            foreach (var ptr in records.OfType<PTRRecord>().Where(p => p.Name == service))
                if (instances.TryAdd(ptr.DomainName, new Instance()) && !records.Any(r => r is SRVRecord && r.Name == ptr.DomainName))
                    mdns.Send(Query(ptr.DomainName, DnsType.ANY)); // its SRV and TXT did not come with the answer
            foreach (var record in records)
            {
                if (!instances.TryGetValue(record.Name, out var instance)) continue;
                lock (instance)
                {
                    if (record is SRVRecord srv && srv.TTL > TimeSpan.Zero) instance.Srv = srv;
                    if (record is TXTRecord txt && txt.TTL > TimeSpan.Zero) instance.Txt = txt.Strings.ToList();
                    // A goodbye (TTL 0, RFC 6762 10.1): the node is leaving.
                    instance.Gone = record.TTL == TimeSpan.Zero;
                    if (instance is { Srv: not null, Txt: not null, Gone: false }) firstFound.TrySetResult();
                }
            }
        };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            while (!firstFound.Task.IsCompleted)
            {
                mdns.Send(Query(service, DnsType.PTR));
                await Task.WhenAny(firstFound.Task, Task.Delay(MdnsRequery, deadline.Token)).ConfigureAwait(false);
                deadline.Token.ThrowIfCancellationRequested();
            }
            await Task.Delay(MdnsSettle, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            // The timeout: what answered by now is the answer.
        }
        cancellation.ThrowIfCancellationRequested();
        var found = new List<NodeAnnouncement>();
        foreach (var (name, instance) in instances)
            lock (instance)
                if (instance is { Srv: { } srv, Txt: { } txt, Gone: false })
                    found.Add(NodeAnnouncement.FromRecords(InstanceLabel(name, service), srv.Target.ToString(), srv.Port, txt));
        return found;
    }

    /// <summary>
    /// The SRV records of the name (RFC 2782), in priority order: each target and port is a node's cluster address
    /// (<c>akka.tcp://nwdp@TARGET:PORT</c>), so the target must be the node's <c>nwdp.cluster.hostname</c> as written.
    /// </summary>
    private static async Task<IReadOnlyList<NodeAnnouncement>> FindBySrvAsync(DiscoveryMethod method, TimeSpan timeout, CancellationToken cancellation)
    {
        var options = method.Server is { } server ? new LookupClientOptions(new NameServer(server)) : new LookupClientOptions();
        options.Timeout = timeout;
        options.Retries = 1;
        options.UseCache = false;
        options.ThrowDnsErrors = false;
        options.UseTcpFallback = true;
        var client = new LookupClient(options);
        IDnsQueryResponse answer;
        try
        {
            answer = await client.QueryAsync(method.Name, QueryType.SRV, QueryClass.IN, cancellation).ConfigureAwait(false);
        }
        catch (DnsResponseException)
        {
            return []; // no server answered
        }
        if (answer.HasError) return [];
        return answer.Answers.SrvRecords()
            .OrderBy(s => s.Priority).ThenByDescending(s => s.Weight)
            .Select(s => NodeAnnouncement.FromRecords(s.Target.Value.TrimEnd('.'), s.Target.Value, s.Port, null))
            .ToList();
    }

    private static Message Query(DomainName name, DnsType type)
    {
        var query = new Message();
        query.Questions.Add(new Question { Name = name, Class = DnsClass.IN, Type = type });
        return query;
    }

    private static string InstanceLabel(DomainName instance, DomainName service)
    {
        var labels = instance.Labels;
        return string.Join('.', labels.Take(labels.Count - service.Labels.Count));
    }

    private sealed class Instance
    {
        public SRVRecord? Srv { get; set; }

        public List<string>? Txt { get; set; }

        public bool Gone { get; set; }
    }
}
