using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// The ZeroMQ ROUTER input (HOCON <c>nwdp.inputs.zeromq</c>; every default in Host/Configuration/reference.conf):
/// batches in the wire format of <see cref="NeverwinterDP.Protocol.ZeroMqWire"/>, each answered once durable.
/// </summary>
public sealed record ZeroMqOptions
{
    /// <summary><c>host</c>: the address the ROUTER socket binds.</summary>
    public required string Host { get; init; }

    /// <summary><c>port</c>: off, a port number, or 0 (any free port, printed in the ready line as <c>zeromq=</c>).</summary>
    public int? Port { get; init; }

    /// <summary><c>max-batch-bytes</c>: a larger payload frame is answered 413; a frame over twice this is cut by ZeroMQ (the peer is disconnected).</summary>
    public required long MaxBatchBytes { get; init; }

    /// <summary><c>max-in-flight-batches</c>: batches being made durable at once; past it a batch is answered 429.</summary>
    public required int MaxInFlightBatches { get; init; }

    /// <summary><c>remembered-batches</c>: ids of the last batches made durable, answered again without taking them twice when resent.</summary>
    public required int RememberedBatches { get; init; }

    public static ZeroMqOptions FromConfig(ConfigReader zeromq)
    {
        ArgumentNullException.ThrowIfNull(zeromq);
        var port = zeromq.String("port").Trim();
        int? parsed = port.Equals("off", StringComparison.OrdinalIgnoreCase) || port.Equals("false", StringComparison.OrdinalIgnoreCase) || port.Length == 0
            ? null
            : int.TryParse(port, out var p) && p is >= 0 and <= 65535
                ? p
                : throw new ArgumentException($"{zeromq.Key("port")} must be off, a port number, or 0 (any free port); got '{port}'");
        return new ZeroMqOptions
        {
            Host = zeromq.String("host").Trim(),
            Port = parsed,
            MaxBatchBytes = Math.Clamp(zeromq.Bytes("max-batch-bytes"), 1024, 1L << 30),
            MaxInFlightBatches = zeromq.PositiveInt("max-in-flight-batches"),
            RememberedBatches = zeromq.PositiveInt("remembered-batches"),
        };
    }
}
