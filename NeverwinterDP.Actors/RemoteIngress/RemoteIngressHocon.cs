using NeverwinterDP.Protocol.Remote;

namespace NeverwinterDP.Actors.RemoteIngress;

/// <summary>The Akka configuration both ends of the Akka-remote ingress need (as a fallback under their own).</summary>
public static class RemoteIngressHocon
{
    /// <summary>
    /// Largest remoting frame either side accepts or sends (<c>akka.remote.dot-netty.tcp.maximum-frame-size</c>);
    /// a larger message is dropped by Akka, so batches stay below it (see <c>max-batch-bytes</c>).
    /// </summary>
    public const long MaxFrameBytes = 8L << 20;

    /// <summary>Serializer bindings and frame size, for a node and for a client.</summary>
    public const string Node = EmitterSerializer.Hocon + """

        akka.remote.dot-netty.tcp.maximum-frame-size = 8MiB
        """;
}
