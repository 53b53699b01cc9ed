using System.Collections.Immutable;
using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using NeverwinterDP.Protocol.AtRest;
using NeverwinterDP.Protocol.Remote;
using LogEvent = NeverwinterDP.Protocol.LogEvent;

namespace NeverwinterDP.Client;

/// <summary>
/// Sends log events from a .NET service into a NeverwinterDP cluster over Akka remoting (ClusterClient to the
/// nodes' receptionists). <see cref="EmitAsync"/> completes once a node made the events durable (Kafka
/// acks=all, the promise of HTTP 2xx); <see cref="Post"/> is fire-and-forget through a bounded buffer.
/// </summary>
/// <remarks>
/// Guarantees, per source (<c>host/process</c>): events reach the bus in the order they were given to the
/// client; a batch is retried (exponential backoff with jitter) until a node acknowledges it, on this node or,
/// after failover, another; success is reported only on an acknowledgement. At least once: a batch a node made
/// durable whose acknowledgement was lost (that node died or became unreachable) is written again by the next
/// node, so it can appear twice, the copy after the original; the same node never writes a batch twice.
/// With <see cref="EmitterClientOptions.SpillDirectory"/>, a source whose batches wait too long (or all, when the
/// <see cref="Post"/> buffer is full) moves them to a local store (fsync'ed) and resends them from there, in order,
/// once the cluster answers; a later client with the same directory resends what this one left there.
/// </remarks>
public sealed class EmitterClient : IAsyncDisposable
{
    private readonly EmitterClientOptions _options;
    private readonly ActorSystem _system;
    private readonly bool _ownsSystem;
    private readonly IActorRef _clusterClient;
    private readonly IActorRef _sender;
    private readonly Channel<LogEvent> _posted = Channel.CreateUnbounded<LogEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _batcher;
    private readonly PostOwner _postOwner;
    private readonly EmitterSpillStore? _store;
    private long _postHeld;
    private int _disposed;
    private int _spillAsked;

    private EmitterClient(EmitterClientOptions options, ActorSystem system, bool ownsSystem, EmitterSpillStore? store, EmitterClientMetrics metrics)
    {
        _options = options;
        _system = system;
        _ownsSystem = ownsSystem;
        _store = store;
        Metrics = metrics;
        ClientId = Guid.NewGuid().ToString("N");
        var contacts = options.ContactPoints.Select(c => ActorPath.Parse(c)).ToImmutableHashSet();
        _clusterClient = system.ActorOf(ClusterClient.Props(ClusterClientSettings.Create(system).WithInitialContacts(contacts)), "nwdp-cluster-client-" + ClientId);
        _sender = system.ActorOf(EmitterSender.Props(_clusterClient, options, Metrics, ClientId, store, () => Interlocked.Exchange(ref _spillAsked, 0)),
            "nwdp-emitter-" + ClientId);
        _postOwner = new PostOwner(this);
        if (store is not null && store.QuarantineFiles.Count > 0)
            system.Log.Error("NeverwinterDP EmitterClient: {0} damaged parts of the spill store were moved aside (see the .reason files): {1}",
                store.QuarantineFiles.Count, string.Join(", ", store.QuarantineFiles));
        _batcher = Task.Run(RunBatcherAsync);
    }

    /// <summary>What the client did and holds; read any time.</summary>
    public EmitterClientMetrics Metrics { get; }

    /// <summary>This client instance (batch numbers restart with it).</summary>
    public string ClientId { get; }

    /// <summary>The actor system the client runs in (its own, or the one it was given).</summary>
    public ActorSystem System => _system;

    /// <summary>
    /// The Akka configuration an actor system needs to host a client (serializer bindings, frame size);
    /// add it to a system you pass to <see cref="Start"/>. A system the client creates has it already.
    /// </summary>
    public static Config RequiredConfig { get; } = ConfigurationFactory.ParseString(RemoteIngressHocon.Node)
        .WithFallback(ClusterClientReceptionist.DefaultConfig())
        .WithFallback(DistributedPubSub.DefaultConfig());

    /// <summary>
    /// Starts a client. Without <paramref name="system"/> it creates its own actor system (remoting on port 0,
    /// stopped on dispose); with one, that system must use the remote or cluster provider and include
    /// <see cref="RequiredConfig"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid, or a file of <see cref="EmitterClientOptions.Tls"/> does not load (named).</exception>
    /// <exception cref="InvalidOperationException">The given system cannot carry the emitter protocol, or its remoting's TLS is not what <see cref="EmitterClientOptions.Tls"/> says.</exception>
    /// <exception cref="IOException">The <see cref="EmitterClientOptions.SpillDirectory"/> is locked by another client, or cannot be used.</exception>
    /// <exception cref="SpillKeyException">A spill key of <see cref="EmitterClientOptions.SpillEncryption"/> cannot be read, or the spill directory holds batches sealed with a key not configured.</exception>
    /// <exception cref="InvalidOperationException">With <see cref="EmitterClientOptions.Discovery"/>: no node was found within the discovery timeout.</exception>
    public static EmitterClient Start(EmitterClientOptions options, ActorSystem? system = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.ContactPoints.Count == 0) options = Discovered(options).GetAwaiter().GetResult();
        if (system is not null)
        {
            if (system.Serialization.FindSerializerForType(typeof(EmitBatch)) is not EmitterSerializer)
                throw new InvalidOperationException("the actor system has no serializer binding for the emitter protocol: include EmitterClient.RequiredConfig in its configuration (with Akka.Hosting: WithEmitterClient)");
            if (system.Settings.ProviderClass.Contains("Local", StringComparison.Ordinal))
                throw new InvalidOperationException("the actor system must use akka.actor.provider = remote (or cluster) to reach the cluster");
            if (system.Settings.Config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false) != options.Tls.Enabled)
                throw new InvalidOperationException(options.Tls.Enabled
                    ? "EmitterClientOptions.Tls is on but the actor system's remoting is not TLS: build the system with WithEmitterClient (Akka.Hosting), or let the client create its own"
                    : "the actor system's remoting is TLS (akka.remote.dot-netty.tcp.enable-ssl) but EmitterClientOptions.Tls is off");
        }
        // Before a spill directory is locked or a system made: a certificate that does not load fails the start.
        var tls = system is null ? EmitterClientTls.Setup(options) : null;
        var metrics = new EmitterClientMetrics();
        // Opened (and locked, and scanned) before anything starts: a directory in use fails the start.
        var store = options.SpillDirectory is null
            ? null
            : EmitterSpillStore.Open(options.SpillDirectory, options.SpillMaxBytes, options.SpillSegmentBytes, metrics,
                SpillKeyRing.Load(options.SpillEncryption, ("EmitterClientOptions.SpillEncryption.KeyFile", "EmitterClientOptions.SpillEncryption.KeyVariable")));
        try
        {
            return StartWith(options, system, tls, store, metrics);
        }
        catch
        {
            store?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// As <see cref="Start"/>, without blocking a thread while <see cref="EmitterClientOptions.Discovery"/> looks for nodes.
    /// </summary>
    public static async Task<EmitterClient> StartAsync(EmitterClientOptions options, ActorSystem? system = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.ContactPoints.Count == 0) options = await Discovered(options, cancellation).ConfigureAwait(false);
        return Start(options, system);
    }

    /// <summary>The options with the receptionists <see cref="EmitterClientOptions.Discovery"/> found.</summary>
    private static async Task<EmitterClientOptions> Discovered(EmitterClientOptions options, CancellationToken cancellation = default)
    {
        var method = NeverwinterDP.Protocol.Discovery.DiscoveryMethod.Parse(options.Discovery!);
        var found = await NeverwinterDP.Protocol.Discovery.ClusterDiscovery.ContactPointsAsync(method, options.DiscoveryTimeout, options.DiscoveryCluster, cancellation).ConfigureAwait(false);
        return options with { ContactPoints = found };
    }

    /// <summary>
    /// Remoting on port 0, bound as <see cref="EmitterClientOptions.Hostname"/> says (else on every interface,
    /// advertised as the machine name): what a client's actor system needs unless it configures its own.
    /// </summary>
    internal static Config RemotingFallback(EmitterClientOptions options)
    {
        var bind = options.Hostname ?? "0.0.0.0";
        var advertised = options.Hostname is null ? $"public-hostname = \"{Environment.MachineName}\"" : "";
        var ssl = options.Tls.Enabled ? "enable-ssl = on" : "";
        return ConfigurationFactory.ParseString($$"""
            akka {
              actor.provider = remote
              remote.dot-netty.tcp {
                hostname = "{{bind}}"
                {{advertised}}
                {{ssl}}
                port = 0
              }
            }
            """);
    }

    private static EmitterClient StartWith(EmitterClientOptions options, ActorSystem? system, Akka.Remote.Transport.DotNetty.DotNettySslSetup? tls,
        EmitterSpillStore? store, EmitterClientMetrics metrics)
    {
        if (system is not null) return new EmitterClient(options, system, ownsSystem: false, store, metrics);
        var ownConfig = ConfigurationFactory.ParseString("""
            akka {
              loglevel = WARNING
              stdout-loglevel = WARNING
              coordinated-shutdown.run-by-clr-shutdown-hook = off
            }
            """).WithFallback(RemotingFallback(options));
        var config = (options.AkkaConfig ?? Config.Empty).WithFallback(ownConfig).WithFallback(RequiredConfig);
        var setup = BootstrapSetup.Create().WithConfig(config);
        var created = tls is null ? ActorSystem.Create("nwdp-emitter", setup) : ActorSystem.Create("nwdp-emitter", setup.And(tls));
        return new EmitterClient(options, created, ownsSystem: true, store, metrics);
    }

    /// <summary>
    /// Sends <paramref name="events"/> and completes once the cluster acknowledged every one as durable. Events
    /// without host or process get the client's (<see cref="EmitterClientOptions.Host"/>, <see cref="EmitterClientOptions.Process"/>).
    /// Retries until acknowledged; fails only with <see cref="EmitRefusedException"/> (a batch is invalid), when the
    /// client is disposed first, or is cancelled — cancelling stops the wait, not the sending: the events may
    /// still arrive.
    /// </summary>
    public Task EmitAsync(IReadOnlyList<LogEvent> events, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (events.Count == 0) return Task.CompletedTask;
        var batches = Batch(events);
        var owner = new CallOwner(batches.Count);
        foreach (var b in batches) _sender.Tell(b with { Owner = owner });
        return owner.Task.WaitAsync(cancellation);
    }

    /// <summary>
    /// Hands one event to the client's buffer, which sends batches per source when <see cref="EmitterClientOptions.MaxBatchEvents"/>
    /// wait or after <see cref="EmitterClientOptions.BatchInterval"/>. Never blocks: returns false when the buffer
    /// (<see cref="EmitterClientOptions.PostBufferCapacity"/> events not yet acknowledged) is full or the client is
    /// disposed; the caller decides whether to drop, wait or use <see cref="EmitAsync"/>.
    /// </summary>
    public bool Post(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        if (_disposed != 0)
        {
            Interlocked.Increment(ref Metrics._postRejected);
            return false;
        }
        if (Interlocked.Increment(ref _postHeld) > _options.PostBufferCapacity)
        {
            Interlocked.Decrement(ref _postHeld);
            Interlocked.Increment(ref Metrics._postRejected);
            // With a spill store, a full buffer moves what it holds to disk (the room comes back once that is fsync'ed).
            if (_store is not null && Interlocked.Exchange(ref _spillAsked, 1) == 0) _sender.Tell(EmitterSender.SpillNow.Instance);
            return false;
        }
        if (_posted.Writer.TryWrite(logEvent)) return true;
        Interlocked.Decrement(ref _postHeld); // the writer completed: disposing
        Interlocked.Increment(ref Metrics._postRejected);
        return false;
    }

    /// <summary>The receptionists the client knows now (the given contact points, then what the cluster told it).</summary>
    public async Task<IReadOnlyList<string>> ContactPointsAsync(TimeSpan timeout)
    {
        var points = await _clusterClient.Ask<ContactPoints>(GetContactPoints.Instance, timeout).ConfigureAwait(false);
        return points.ContactPointsList.Select(p => p.ToString()).ToList();
    }

    /// <summary>Events <see cref="Post"/> holds (buffered, in flight or being retried).</summary>
    public long PostBuffered => Interlocked.Read(ref _postHeld);

    /// <summary>
    /// Stops taking events, sends what is buffered and waits up to <see cref="EmitterClientOptions.FlushTimeout"/>
    /// for everything pending to be acknowledged; what is still not is failed (counted in
    /// <see cref="EmitterClientMetrics.EventsFailed"/>) or, with a <see cref="EmitterClientOptions.SpillDirectory"/>,
    /// written to the spill store for the next client with that directory (<see cref="EmitAsync"/> calls still
    /// waiting fail). Then stops the client (and its own actor system) and releases the directory.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _posted.Writer.TryComplete();
        await _batcher.ConfigureAwait(false);
        // Akka's Ask waits for ever on a zero timeout: FlushTimeout = 0 means "do not wait" here.
        if (_options.FlushTimeout > TimeSpan.Zero)
        {
            try
            {
                await _sender.Ask<EmitterSender.Idle>(EmitterSender.WhenIdle.Instance, _options.FlushTimeout).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                // What is left is spilled or failed as the sender stops.
            }
        }
        if (_store is not null)
        {
            try
            {
                var spilled = await _sender.Ask<EmitterSender.SpilledAtStop>(EmitterSender.SpillAll.Instance, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
                if (spilled.Batches > 0 || _store.BacklogBatches > 0)
                    _system.Log.Warning("NeverwinterDP EmitterClient: stopping with {0} events ({1} batches) not acknowledged written to the spill store in {2} " +
                                        "({3} events there in all); the next client with that directory sends them",
                        spilled.Events, spilled.Batches, _options.SpillDirectory, _store.BacklogEvents);
            }
            catch (AskTimeoutException)
            {
                _system.Log.Error("NeverwinterDP EmitterClient: writing what is left to the spill store did not finish in time; what is not there is failed");
            }
        }
        try
        {
            await _sender.GracefulStop(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            await _clusterClient.GracefulStop(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            if (_ownsSystem) await _system.Terminate().ConfigureAwait(false);
        }
        finally
        {
            _store?.Dispose();
        }
    }

    private List<EmitterSender.Enqueue> Batch(IReadOnlyList<LogEvent> events)
    {
        // Per source, in the order given; split by count and size.
        var bySource = new Dictionary<string, (string Host, string Process, List<LogEvent> Events)>();
        foreach (var raw in events)
        {
            var e = Complete(raw);
            var id = SourceId(e);
            if (!bySource.TryGetValue(id, out var s)) bySource[id] = s = (e.Host, e.Process, new List<LogEvent>());
            s.Events.Add(e);
        }
        var batches = new List<EmitterSender.Enqueue>();
        foreach (var (id, (host, process, list)) in bySource)
        {
            var current = new List<LogEvent>();
            long bytes = 0;
            foreach (var e in list)
            {
                var size = EstimateBytes(e);
                if (current.Count > 0 && (current.Count >= _options.MaxBatchEvents || bytes + size > _options.MaxBatchBytes))
                {
                    batches.Add(new EmitterSender.Enqueue(id, host, process, current, null, null!));
                    current = new List<LogEvent>();
                    bytes = 0;
                }
                current.Add(e);
                bytes += size;
            }
            batches.Add(new EmitterSender.Enqueue(id, host, process, current, null, null!));
        }
        return batches;
    }

    // A LogEvent built without a process says "unknown" (LogEvent.DefaultProcess): that is none given.
    private LogEvent Complete(LogEvent e) =>
        string.IsNullOrEmpty(e.Host) || NoProcess(e.Process)
            ? e with
            {
                Host = string.IsNullOrEmpty(e.Host) ? _options.Host : e.Host,
                Process = NoProcess(e.Process) ? _options.Process : e.Process,
            }
            : e;

    private static bool NoProcess(string process) => string.IsNullOrEmpty(process) || process == LogEvent.DefaultProcess;

    private static string SourceId(LogEvent e) => e.Host + "/" + e.Process;

    /// <summary>An upper bound of the event's Avro size (varints at their longest).</summary>
    internal static long EstimateBytes(LogEvent e)
    {
        long n = 5 * 10 + 10 * 5;
        n += Encoding.UTF8.GetByteCount(e.Host) + Encoding.UTF8.GetByteCount(e.Ip) + Encoding.UTF8.GetByteCount(e.Process)
             + Encoding.UTF8.GetByteCount(e.Type) + Encoding.UTF8.GetByteCount(e.Version) + Encoding.UTF8.GetByteCount(e.Level)
             + e.MessageByteCount() + Encoding.UTF8.GetByteCount(e.Lineage.IngressNode ?? "");
        foreach (var (k, v) in e.Attributes) n += 10 + Encoding.UTF8.GetByteCount(k) + Encoding.UTF8.GetByteCount(v);
        return n;
    }

    /// <summary>Collects posted events per source and hands them on as batches by count, size or age.</summary>
    private async Task RunBatcherAsync()
    {
        var open = new Dictionary<string, OpenBatch>();
        var reader = _posted.Reader;
        while (true)
        {
            while (reader.TryRead(out var raw))
            {
                var e = Complete(raw);
                var id = SourceId(e);
                if (!open.TryGetValue(id, out var batch)) open[id] = batch = new OpenBatch(e.Host, e.Process, DateTime.UtcNow);
                var size = EstimateBytes(e);
                if (batch.Events.Count > 0 && batch.Bytes + size > _options.MaxBatchBytes)
                {
                    Flush(id, batch);
                    open[id] = batch = new OpenBatch(e.Host, e.Process, DateTime.UtcNow);
                }
                batch.Events.Add(e);
                batch.Bytes += size;
                if (batch.Events.Count >= _options.MaxBatchEvents)
                {
                    Flush(id, batch);
                    open.Remove(id);
                }
            }
            var now = DateTime.UtcNow;
            foreach (var (id, batch) in open.Where(kv => now - kv.Value.Started >= _options.BatchInterval).ToList())
            {
                Flush(id, batch);
                open.Remove(id);
            }
            if (reader.Completion.IsCompleted)
            {
                foreach (var (id, batch) in open) Flush(id, batch);
                return;
            }
            var wait = open.Count == 0 ? Timeout.InfiniteTimeSpan : open.Values.Min(b => b.Started) + _options.BatchInterval - DateTime.UtcNow;
            if (wait <= TimeSpan.Zero) continue;
            try
            {
                await reader.WaitToReadAsync().AsTask().WaitAsync(wait).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    private void Flush(string id, OpenBatch batch) => _sender.Tell(new EmitterSender.Enqueue(id, batch.Host, batch.Process, batch.Events, null, _postOwner));

    private sealed class OpenBatch(string host, string process, DateTime started)
    {
        public string Host { get; } = host;
        public string Process { get; } = process;
        public DateTime Started { get; } = started;
        public List<LogEvent> Events { get; } = new();
        public long Bytes;
    }

    /// <summary>Completes one <see cref="EmitAsync"/> call once all its batches are acknowledged, or fails it at the first failure.</summary>
    private sealed class CallOwner(int batches) : IBatchOwner
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining = batches;

        public Task Task => _completion.Task;

        public void Acked(int events)
        {
            if (Interlocked.Decrement(ref _remaining) == 0) _completion.TrySetResult();
        }

        public void Failed(int events, Exception error) => _completion.TrySetException(error);

        public bool Spilled(int events) => true; // the call completes when the spilled batch is acknowledged
    }

    /// <summary>Frees room in the <see cref="Post"/> buffer as posted batches end; counts the ones given up on.</summary>
    private sealed class PostOwner(EmitterClient client) : IBatchOwner
    {
        public void Acked(int events) => Interlocked.Add(ref client._postHeld, -events);

        public void Failed(int events, Exception error)
        {
            Interlocked.Add(ref client._postHeld, -events);
            client._system.Log.Warning("NeverwinterDP EmitterClient: {0} posted events were not delivered: {1}", events, error.Message);
        }

        public bool Spilled(int events)
        {
            Interlocked.Add(ref client._postHeld, -events);
            return false; // durable in the store: nobody waits for it any more
        }
    }
}
