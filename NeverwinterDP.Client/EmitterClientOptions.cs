using Akka.Configuration;
using NeverwinterDP.Protocol.AtRest;
using NeverwinterDP.Protocol.Remote;

namespace NeverwinterDP.Client;

/// <summary>How an <see cref="EmitterClient"/> reaches the cluster, batches, retries and stops.</summary>
public sealed record EmitterClientOptions
{
    /// <summary>
    /// Receptionists of the cluster's nodes, <c>akka.tcp://nwdp@HOST:PORT/system/receptionist</c> (<c>akka.ssl.tcp://</c>
    /// with <see cref="Tls"/>; the node logs its own at start). Give several: the client uses one at a time and moves to another when it is lost.
    /// Empty when <see cref="Discovery"/> finds them.
    /// </summary>
    public IReadOnlyList<string> ContactPoints { get; init; } = [];

    /// <summary>
    /// Instead of <see cref="ContactPoints"/>: how the client finds the nodes at start (docs/emitter-client.md#discovery),
    /// <c>mdns</c> (nodes announcing with <c>nwdp.cluster.discovery.announce = on</c>) or <c>dns-srv:NAME</c>
    /// (<c>dns-srv:NAME@SERVER:PORT</c> for a given DNS server); see <see cref="NeverwinterDP.Protocol.Discovery.DiscoveryMethod"/>. One node
    /// found is enough: the cluster tells the client its other receptionists. Used only when ContactPoints is empty.
    /// </summary>
    public string? Discovery { get; init; }

    /// <summary>How long <see cref="Discovery"/> looks for nodes at start before the start fails.</summary>
    public TimeSpan DiscoveryTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>With <see cref="Discovery"/>: only nodes announcing this cluster name (<c>nwdp.cluster.discovery.cluster-name</c>); null = any.</summary>
    public string? DiscoveryCluster { get; init; }

    /// <summary>Host for events that give none (and of the client's own heartbeat source). Default: the machine name.</summary>
    public string Host { get; init; } = Environment.MachineName;

    /// <summary>Process for events that give none (empty, or <c>unknown</c>: what a LogEvent built without one says). Default: this process's name.</summary>
    public string Process { get; init; } = System.Diagnostics.Process.GetCurrentProcess().ProcessName;

    /// <summary>Most events in one batch (<see cref="EmitterClient.EmitAsync"/> splits larger calls; <see cref="EmitterClient.Post"/> sends a batch when this many wait).</summary>
    public int MaxBatchEvents { get; init; } = 1000;

    /// <summary>Most bytes (Avro-encoded events) in one batch; keep it under the node's <c>nwdp.remote-ingress.max-batch-bytes</c> (4 MiB).</summary>
    public long MaxBatchBytes { get; init; } = 1L << 20;

    /// <summary>How long <see cref="EmitterClient.Post"/>ed events wait for a fuller batch.</summary>
    public TimeSpan BatchInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Events <see cref="EmitterClient.Post"/> may hold that are not yet acknowledged (buffered, in flight or
    /// being retried). When full, <see cref="EmitterClient.Post"/> returns false at once.
    /// </summary>
    public int PostBufferCapacity { get; init; } = 100_000;

    /// <summary>Batches of one source in flight at once (at most the node's <c>max-batches-per-source</c>, 16).</summary>
    public int WindowPerSource { get; init; } = 4;

    /// <summary>A batch not answered within this is sent again (with the ones after it).</summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First retry delay; doubles per retry of the same source (with jitter) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often each source seen gets a heartbeat (the watchdog's liveness signal).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long <see cref="EmitterClient.DisposeAsync"/> waits for what is buffered and in flight to be acknowledged;
    /// what is not is failed, or written to the <see cref="SpillDirectory"/> when there is one. Zero: no wait.
    /// </summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Stamp a per-source sequence number (from 1, per client) on events that carry none, so lineage stays one sequence across nodes.</summary>
    public bool AssignSourceSeq { get; init; } = true;

    /// <summary>
    /// Address the client's own actor system binds for remoting (only when the client creates it; port 0).
    /// Default <c>0.0.0.0</c>, advertised as the machine name; nodes answer over the client's connection.
    /// </summary>
    public string? Hostname { get; init; }

    /// <summary>
    /// Extra Akka configuration over the client's defaults (only when the client creates its system), e.g.
    /// <c>akka.cluster.client.heartbeat-interval</c> / <c>acceptable-heartbeat-pause</c> (how fast a lost node is noticed).
    /// </summary>
    public Config? AkkaConfig { get; init; }

    /// <summary>
    /// Directory of the client's local spill store; null (the default) turns spilling off. With it, a source whose
    /// oldest unacknowledged batch waited <see cref="SpillAfter"/>, or every source when the <see cref="EmitterClient.Post"/>
    /// buffer is full, is written to disk (fsync'ed) and resent from there, in order, once the cluster answers; at
    /// dispose, what is not acknowledged within <see cref="FlushTimeout"/> is written there for the next client with
    /// this directory. One client per directory (it is locked).
    /// </summary>
    public string? SpillDirectory { get; init; }

    /// <summary>Most bytes the spill store's segment files may take; past it batches wait in memory and <see cref="EmitterClient.Post"/> returns false when its buffer is full.</summary>
    public long SpillMaxBytes { get; init; } = 1L << 30;

    /// <summary>How long a source's oldest unacknowledged batch may wait before the source spills.</summary>
    public TimeSpan SpillAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Size at which the spill store starts a new segment file (a segment is deleted once all of it is acknowledged).</summary>
    public long SpillSegmentBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Encryption at rest of the <see cref="SpillDirectory"/> (off by default): with <c>Enabled</c>, every batch spilled
    /// is sealed (AES-256-GCM) with the key in <c>KeyFile</c> (or the environment variable <c>KeyVariable</c>);
    /// <c>OldKeyFiles</c> still open what older keys sealed. Segments written in the clear are still read; sealed
    /// ones are read while their key is configured, even with <c>Enabled</c> off. A key that cannot be read, or a
    /// sealed record whose key is not configured, fails <see cref="EmitterClient.Start"/> with a
    /// <see cref="SpillKeyException"/> naming it, the store untouched. See docs/security.md.
    /// </summary>
    public SpillEncryptionOptions SpillEncryption { get; init; } = SpillEncryptionOptions.None;

    /// <summary>
    /// Akka remoting over TLS (off by default), as the cluster's <c>nwdp.cluster.tls</c>: with <c>Enabled</c> the client
    /// presents <c>CertificateFile</c> (PEM with <c>KeyFile</c>, or PKCS#12; <c>Password</c>) and accepts only nodes whose
    /// certificate chains to <c>CaFile</c> (empty: the system's CAs); <see cref="ContactPoints"/> are then
    /// <c>akka.ssl.tcp://</c> addresses. A file that does not load fails <see cref="EmitterClient.Start"/> with an
    /// <see cref="ArgumentException"/> naming it. Only for an actor system the client creates or one built with
    /// <see cref="EmitterClientHosting.WithEmitterClient"/>. See docs/emitter-client.md.
    /// </summary>
    public RemoteTlsOptions Tls { get; init; } = RemoteTlsOptions.Off;

    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Tls is null) throw new ArgumentException("EmitterClientOptions.Tls must not be null (RemoteTlsOptions.Off turns TLS off)");
        if ((ContactPoints is null || ContactPoints.Count == 0) && Discovery is null)
            throw new ArgumentException("EmitterClientOptions.ContactPoints: give at least one receptionist address (or set Discovery)");
        if ((ContactPoints is null || ContactPoints.Count == 0) && Discovery is not null)
        {
            NeverwinterDP.Protocol.Discovery.DiscoveryMethod.Parse(Discovery); // names the forms it takes
            Positive(DiscoveryTimeout.Ticks, nameof(DiscoveryTimeout));
        }
        foreach (var c in ContactPoints ?? [])
        {
            var scheme = RemoteTls.SchemeOf(Tls.Enabled);
            if (!Akka.Actor.ActorPath.TryParse(c, out var path))
                throw new ArgumentException($"EmitterClientOptions.ContactPoints: '{c}' is not an actor path like {scheme}://nwdp@host:port/system/receptionist");
            if (path.Address.Protocol != scheme)
                throw new ArgumentException($"EmitterClientOptions.ContactPoints: '{c}' is a {path.Address.Protocol} address, but Tls.Enabled is {Tls.Enabled}: give {scheme}://nwdp@host:port/system/receptionist");
        }
        if (string.IsNullOrEmpty(Host)) throw new ArgumentException("EmitterClientOptions.Host must not be empty");
        if (string.IsNullOrEmpty(Process)) throw new ArgumentException("EmitterClientOptions.Process must not be empty");
        Positive(MaxBatchEvents, nameof(MaxBatchEvents));
        Positive(MaxBatchBytes, nameof(MaxBatchBytes));
        Positive(PostBufferCapacity, nameof(PostBufferCapacity));
        Positive(WindowPerSource, nameof(WindowPerSource));
        Positive(BatchInterval.Ticks, nameof(BatchInterval));
        Positive(AckTimeout.Ticks, nameof(AckTimeout));
        Positive(MinBackoff.Ticks, nameof(MinBackoff));
        if (MaxBackoff < MinBackoff) throw new ArgumentException("EmitterClientOptions.MaxBackoff must not be below MinBackoff");
        Positive(HeartbeatInterval.Ticks, nameof(HeartbeatInterval));
        if (FlushTimeout < TimeSpan.Zero) throw new ArgumentException("EmitterClientOptions.FlushTimeout must not be negative");
        if (SpillDirectory is not null)
        {
            if (string.IsNullOrWhiteSpace(SpillDirectory))
                throw new ArgumentException("EmitterClientOptions.SpillDirectory must not be empty (null turns spilling off)");
            Positive(SpillAfter.Ticks, nameof(SpillAfter));
            Positive(SpillSegmentBytes, nameof(SpillSegmentBytes));
            if (SpillMaxBytes < MaxBatchBytes)
                throw new ArgumentException($"EmitterClientOptions.SpillMaxBytes ({SpillMaxBytes}) must hold at least one batch (MaxBatchBytes, {MaxBatchBytes})");
            if (SpillSegmentBytes > SpillMaxBytes)
                throw new ArgumentException($"EmitterClientOptions.SpillSegmentBytes ({SpillSegmentBytes}) must not exceed SpillMaxBytes ({SpillMaxBytes})");
        }
    }

    private static void Positive(long value, string name)
    {
        if (value <= 0) throw new ArgumentException($"EmitterClientOptions.{name} must be positive, got {value}");
    }
}
