namespace NeverwinterDP.Protocol.Remote;

/// <summary>
/// Where an EmitterClient finds a node's end of the Akka-remote ingress: the actor every node registers with its
/// ClusterClientReceptionist. Part of the contract, so a client needs nothing of the node to address it.
/// </summary>
public static class RemoteIngressAddress
{
    /// <summary>Name of the node's ingress receptionist under <c>/user</c>.</summary>
    public const string Name = "nwdp-ingress";

    /// <summary>What clients send to: <c>ClusterClient.Send(Path, ...)</c>.</summary>
    public const string Path = "/user/" + Name;
}
