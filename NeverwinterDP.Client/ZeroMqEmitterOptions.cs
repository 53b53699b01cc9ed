namespace NeverwinterDP.Client;

/// <summary>How a <see cref="ZeroMqEmitter"/> reaches a node's ZeroMQ input (<c>nwdp.inputs.zeromq</c>), waits and resends.</summary>
public sealed record ZeroMqEmitterOptions
{
    /// <summary>The node's ROUTER endpoint, <c>tcp://HOST:PORT</c> (its ready line prints it as <c>zeromq=</c>).</summary>
    public required string Endpoint { get; init; }

    /// <summary>Host for events that give none (ZeroMQ does not tell the node who sent). Default: the machine name.</summary>
    public string Host { get; init; } = Environment.MachineName;

    /// <summary>Process for events that give none (empty, or <c>unknown</c>). Default: this process's name.</summary>
    public string Process { get; init; } = System.Diagnostics.Process.GetCurrentProcess().ProcessName;

    /// <summary>The log type of events that give none (sent as the format's <c>;type=</c>); null = the node's <c>default</c>.</summary>
    public string? Type { get; init; }

    /// <summary>
    /// Batches sent and not yet acknowledged (in flight, waiting to be resent). When this many are pending,
    /// <see cref="ZeroMqEmitter.SendAsync(IReadOnlyList{NeverwinterDP.Protocol.LogEvent}, CancellationToken)"/> waits for one to end.
    /// </summary>
    public int MaxPendingBatches { get; init; } = 32;

    /// <summary>The largest payload sent; keep it at most the node's <c>nwdp.inputs.zeromq.max-batch-bytes</c> (4 MiB). A larger batch is refused at once.</summary>
    public long MaxBatchBytes { get; init; } = 4L << 20;

    /// <summary>
    /// A batch not answered within this makes the emitter close its socket, connect again and resend every pending
    /// batch (answers to the old socket would be lost).
    /// </summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>When a 429 or 503 answer gives no <c>retryAfterMs</c>: how long before the batch is sent again.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long <see cref="ZeroMqEmitter.DisposeAsync"/> waits for pending batches to be acknowledged; the rest fail.</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
