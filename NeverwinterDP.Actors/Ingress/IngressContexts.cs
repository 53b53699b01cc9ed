using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Ingress;

/// <summary>
/// Makes the <see cref="IngressContext"/> of one request for every way into the bus (HTTP, Akka remote), so
/// that both stamp the same ingress time, node id and per-source sequence numbers.
/// </summary>
/// <param name="node">This node's id for lineage (read per request: it is known once the ingress port is bound).</param>
/// <param name="sequences">The node's per-source (host, process) sequence numbers.</param>
public sealed class IngressContexts(INodeIdentity node, TimeProvider clock, SourceSequences sequences)
{
    /// <param name="defaultType">The type for events that give none (<c>?type=</c>).</param>
    /// <param name="host">The sender's host, for events that give none.</param>
    /// <param name="ip">The sender's address, for events that give none.</param>
    public IngressContext For(string? defaultType, string host, string ip) =>
        new(defaultType, host, ip, node.Id, clock.GetUtcNow().ToUnixTimeMilliseconds()) { NextSourceSeq = sequences.Next };
}
