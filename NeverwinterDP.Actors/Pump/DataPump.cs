using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Dsl;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Kafka.Stages;
using NeverwinterDP.Actors.Memory;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Watermarks;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Pump;

/// <summary>Counters of one pump, read by health checks, metrics and tests.</summary>
public sealed class PumpStats
{
    private long _delivered;
    private long _rejected;
    private long _retries;
    private long _committed;
    private long _flushes;
    private long _restarts;
    private long _markers;
    private string? _lastFailure;

    public long Delivered => Interlocked.Read(ref _delivered);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long Retries => Interlocked.Read(ref _retries);
    public long Committed => Interlocked.Read(ref _committed);
    public long Flushes => Interlocked.Read(ref _flushes);
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>Hour markers read off the log topics: never handed to the sink, committed with the events around them.</summary>
    public long Markers => Interlocked.Read(ref _markers);

    internal void AddDelivered(long n) => Interlocked.Add(ref _delivered, n);
    internal void AddRejected(long n) => Interlocked.Add(ref _rejected, n);
    internal void AddRetry() => Interlocked.Increment(ref _retries);
    internal void AddRetries(long n) => Interlocked.Add(ref _retries, n);
    internal void AddCommitted(long n) => Interlocked.Add(ref _committed, n);
    internal void AddFlush() => Interlocked.Increment(ref _flushes);
    internal void AddRestart() => Interlocked.Increment(ref _restarts);
    internal void AddMarkers(long n) => Interlocked.Add(ref _markers, n);

    /// <summary>Why the stream last failed (restarted), for operators and for specs' failure messages; null when it never did.</summary>
    public string? LastFailure => Volatile.Read(ref _lastFailure);

    internal void Failed(Exception e) => Volatile.Write(ref _lastFailure, $"{e.GetType().Name}: {e.Message}");
}

/// <summary>
/// The data pump for one sink: committable source over the log topics → decode → batch → sink write
/// (errored records retried with backoff) → periodic flush → commit. Offsets are committed only after the
/// sink's flush returned, so everything committed is durable in the store (at-least-once; sinks are
/// idempotent on topic-partition-offset).
/// </summary>
public sealed class DataPump
{
    private const string ConsumeResultFields = "dotnet.consumer.consume.result.fields";
    private readonly ActorSystem _system;
    private readonly ConsumerSettings<Ignore, byte[]> _consumerSettings;
    private readonly ISink _sink;

    // For a sink that writes records as the bus carries them: plain LogEvents are scanned, not decoded (the stream
    // decodes one batch at a time, so one cache serves it).
    private readonly RecentStrings? _encoded;
    private readonly PumpOptions _options;
    private readonly ILoggingAdapter _log;
    private readonly IDeadLetterQueue _deadLetters;
    private readonly SinkDelivery _delivery;
    private readonly DeliveredOnce? _once;
    private readonly WatermarkTracker? _watermarks;
    private IDisposable? _completionListener;
    private readonly CancellationTokenSource _abort = new();
    private volatile bool _stopRequested;
    private volatile DrainingControl<Done>? _control;
    private Task _runner = Task.CompletedTask;
    private IDisposable? _giveBack;
    // Bytes (on the bus) of the batches taken from the consumer and not written yet, of the stream running now (a new
    // count for each: the batches of a failed stream are gone with it).
    private volatile System.Runtime.CompilerServices.StrongBox<long> _batchBytes = new();

    /// <param name="deadLetters">Where rejected and undecodable records go (<c>nwdp.dlq.&lt;sink&gt;</c>).</param>
    /// <param name="watermarks">Told, once the sink flushed them, which hour markers and events of which hour and node it read
    /// (the sink's hour completions); a sink that acts on completions (<see cref="IHourCompletionListener"/>) is told them. Null: not tracked.</param>
    /// <param name="observer">Told which records were delivered (per-sink counts for the audit). A
    /// <see cref="DeliveredOnceBySink"/> or an <see cref="IDurableDeliveryObserver"/> counts each record once, when its
    /// offset is committed, and the pump commits only once those counts are durable (see <see cref="DeliveredOnce"/>);
    /// any other observer is told at each write.</param>
    public DataPump(ActorSystem system, ConsumerSettings<Ignore, byte[]> consumerSettings, ISink sink, PumpOptions options, IDeadLetterQueue deadLetters,
        IDeliveryObserver? observer = null, WatermarkHub? watermarks = null)
    {
        _system = system;
        _watermarks = watermarks?.For(sink.Name);
        if (watermarks is not null && sink is IHourCompletionListener listener) _completionListener = watermarks.Listen(sink.Name, listener);
        _sink = sink;
        _encoded = sink is IEncodedRecordSink { ReadsEncoded: true } ? new RecentStrings() : null;
        _options = options;
        _deadLetters = deadLetters;
        _consumerSettings = consumerSettings.WithGroupId(consumerSettings.GroupId ?? $"{options.GroupId}.{sink.Name}");
        // The pump reads only topic, partition, offset and value: Confluent.Kafka then skips marshalling each record's
        // headers and timestamp (unless the configuration asks for them).
        if (!_consumerSettings.Properties.ContainsKey(ConsumeResultFields))
            _consumerSettings = _consumerSettings.WithProperty(ConsumeResultFields, "topic");
        // What the pump holds is bounded in bytes (PumpOptions.HeldBytesBound): the consumer's buffers, and librdkafka's
        // prefetch (its queue, refilled up to fetch-bytes, and one fetch response of at most fetch-bytes).
        if (options.BufferBytes > 0) _consumerSettings = _consumerSettings.WithMaxBufferedBytes(options.BufferBytes);
        if (options.FetchBytes > 0)
        {
            // librdkafka refuses a fetch.max.bytes below its message.max.bytes (1,000,000 unless set).
            var fetch = Math.Max(options.FetchBytes, _consumerSettings.Properties.TryGetValue("message.max.bytes", out var m) && long.TryParse(m, out var max) ? max : 1_000_000);
            _consumerSettings = _consumerSettings
                .WithProperty("fetch.max.bytes", Math.Min(fetch, int.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture))
                .WithProperty("queued.max.messages.kbytes", Math.Max(1, options.FetchBytes / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
            // With its queue full, librdkafka waits fetch.queue.backoff.ms (1 s by default) before it fetches that partition
            // again: with an 8 MiB queue that capped the pump at ~8 MiB/s (~50,000 events/s of 170 B) whatever the CPU.
            if (!_consumerSettings.Properties.ContainsKey("fetch.queue.backoff.ms"))
                _consumerSettings = _consumerSettings.WithProperty("fetch.queue.backoff.ms", "10");
        }
        // The pump follows its consumer's assignment: see Assignments.
        _consumerSettings = _consumerSettings.WithAssignmentListener(new Assignments(this));
        _log = Logging.GetLogger(system, $"pump.{sink.Name}");
        var retry = new SinkRetryOptions { MinBackoff = options.RetryMinBackoff, MaxBackoff = options.RetryMaxBackoff, MaxAttempts = options.RetryMaxAttempts };
        _once = observer switch
        {
            DeliveredOnceBySink shared => shared.For(sink.Name),
            IDurableDeliveryObserver durable => new DeliveredOnce(durable, sink.Name),
            _ => null,
        };
        _delivery = new SinkDelivery(sink, retry, deadLetters, warn: m => _log.Warning(m), observer: (IDeliveryObserver?)_once ?? observer);
    }

    /// <summary>The sink's own counters (delivered, dead-lettered, retries, write time).</summary>
    public SinkMetrics SinkMetrics => _delivery.Metrics;

    public PumpStats Stats { get; } = new();

    public ISink Sink => _sink;

    /// <summary>True while a stream runs (false between a failure and its restart).</summary>
    public bool IsRunning => _control is { StreamCompletion.IsCompleted: false };

    private readonly System.Collections.Concurrent.ConcurrentDictionary<TopicPartition, long> _positions = new();

    /// <summary>
    /// Per partition, the next offset this pump's consumer takes; kept across restarts and rebalances (the
    /// last known position), so a partition between owners does not look empty.
    /// </summary>
    public IReadOnlyDictionary<TopicPartition, long> Positions
    {
        get
        {
            if (_control?.Control.Positions is { } now)
                foreach (var (tp, next) in now) _positions.AddOrUpdate(tp, next, (_, old) => Math.Max(old, next));
            return _positions;
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<TopicPartition, long> _committedNext = new();

    /// <summary>
    /// Per partition, the offset after the last record this pump stored in its sink and committed: what is safe
    /// from the bus. Unlike <see cref="Positions"/> it does not count records read and then let go (a partition
    /// revoked while its records were in the stream, a write that failed and is read again).
    /// </summary>
    public IReadOnlyDictionary<TopicPartition, long> CommittedPositions => _committedNext;

    /// <summary>
    /// The bytes of records this pump holds now, as they were on the bus: in its consumer's buffers and in the batches on
    /// their way to the sink (decoded, they take about twice as much; see <see cref="PumpOptions.HeldBytesBound"/>).
    /// </summary>
    public long HeldBytes => Interlocked.Read(ref _batchBytes.Value) + (_control?.Control.BufferedBytes ?? 0);

    /// <summary>The consumer of the stream running now.</summary>
    public IControl? Control => _control?.Control;

    /// <summary>Opens the sink and starts the stream; a stream that fails is started again after a backoff.</summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        await _sink.OpenAsync(cancellation).ConfigureAwait(false);
        // The pump is one of the holders of the process's give-back: after a burst of large batches, the heap is
        // compacted and handed back once the pump (and ingress) hold nothing.
        _giveBack = HeapGiveBack.Shared.Register(() => HeldBytes);
        _control = Materialize();
        _runner = Task.Run(SuperviseAsync, CancellationToken.None);
    }

    private DrainingControl<Done> Materialize()
    {
        var materializer = _system.Materializer(namePrefix: "pump-" + _sink.Name);
        _batchBytes = new();
        // Batches straight from the consumer's buffers (no per-record message or offset object), weighed as the
        // records' bytes on the bus; flushes every flush-records records or flush-interval.
        return KafkaConsumer.CommittableBatchSource(_consumerSettings, Subscriptions.TopicPattern(_options.TopicPattern),
                _options.BatchSize, _options.BatchInterval, _options.BatchBytes, static r => (r.Message.Value?.Length ?? 0) + 1L)
            // Decoding the next batch overlaps the sink's write of this one (another thread), one batch ahead at most.
            .Select(Decode)
            .Async()
            .SelectAsync(1, WriteAsync)
            .GroupedWeightedWithin(Math.Max(1, _options.FlushRecords), int.MaxValue, _options.FlushInterval, static w => Math.Max(1, w.Count))
            .SelectAsync(1, FlushAndCommitAsync)
            .ToMaterialized(Akka.Streams.Dsl.Sink.Ignore<Done>(), DrainingControl<Done>.Create)
            .WithAttributes(Attributes.CreateInputBuffer(1, 1))
            .Run(materializer);
    }

    /// <summary>
    /// Restarts the stream after a failure (sink lost records it had accepted, a fatal consumer error, ...):
    /// a new consumer resumes at the committed offsets, so what was not committed is delivered again.
    /// </summary>
    private async Task SuperviseAsync()
    {
        var backoff = _options.RetryMinBackoff;
        while (true)
        {
            var control = _control!;
            try
            {
                // Stop cancels the wait too: a stream whose actor system is gone never completes.
                await control.StreamCompletion.WaitAsync(_abort.Token).ConfigureAwait(false);
                if (_stopRequested) return;
                _log.Warning("pump {0} completed unexpectedly; restarting", _sink.Name);
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (_stopRequested) return;
                Stats.Failed(e.GetBaseException());
                _log.Error(e.GetBaseException(), "pump {0} failed; restarting in {1} from the committed offsets", _sink.Name, backoff);
            }
            try
            {
                await control.Control.Shutdown().ConfigureAwait(false);
                await Task.Delay(Jitter(backoff), _abort.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (_stopRequested) return;
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.RetryMaxBackoff.Ticks));
            Stats.AddRestart();
            _control = Materialize();
        }
    }

    /// <summary>
    /// Stops reading, lets the records in flight reach the sink, flushes, commits, leaves the group. A sink
    /// that cannot take them within <paramref name="drainTimeout"/> is abandoned: those records were not
    /// committed and are delivered again next time.
    /// </summary>
    public async Task StopAsync(TimeSpan? drainTimeout = null)
    {
        _stopRequested = true;
        var control = _control;
        if (control is not null)
        {
            var drain = control.DrainAndShutdown();
            try
            {
                await drain.WaitAsync(drainTimeout ?? TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _log.Warning("pump {0}: the sink did not drain in time; uncommitted records will be read again", _sink.Name);
                _abort.Cancel();
                try { await drain.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false); } catch (Exception) { }
            }
            catch (Exception e)
            {
                _log.Warning("pump {0} stopped with {1}; uncommitted records will be read again", _sink.Name, e.GetBaseException().Message);
            }
            // The drain shuts the consumer down once the stream completes; a stream still stuck in the sink after the
            // abort never does, and its consumer would stay in the group, polling, after the node stopped.
            try { await control.Control.Shutdown().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false); } catch (Exception) { }
        }
        _abort.Cancel();
        await _runner.ConfigureAwait(false);
        _giveBack?.Dispose();
        _completionListener?.Dispose();
        await _sink.DisposeAsync().ConfigureAwait(false);
    }

    // The partitions the consumer owns now, and the revocation (numbered) each was last revoked at.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TopicPartition, byte> _owned = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TopicPartition, long> _revokedAt = new();
    // Partitions assigned whose first record (the position the consumer reads them from) was not seen yet.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TopicPartition, byte> _fresh = new();
    private long _revocations;

    /// <summary>
    /// A batch decoded for the sink, with the records that could not be decoded and the offsets of all of them;
    /// <paramref name="Revocations"/> is how many revocations there had been when it was decoded, <paramref name="Disowned"/>
    /// the partitions of its records the consumer did not own any more then (their records are left out).
    /// </summary>
    private sealed record Decoded(CommittableOffsetBatch Offsets, int Count, List<SinkRecord> Records, List<DeadLetterRecord>? Undecodable,
        long Revocations, HashSet<TopicPartition>? Disowned, List<WatermarkObservation>? Observations,
        System.Runtime.CompilerServices.StrongBox<long> Stream, long Bytes, long Held);

    /// <summary>A written batch on its way to the flush and commit: its offsets, its records, and what the watermarks are
    /// told after the commit; <paramref name="Revocations"/> is how many revocations there had been when it was decoded.</summary>
    private sealed record Written(CommittableOffsetBatch Offsets, int Count, List<WatermarkObservation>? Observations, long Revocations);

    private Decoded Decode(CommittableBatch<Ignore, byte[]> batch)
    {
        // Read before the ownership (a revocation removes the partition first, then counts): a partition revoked
        // after this count is caught after the write, one revoked before it is not owned here.
        var revocations = Interlocked.Read(ref _revocations);
        HashSet<TopicPartition>? disowned = null;
        foreach (var tp in batch.Offsets.Offsets.Keys)
            if (!_owned.ContainsKey(tp)) (disowned ??= []).Add(tp);
        var messages = batch.Records;
        long bytes = 0;
        for (var i = 0; i < messages.Count; i++) bytes += messages[i].Message.Value?.Length ?? 0;
        // What the pump held with this batch taken: the batches before it not written yet and the consumer's buffers.
        var stream = _batchBytes;
        var held = Interlocked.Add(ref stream.Value, bytes) + (_control?.Control.BufferedBytes ?? 0);
        if (_once is not null && !_fresh.IsEmpty)
        {
            for (var i = 0; i < messages.Count; i++)
                if (_fresh.TryRemove(messages[i].TopicPartition, out _)) _once.ReadFrom(messages[i].TopicPartition, SinkOffset(messages[i].Offset.Value));
        }
        var records = new List<SinkRecord>(messages.Count);
        List<DeadLetterRecord>? undecodable = null;
        List<WatermarkObservation>? observations = _watermarks is null ? null : new();
        long markers = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var r = messages[i];
            if (disowned is not null && disowned.Contains(r.TopicPartition)) continue; // the new owner reads it again
            try
            {
                if (HourMarkerAvro.IsMarker(r.Message.Value))
                {
                    // A control record in line with the events: never stored, its offset committed with theirs.
                    var marker = HourMarkerAvro.DecodeFramed(r.Message.Value);
                    markers++;
                    observations?.Add(new WatermarkObservation(r.Topic, r.Partition.Value, marker.HourMs, marker.Node, 0, marker));
                    continue;
                }
                var record = SinkRecord.FromBus(r.Topic, r.Partition.Value, SinkOffset(r.Offset.Value), r.Message.Value, _encoded);
                records.Add(record);
                if (observations is not null) Tally(observations, record);
            }
            catch (MalformedRecordException e)
            {
                // Not ours to fix and retrying cannot help: kept in the dead-letter topic (raw bytes), offset committed.
                _log.Warning("undecodable record {0}-{1}@{2} dead-lettered: {3}", r.Topic, r.Partition.Value, r.Offset.Value, e.Message);
                (undecodable ??= new List<DeadLetterRecord>()).Add(new DeadLetterRecord(
                    new SinkRecord(r.Topic, r.Partition.Value, SinkOffset(r.Offset.Value), UndecodableEvent(r.Message.Value)), "undecodable: " + e.Message));
            }
        }
        if (markers > 0) Stats.AddMarkers(markers);
        return new Decoded(batch.Offsets, messages.Count, records, undecodable, revocations, disowned, observations, stream, bytes, held);
    }

    /// <summary>The offset the sink sees for a Kafka offset: above those of earlier incarnations of an embedded broker (<see cref="Kafka.Embedded.BusEpoch"/>).</summary>
    private long SinkOffset(long kafkaOffset) => Kafka.Embedded.BusEpoch.SinkOffset(_options.SinkOffsetBase, kafkaOffset);

    /// <summary>Counts the event into the run of its partition, hour and node (a batch mostly holds long runs of one).</summary>
    private static void Tally(List<WatermarkObservation> observations, SinkRecord record)
    {
        var (topic, partition, node) = (record.Topic, record.Partition, record.IngressNode);
        var hour = Protocol.UtcHours.Of(record.SystemTs);
        if (observations.Count > 0 && observations[^1] is { Marker: null } last && last.Partition == partition && last.HourMs == hour
            && last.Node == node && last.Topic == topic)
        {
            observations[^1] = last with { Events = last.Events + 1 };
            return;
        }
        observations.Add(new WatermarkObservation(topic, partition, hour, node, 1));
    }

    private async Task<Written> WriteAsync(Decoded batch)
    {
        try
        {
            return await WriteBatchAsync(batch).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Add(ref batch.Stream.Value, -batch.Bytes);
            HeapGiveBack.Shared.Held(batch.Held);
        }
    }

    private async Task<Written> WriteBatchAsync(Decoded batch)
    {
        if (batch.Undecodable is { } undecodable)
        {
            await _deadLetters.SendAsync(_sink.Name, undecodable, _abort.Token).ConfigureAwait(false);
            Stats.AddRejected(undecodable.Count);
        }

        var report = await _delivery.DeliverAsync(batch.Records, _abort.Token).ConfigureAwait(false);
        Stats.AddDelivered(report.Delivered);
        Stats.AddRejected(report.DeadLettered);
        Stats.AddRetries(report.Retries);
        // Records of a partition revoked meanwhile may not be stored (a partition-aware sink leaves them to the new
        // owner): their offsets are not committed, even if the partition comes back to this consumer before the commit.
        var offsets = batch.Offsets;
        if (batch.Disowned is { } disowned || Interlocked.Read(ref _revocations) != batch.Revocations)
        {
            offsets = offsets.Without(tp => batch.Disowned?.Contains(tp) == true || RevokedSince(tp, batch.Revocations));
        }
        var observations = ReferenceEquals(offsets, batch.Offsets) ? batch.Observations : ObservationsOf(batch.Observations, offsets);
        return new Written(offsets, batch.Count, observations, batch.Revocations);
    }

    /// <summary>Whether <paramref name="tp"/> was revoked after a batch decoded at <paramref name="revocations"/> was read.</summary>
    private bool RevokedSince(TopicPartition tp, long revocations) => _revokedAt.TryGetValue(tp, out var at) && at > revocations;

    /// <summary>The watermark observations of the partitions <paramref name="kept"/> still commits.</summary>
    private static List<WatermarkObservation>? ObservationsOf(List<WatermarkObservation>? observations, CommittableOffsetBatch kept)
    {
        if (observations is not { Count: > 0 }) return observations;
        var partitions = kept.Offsets.Keys.ToHashSet();
        return observations.Where(o => partitions.Contains(new TopicPartition(o.Topic, o.Partition))).ToList();
    }

    /// <summary>A record that is not a LogEvent travels to the dead-letter topic with its bytes as the message (base64).</summary>
    private static Protocol.LogEvent UndecodableEvent(byte[]? bytes) => new()
    {
        Message = Convert.ToBase64String(bytes ?? []),
        Type = "undecodable",
    };

    private async Task<Done> FlushAndCommitAsync(IEnumerable<Written> written)
    {
        var all = written as IReadOnlyCollection<Written> ?? written.ToList();
        await _delivery.FlushAsync(_abort.Token).ConfigureAwait(false);
        Stats.AddFlush();
        // A batch of a partition revoked since it was written (while it waited for this flush, or during it) is not
        // committed or counted here either: the partition's next owner may already read it from the committed
        // position, and would count again what this commit counted (the sink published it once; the audit saw it
        // delivered twice). Batches written after the partition came back (an eager rebalance revokes and assigns
        // every partition) are committed as usual: they were read again from the committed position.
        var revocations = Interlocked.Read(ref _revocations);
        var batch = CommittableOffsetBatch.Empty;
        var count = 0;
        List<WatermarkObservation>? observations = null;
        foreach (var w in all)
        {
            var offsets = w.Offsets;
            var observed = w.Observations;
            if (revocations != w.Revocations)
            {
                offsets = offsets.Without(tp => RevokedSince(tp, w.Revocations));
                observed = ObservationsOf(observed, offsets);
            }
            batch.Updated(offsets);
            count += w.Count;
            if (observed is { Count: > 0 } o) (observations ??= new()).AddRange(o);
        }
        if (_once is not null)
        {
            // The delivered counts of what this commit covers are published before it: a node killed after the
            // commit has published them, one killed before leaves the records (and their counts) to the next reader.
            // The first commit waits until the positions other nodes counted to are known (a no-op afterwards).
            await _once.ReadyAsync(_abort.Token).ConfigureAwait(false);
            _once.Committing(_options.SinkOffsetBase == 0 ? batch.Offsets : batch.Offsets.ToDictionary(o => o.Key, o => SinkOffset(o.Value)));
            await CountsDurableAsync().ConfigureAwait(false);
        }
        await batch.Commit().ConfigureAwait(false);
        foreach (var (tp, offset) in batch.Offsets)
            _committedNext.AddOrUpdate(tp, offset + 1, (_, old) => Math.Max(old, offset + 1));
        Stats.AddCommitted(count);
        // Only what the sink flushed and the group committed counts towards an hour's completion.
        if (observations is not null) _watermarks!.Observe(observations);
        return Done.Instance;
    }

    /// <summary>
    /// Waits for the delivered counts to be acknowledged on <c>nwdp.stats</c>. A refused stats record fails every
    /// waiter that shared its flush (the other pumps' too), and the next flush usually succeeds: so a
    /// failure is tried again twice before it fails the stream (no commit without durable counts; the restart then
    /// delivers the batch again, idempotently, and counts it once).
    /// </summary>
    private async Task CountsDurableAsync()
    {
        const int tries = 3;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _once!.DurableAsync(_abort.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (attempt < tries && !_abort.IsCancellationRequested)
            {
                _log.Warning("pump {0}: delivered counts not acknowledged on the stats topic ({1}); trying again", _sink.Name, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), _abort.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Keeps the pump's view of its consumer's partitions and tells a partition-aware sink (<see cref="IPartitionAwareSink"/>),
    /// on the poll thread before the change takes effect: a revoked partition's records still in the stream are
    /// neither stored nor committed, and the sink publishes what it wrote of it before the next owner starts.
    /// </summary>
    private sealed class Assignments(DataPump pump) : IPartitionAssignmentListener
    {
        public void Assigned(IReadOnlyList<TopicPartition> partitions)
        {
            foreach (var tp in partitions)
            {
                pump._owned[tp] = 0;
                pump._fresh[tp] = 0;
            }
            (pump._sink as IPartitionAwareSink)?.Assigned(partitions.Select(tp => (tp.Topic, tp.Partition.Value)).ToList());
        }

        public void Revoked(IReadOnlyList<TopicPartition> partitions, bool lost)
        {
            foreach (var tp in partitions) pump._owned.TryRemove(tp, out _);
            var n = Interlocked.Increment(ref pump._revocations);
            foreach (var tp in partitions) pump._revokedAt[tp] = n;
            // Lost partitions may have another owner already; what was written of them is published all the same
            // (a duplicate at worst), since dropping it could leave a gap behind records still in flight.
            try
            {
                (pump._sink as IPartitionAwareSink)?.Revoked(partitions.Select(tp => (tp.Topic, tp.Partition.Value)).ToList());
            }
            catch (Exception e)
            {
                // The sink reports its failure again on the stream's next write or flush, which restarts the stream.
                pump._log.Warning("pump {0}: publishing what was written of revoked {1} failed: {2}", pump._sink.Name,
                    string.Join(",", partitions), e.GetBaseException().Message);
            }
        }
    }

    private static TimeSpan Jitter(TimeSpan backoff) =>
        TimeSpan.FromTicks((long)(backoff.Ticks * (0.5 + Random.Shared.NextDouble() * 0.5)));
}
