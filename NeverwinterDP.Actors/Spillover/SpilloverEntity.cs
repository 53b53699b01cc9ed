using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Bus;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>What every spillover entity on a node shares.</summary>
/// <param name="Bus">The bus writer replays go through (null: no bus here, batches are kept and never replayed; journal tests).</param>
/// <param name="QuarantineDir">Where damaged journal rows are written (raw bytes, one file each).</param>
public sealed record SpillContext(SpillOptions Options, SpillQuota Quota, BusCircuit Circuit, BusWriter? Bus,
    IReadOnlyList<IIngressObserver> Observers, TimeProvider Clock, string QuarantineDir)
{
    /// <summary>
    /// Reads the bus for exactly-once replay (a marker before each batch, a scan after a crash). Without one,
    /// a batch whose replay was interrupted after Kafka took it is replayed again (at least once).
    /// </summary>
    public ISpillWitness? Witness { get; init; }

    /// <summary>A test seam: awaited after Kafka acknowledged a replayed batch, before it is recorded replayed.</summary>
    public SpillReplayHook? Hook { get; init; }

    /// <summary>
    /// The id of the node's spill store (random, kept in the store): the <see cref="SpillHeader"/> of a replayed record
    /// names it, so two nodes' batches of one topic with the same sequence number never look alike on the bus.
    /// Empty (tests of one entity): the header names the persistence id alone.
    /// </summary>
    public string StoreId { get; init; } = "";

    /// <summary>The journal plugin of the spill store (null: the node's journal, when that is the node's own SQLite file).</summary>
    public string? JournalPluginId { get; init; }

    /// <summary>The query plugin reading the spill store's journal (the payloads of a replay).</summary>
    public string ReadJournalPluginId { get; init; } = SqlReadJournal.Identifier;
}

/// <summary>A test seam: <paramref name="Acked"/>(topic, sequence number) runs after Kafka acknowledged a replayed batch and before the journal records it.</summary>
public sealed record SpillReplayHook(Func<string, long, Task> Acked);

/// <summary>
/// The spillover store of one topic and its recovery agent, a sharded persistent entity (remembered, so a
/// backlog is replayed after a restart without anyone asking). Ingress hands it the records Kafka did not take;
/// each batch is one journal event, acknowledged once written. While the bus is up it replays the oldest batch
/// to Kafka — in order, one at a time, at most <see cref="SpillOptions.ReplayRate"/> events a second so live
/// traffic keeps flowing — records that it is in Kafka, and deletes what is replayed from the journal.
/// Only an index (sequence number, count, bytes) is kept in memory; payloads are read back from the journal.
/// </summary>
/// <remarks>
/// Exactly once across a crash, with the bus as the witness: before a batch is first submitted the entity
/// persists <see cref="SpillReplayStarting"/> (the topic's end offsets), and every replayed record carries the
/// <see cref="SpillHeader"/> naming its batch and index. A batch with a marker but no <see cref="SpillReplayed"/>
/// (the node died after Kafka took some or all of it, or a submit failed part way) is never produced blindly:
/// the topic is scanned from the marker's offsets to its end, and only the records not found there are produced.
/// </remarks>
public sealed class SpilloverEntity : ReceivePersistentActor, IWithTimers
{
    public const string TypeName = "spillover";
    private const string ReplayTimer = "replay";
    private const string PacedTimer = "replay-paced";

    private readonly string _topic;
    private readonly SpillContext _context;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SortedDictionary<long, (int Events, long Bytes, long SpilledAtMs)> _pending = new();
    private readonly List<long> _damaged = new();
    // Rows sealed with a key not configured (in order): never replayed, quarantined nor deleted here.
    private readonly List<long> _locked = new();
    private string? _lockedReason;
    // Batches with a replay marker: where their records could be on the bus.
    private readonly Dictionary<long, IReadOnlyDictionary<int, long>> _markers = new();
    // Batches of which we know exactly which records are on the bus (a scan, or a submit that sent nothing).
    private readonly Dictionary<long, IReadOnlySet<int>> _known = new();
    // Batches a failed produce may have put on the bus already (no header): where, at the earliest.
    private readonly Dictionary<long, IReadOnlyDictionary<int, long>> _maybeOnBus = new();
    private long _quarantined;
    // Batches of a chunk the bus refused permanently: replayed one at a time until the one it refuses is found.
    private readonly HashSet<long> _isolate = new();
    private bool _replaying;
    private long _replayedBatches;
    private long _replayedEvents;
    private DateTimeOffset _nextReplayAt = DateTimeOffset.MinValue;

    public SpilloverEntity(string topic, SpillContext context) : this(context, TypeName + "|" + topic)
    {
    }

    /// <remarks>Public: Akka's Props create actors through their public constructors.</remarks>
    /// <param name="persistenceId">
    /// <c>spillover|TOPIC</c>: this store's own batches of TOPIC; <c>spillover|TOPIC@STORE</c>: batches imported
    /// from the store STORE of another node (<c>nwdp spill import</c>), replayed with that store's headers.
    /// </param>
    public SpilloverEntity(SpillContext context, string persistenceId)
    {
        _context = context;
        PersistenceId = persistenceId;
        Name = NameOf(persistenceId);
        _topic = TopicOf(Name);
        HeaderOrigin = Name.Contains('@') || context.StoreId.Length == 0 ? persistenceId : persistenceId + "@" + context.StoreId;
        if (context.JournalPluginId is not null) JournalPluginId = context.JournalPluginId;

        Recover<SpilledBatch>(b =>
        {
            _pending[LastSequenceNr] = (b.Records.Count, b.Bytes, b.SpilledAtMs);
            if (b.MaybeOnBusFrom is not null) _maybeOnBus[LastSequenceNr] = b.MaybeOnBusFrom;
            _context.Quota.Add(b.Bytes);
        });
        Recover<SpillReplayed>(r => Forget(r.SequenceNr));
        Recover<SpillReplayStarting>(m =>
        {
            if (_pending.ContainsKey(m.SequenceNr)) _markers[m.SequenceNr] = m.EndOffsets;
        });
        Recover<DamagedSpilledBatch>(d =>
        {
            _damaged.Add(LastSequenceNr);
            var file = Path.Combine(_context.QuarantineDir, SpillQuarantine.FileName(Name, LastSequenceNr, refused: false));
            try
            {
                Directory.CreateDirectory(_context.QuarantineDir);
                File.WriteAllBytes(file, d.Raw);
            }
            catch (IOException e)
            {
                _log.Error("spill {0}: could not keep damaged batch {1} aside: {2}", _topic, LastSequenceNr, e.Message);
            }
            _log.Error("spill {0}: batch {1} in the journal is damaged ({2}); kept aside as {3} and skipped", _topic, LastSequenceNr, d.Reason, file);
        });
        Recover<LockedSpilledBatch>(l =>
        {
            _locked.Add(LastSequenceNr);
            _lockedReason ??= l.Reason;
        });
        Recover<SpillQuarantined>(q =>
        {
            // A damaged row (never pending), or a batch the bus refused permanently: not replayed again (counted
            // from the files kept aside, which outlive the journal's rows).
            _damaged.Remove(q.SequenceNr);
            Forget(q.SequenceNr);
        });

        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<SpillBatch>(OnSpill);
        Command<GetSpillStatus>(_ => Sender.Tell(Status()));
        Command<ReplayTick>(_ => ReplayNext());
        Command<Replayed>(OnReplayed);
        Command<Witnessed>(OnWitnessed);
        Command<WitnessFailed>(f =>
        {
            _replaying = false;
            _log.Warning("spill {0}: the bus could not be read for batch {1} ({2}); nothing is produced until it can", _topic, f.SequenceNr, f.Error.GetBaseException().Message);
        });
        Command<ChunkEndsRead>(OnChunkEndsRead);
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("spill {0}: deleting replayed batches failed ({1}); they stay until the next delete", _topic, f.Cause.Message));
    }

    public override string PersistenceId { get; }

    /// <summary>What the store calls this entity: the topic, or <c>TOPIC@STORE</c> for an imported store's batches.</summary>
    public string Name { get; }

    /// <summary>What the <see cref="SpillHeader"/> of a replayed record names: the persistence id and the store that spilled it.</summary>
    public string HeaderOrigin { get; }

    /// <summary>The entity's name from its persistence id (<c>spillover|NAME</c>).</summary>
    public static string NameOf(string persistenceId) =>
        persistenceId.StartsWith(TypeName + "|", StringComparison.Ordinal) ? persistenceId[(TypeName.Length + 1)..] : throw new ArgumentException($"not a spillover persistence id: {persistenceId}");

    /// <summary>The Kafka topic of an entity's name (<c>TOPIC</c> or <c>TOPIC@STORE</c>; Kafka topic names have no '@').</summary>
    public static string TopicOf(string name) => name.IndexOf('@') is var at and >= 0 ? name[..at] : name;

    /// <summary>The entity of one persistence id of the store (its own topic, or an imported store's).</summary>
    public static Props PropsForId(string persistenceId, SpillContext context) => Props.Create(() => new SpilloverEntity(context, persistenceId));

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(string topic, SpillContext context) => Props.Create(() => new SpilloverEntity(topic, context));

    private void OnRecovered()
    {
        _quarantined = SpillQuarantine.Count(_context.QuarantineDir, Name);
        // Damaged rows found during recovery: recorded as quarantined, so the journal can delete past them.
        if (_damaged.Count > 0)
            PersistAll(_damaged.Select(seq => new SpillQuarantined(seq, "damaged in the journal")).ToList(), q => _damaged.Remove(q.SequenceNr));
        if (_locked.Count > 0)
            _log.Error("spill {0}: {1} batches (sequence numbers {2} to {3}) cannot be read: {4}. They stay in the journal untouched and are not " +
                       "replayed until the node starts with their key (nwdp.spill.encryption.key-file, key-variable or old-key-files); the other batches are replayed",
                _topic, _locked.Count, _locked[0], _locked[^1], _lockedReason ?? "");
        if (_pending.Count > 0)
            _log.Info("spill {0}: {1} batches ({2} events) waiting for the bus", _topic, _pending.Count, _pending.Values.Sum(p => (long)p.Events));
        foreach (var seq in _markers.Keys)
            _log.Warning("spill {0}: batch {1} was being replayed when the node stopped; the bus is checked for its records before any is produced again", _topic, seq);
        Timers.StartPeriodicTimer(ReplayTimer, ReplayTick.Instance, _context.Options.ReplayInterval);
    }

    protected override void PostStop()
    {
        // The bytes are this node's only while the entity lives here.
        _context.Quota.Release(_pending.Values.Sum(p => p.Bytes));
        base.PostStop();
    }

    private void OnSpill(SpillBatch batch)
    {
        var bytes = batch.Bytes;
        if (!_context.Quota.TryReserve(bytes))
        {
            Sender.Tell(new SpillRefused(_topic, $"the spill quota ({_context.Quota.Limit} bytes) is used up"));
            return;
        }
        var sender = Sender;
        var evt = new SpilledBatch(_topic, _context.Clock.GetUtcNow().ToUnixTimeMilliseconds(), batch.Records, batch.MaybeOnBusFrom);
        // PersistAsync: the journal batches many of these into one write; the ack waits for that write.
        PersistAsync(evt, e =>
        {
            _pending[LastSequenceNr] = (e.Records.Count, bytes, e.SpilledAtMs);
            if (e.MaybeOnBusFrom is not null) _maybeOnBus[LastSequenceNr] = e.MaybeOnBusFrom;
            sender.Tell(new SpillAccepted(_topic, LastSequenceNr));
        });
    }

    /// <summary>
    /// Most events replayed in one step (one marker write, one journal read, one submit, one write of what is
    /// replayed): what the pacing allows per replay interval, at most 20,000, at least one batch.
    /// </summary>
    private long ChunkEvents => Math.Clamp((long)(_context.Options.ReplayRate * _context.Options.ReplayInterval.TotalSeconds), 1, 20_000);

    private void ReplayNext()
    {
        if (_replaying || _pending.Count == 0) return;
        var now = _context.Clock.GetUtcNow();
        if (now < _nextReplayAt)
        {
            // Paced: the next chunk when the rate allows, not at the tick after.
            Timers.StartSingleTimer(PacedTimer, ReplayTick.Instance, _nextReplayAt - now);
            return;
        }
        if (_context.Bus is not { IsRunning: true } pipeline || !_context.Circuit.ShouldTryBus()) return;
        // Records of spilled requests are still with the producer: a look at the bus now could miss what it writes
        // after, and a replay would write those twice. Their late answer comes first.
        if (pipeline.InDoubt > 0) return;
        var (seq, entry) = _pending.First();
        _replaying = true;
        var witness = _context.Witness;
        if (witness is not null && !_known.ContainsKey(seq))
        {
            var log = _log;
            var topic = _topic;
            Action<string> progress = p => log.Info("spill {0}: batch {1}: {2}", topic, seq, p);
            if (_maybeOnBus.TryGetValue(seq, out var landFrom))
            {
                // Ingress's produce of this batch failed but may have reached the bus: look for its records first.
                LoadAsync(seq, seq).ContinueWith(load =>
                        load.Result.TryGetValue(seq, out var batch)
                            ? witness.FindValuesAsync(topic, batch.Records.Select(r => r.Value).ToList(), landFrom, progress, CancellationToken.None)
                            : throw new InvalidOperationException($"batch {seq} is not in the journal"), TaskScheduler.Default)
                    .Unwrap()
                    .PipeTo(Self, success: found => new Witnessed(seq, found), failure: e => new WitnessFailed(seq, e));
                return;
            }
            if (_markers.TryGetValue(seq, out var from))
            {
                // A replay of it was under way when the node stopped: find out which records made it before producing any.
                witness.FindAsync(_topic, SpillHeader.Prefix(HeaderOrigin, seq), from, progress, CancellationToken.None)
                    .PipeTo(Self, success: found => new Witnessed(seq, found), failure: e => new WitnessFailed(seq, e));
                return;
            }
        }
        // A chunk: this batch and those after it that need no look at the bus first.
        var chunk = new List<long> { seq };
        long events = entry.Events;
        foreach (var (next, e) in _pending.Skip(_isolate.Contains(seq) ? int.MaxValue : 1))
        {
            if (_isolate.Contains(next)) break;
            if (events + e.Events > ChunkEvents) break;
            if (witness is not null && !_known.ContainsKey(next) && (_maybeOnBus.ContainsKey(next) || _markers.ContainsKey(next))) break;
            chunk.Add(next);
            events += e.Events;
        }
        _nextReplayAt = now + TimeSpan.FromSeconds((double)events / Math.Max(1, _context.Options.ReplayRate));
        if (witness is null || chunk.TrueForAll(_known.ContainsKey))
        {
            Submit(chunk, pipeline);
            return;
        }
        witness.EndOffsetsAsync(_topic, CancellationToken.None)
            .PipeTo(Self, success: ends => new ChunkEndsRead(chunk, ends), failure: e => new WitnessFailed(seq, e));
    }

    private void OnChunkEndsRead(ChunkEndsRead r)
    {
        // One journal write per chunk: from here on, a crash leaves a marker for each of its batches to scan from.
        var markers = r.Chunk.Where(s => !_known.ContainsKey(s)).Select(s => new SpillReplayStarting(s, r.EndOffsets)).ToList();
        var left = markers.Count;
        PersistAll(markers, m =>
        {
            _markers[m.SequenceNr] = m.EndOffsets;
            _known[m.SequenceNr] = new HashSet<int>();
            if (--left > 0) return;
            if (_context.Bus is { IsRunning: true } pipeline) Submit(r.Chunk, pipeline);
            else _replaying = false;
        });
    }

    private void OnWitnessed(Witnessed w)
    {
        if (!_pending.TryGetValue(w.SequenceNr, out var entry))
        {
            _replaying = false;
            return;
        }
        _log.Info("spill {0}: batch {1}: {2} of {3} events already on the bus; producing the other {4}", _topic, w.SequenceNr, w.Found.Count, entry.Events,
            entry.Events - w.Found.Count);
        _known[w.SequenceNr] = w.Found;
        if (_context.Bus is { IsRunning: true } pipeline) Submit([w.SequenceNr], pipeline);
        else _replaying = false;
    }

    /// <summary>Loads the chunk's batches and submits, in order, their records not known to be on the bus, each with its <see cref="SpillHeader"/>.</summary>
    private void Submit(List<long> chunk, BusWriter pipeline)
    {
        var skips = chunk.Select(s => _known.GetValueOrDefault(s) ?? new HashSet<int>()).ToList();
        var persistenceId = HeaderOrigin;
        var topic = _topic;
        var hook = _context.Hook;
        var after = _context.Options.After;
        var headers = _context.Witness is not null;
        LoadAsync(chunk[0], chunk[^1]).ContinueWith(async load =>
        {
            if (load.IsFaulted) return new Replayed(chunk, null, IngressOutcome.Failed, load.Exception?.GetBaseException());
            var batches = new List<SpilledBatch>(chunk.Count);
            foreach (var seq in chunk)
            {
                if (!load.Result.TryGetValue(seq, out var batch))
                    return new Replayed(chunk, null, IngressOutcome.Failed, new InvalidOperationException($"batch {seq} is not in the journal"));
                batches.Add(batch);
            }
            var records = new List<ProducerRecord<byte[]?, byte[]>>(batches.Sum(b => b.Records.Count));
            for (var c = 0; c < chunk.Count; c++)
            {
                var batch = batches[c];
                for (var i = 0; i < batch.Records.Count; i++)
                {
                    if (skips[c].Contains(i)) continue;
                    var message = new Confluent.Kafka.Message<byte[]?, byte[]> { Key = batch.Records[i].Key, Value = batch.Records[i].Value };
                    if (headers) message.Headers = new Confluent.Kafka.Headers { { SpillHeader.Name, SpillHeader.Value(persistenceId, chunk[c], i) } };
                    records.Add(new ProducerRecord<byte[]?, byte[]>(topic, message));
                }
            }
            var (outcome, error) = await pipeline.SubmitAsync(records, CancellationToken.None, after).ConfigureAwait(false);
            if (outcome == IngressOutcome.Durable && hook is not null)
                foreach (var seq in chunk) await hook.Acked(topic, seq).ConfigureAwait(false);
            return new Replayed(chunk, batches, outcome, error);
        }, TaskScheduler.Default).Unwrap().PipeTo(Self);
    }

    /// <summary>The spilled batches from <paramref name="from"/> to <paramref name="to"/> (sequence numbers), in one read.</summary>
    private Task<Dictionary<long, SpilledBatch>> LoadAsync(long from, long to)
    {
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(_context.ReadJournalPluginId);
        return journal.CurrentEventsByPersistenceId(PersistenceId, from, to)
            .Where(e => e.Event is SpilledBatch)
            .RunAggregate(new Dictionary<long, SpilledBatch>(), (all, e) =>
            {
                all[e.SequenceNr] = (SpilledBatch)e.Event;
                return all;
            }, Context.System.Materializer());
    }

    private void OnReplayed(Replayed r)
    {
        _replaying = false;
        if (r.Outcome == IngressOutcome.Refused && r.Batches is not null)
        {
            // The bus will never take it as it is (too large, invalid): replaying it again would loop for ever.
            OnRefused(r);
            return;
        }
        if (r.Outcome != IngressOutcome.Durable)
        {
            // Saturated and Stopping are answered before anything is queued: what is on the bus is still known.
            // Failed (timed out) may have left some records on the bus: scan before producing again.
            if (r.Outcome == IngressOutcome.Failed && r.Batches is not null)
                foreach (var seq in r.Chunk) _known.Remove(seq);
            if (r.Outcome == IngressOutcome.Failed) _context.Circuit.Failed();
            if (r.Batches is null && r.Error is not null) _log.Warning("spill {0}: reading batches {1}-{2} back failed: {3}", _topic, r.Chunk[0], r.Chunk[^1], r.Error.Message);
            return;
        }
        _context.Circuit.Succeeded();
        var left = r.Chunk.Count;
        PersistAll(r.Chunk.Select(seq => new SpillReplayed(seq)).ToList(), e =>
        {
            _replayedEvents += Forget(e.SequenceNr);
            _replayedBatches++;
            if (--left > 0) return;
            foreach (var batch in r.Batches!)
            {
                var decoded = Decode(batch);
                foreach (var o in _context.Observers) o.Replayed(decoded);
            }
            // Publish those counts now, not at the next tick: a node killed in between would take them with it.
            _ = IngressObservers.CountsDurableAsync(_context.Observers, CancellationToken.None);
            // Everything up to the oldest batch still waiting is replayed: gone from the journal.
            var upTo = DeletableUpTo();
            if (upTo > 0) DeleteMessages(upTo);
            if (_pending.Count == 0) _log.Info("spill {0}: backlog replayed ({1} batches, {2} events)", _topic, _replayedBatches, _replayedEvents);
            else Self.Tell(ReplayTick.Instance); // the next chunk now, not at the next tick (the pacing still holds)
        });
    }

    /// <summary>
    /// A chunk the bus refused permanently: of several batches, each is replayed alone to find the one it refuses
    /// (some of the chunk may be on the bus: they are looked for first); a batch refused alone is quarantined: kept
    /// under the quarantine directory, recorded in the journal, counted in the status, logged once, and the replay
    /// moves on to the next batch.
    /// </summary>
    private void OnRefused(Replayed r)
    {
        var reason = r.Error?.GetBaseException().Message ?? "refused";
        foreach (var s in r.Chunk) _known.Remove(s);
        if (r.Chunk.Count > 1)
        {
            _isolate.UnionWith(r.Chunk);
            _log.Warning("spill {0}: the bus refused batches {1}-{2} permanently ({3}); replaying them one at a time to find the one it refuses",
                _topic, r.Chunk[0], r.Chunk[^1], reason);
            Self.Tell(ReplayTick.Instance);
            return;
        }
        var seq = r.Chunk[0];
        var batch = r.Batches![0];
        var file = Path.Combine(_context.QuarantineDir, SpillQuarantine.FileName(Name, seq, refused: true));
        try
        {
            Directory.CreateDirectory(_context.QuarantineDir);
            File.WriteAllBytes(file, Context.System.Serialization.FindSerializerFor(batch).ToBinary(batch));
        }
        catch (IOException e)
        {
            // Not persisted as quarantined: it stays in the journal (and is tried again) until it can be kept aside.
            _log.Error("spill {0}: the bus refused batch {1} permanently ({2}) and it could not be kept aside: {3}; it stays in the journal", _topic, seq, reason, e.Message);
            return;
        }
        Persist(new SpillQuarantined(seq, "refused by the bus: " + reason), q =>
        {
            var events = Forget(q.SequenceNr);
            _quarantined++;
            var decoded = Decode(batch);
            foreach (var o in _context.Observers) o.Quarantined(decoded);
            _log.Error("spill {0}: the bus refused batch {1} ({2} events) permanently: {3}; kept aside as {4} and skipped", _topic, seq, events, reason, file);
            var upTo = DeletableUpTo();
            if (upTo > 0) DeleteMessages(upTo);
            if (_pending.Count > 0) Self.Tell(ReplayTick.Instance);
        });
    }

    /// <summary>Everything up to the oldest batch still waiting (or waiting for its key) is done with: deletable from the journal.</summary>
    private long DeletableUpTo()
    {
        var upTo = _pending.Count == 0 ? LastSequenceNr : _pending.Keys.First() - 1;
        return _locked.Count == 0 ? upTo : Math.Min(upTo, _locked[0] - 1);
    }

    private int Forget(long seq)
    {
        _isolate.Remove(seq);
        _markers.Remove(seq);
        _known.Remove(seq);
        _maybeOnBus.Remove(seq);
        if (!_pending.Remove(seq, out var entry)) return 0;
        _context.Quota.Release(entry.Bytes);
        return entry.Events;
    }

    private static List<Protocol.LogEvent> Decode(SpilledBatch batch)
    {
        var events = new List<Protocol.LogEvent>(batch.Records.Count);
        foreach (var r in batch.Records)
        {
            try
            {
                events.Add(LogEventAvro.DecodeFramed(r.Value));
            }
            catch (MalformedRecordException)
            {
                // Counted by whoever reads it from the bus; the stats only see what they can read.
            }
        }
        return events;
    }

    private SpillStatus Status() => new(Name, _pending.Count, _pending.Values.Sum(p => (long)p.Events), _pending.Values.Sum(p => p.Bytes),
        _pending.Count == 0 ? 0 : _pending.Values.Min(p => p.SpilledAtMs), _replayedBatches, _replayedEvents, _quarantined,
        _pending.Count == 0 ? _locked.Count > 0 ? "key missing" : "empty" : _replaying ? "replaying" : _context.Circuit.IsUp ? "waiting" : "bus down");

    private sealed class ReplayTick
    {
        public static readonly ReplayTick Instance = new();
    }

    private sealed record Replayed(List<long> Chunk, List<SpilledBatch>? Batches, IngressOutcome Outcome, Exception? Error);

    private sealed record ChunkEndsRead(List<long> Chunk, IReadOnlyDictionary<int, long> EndOffsets);


    private sealed record Witnessed(long SequenceNr, IReadOnlySet<int> Found);

    private sealed record WitnessFailed(long SequenceNr, Exception Error);
}
