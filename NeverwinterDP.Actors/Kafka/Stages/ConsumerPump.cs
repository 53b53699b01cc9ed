using System.Collections.Concurrent;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Kafka.Stages;

/// <summary>What a source stage hears from its consumer; called on the poll thread, so implementations hand over to the stage.</summary>
internal interface IConsumerPumpListener
{
    void OnRecords(TopicPartition partition);
    void OnAssigned(IReadOnlyList<TopicPartition> partitions);
    void OnRevoked(IReadOnlyList<TopicPartition> partitions);
    void OnRecordsLost(TopicPartition partition, long fromOffset, long toOffset);
    void OnFailed(Exception cause);
}

/// <summary>
/// Owns one Confluent consumer and the thread that polls it (the consumer is not thread-safe, so every
/// call — commit, pause, resume, close — runs here). Records go into a bounded buffer per partition; a
/// full partition is paused while polling goes on, so the group membership stays alive and memory stays
/// bounded. Records of revoked partitions are dropped, never emitted. A jump in offsets (the log start
/// moved past the next offset, e.g. the embedded broker's retention) is reported as lost records.
/// </summary>
internal sealed class ConsumerPump<TKey, TValue> : ICommitterEndpoint
{
    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly ISubscription _subscription;
    private readonly ConcurrentQueue<Action<IConsumer<TKey, TValue>>> _commands = new();
    private readonly ConcurrentDictionary<TopicPartition, PartitionBuffer> _buffers = new();
    private readonly ConcurrentDictionary<TopicPartition, IConsumerPumpListener> _partitionListeners = new();
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<string> _warn;
    private readonly List<PartitionBuffer> _touched = new(); // poll thread only
    private PartitionBuffer? _lastAccepted; // poll thread only
    private readonly List<Action<IConsumer<TKey, TValue>>> _retryAfterPoll = new();
    private volatile PartitionBuffer[] _snapshot = [];
    private volatile bool _stopRequested;
    private volatile KafkaException? _fatal;
    private Thread? _thread;
    private IConsumer<TKey, TValue>? _consumer;
    private int _cursor;
    private long _buffered;
    private long _bufferedBytes;
    private volatile bool _anyPaused;
    private long _lost;
    private long _maxBufferedSeen;

    public ConsumerPump(ConsumerSettings<TKey, TValue> settings, ISubscription subscription, IConsumerPumpListener listener, Action<string> warn)
    {
        _settings = settings;
        _subscription = subscription;
        Listener = listener;
        _warn = warn;
        GroupId = settings.GroupId ?? "";
    }

    public IConsumerPumpListener Listener { get; }
    public string GroupId { get; }
    public Task Shutdown => _shutdown.Task;

    /// <summary>Records held by this consumer's buffers now.</summary>
    public long Buffered => Interlocked.Read(ref _buffered);

    /// <summary>Bytes of keys and values held by this consumer's buffers now (<see cref="SizeOf"/>).</summary>
    public long BufferedBytes => Interlocked.Read(ref _bufferedBytes);

    /// <summary>The most records ever held at once (for checking the bound).</summary>
    public long MaxBufferedSeen => Interlocked.Read(ref _maxBufferedSeen);

    /// <summary>Per assigned partition, the next offset to take (unknown ones, before the first record, left out).</summary>
    public IReadOnlyDictionary<TopicPartition, long> Positions =>
        _snapshot.Where(b => !b.Revoked && Interlocked.Read(ref b.NextExpected) >= 0).ToDictionary(b => b.Partition, b => Interlocked.Read(ref b.NextExpected));

    /// <summary>Records found missing from the log (offset gaps) so far.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "kafka-consumer-" + GroupId };
        _thread.Start();
    }

    /// <summary>
    /// The current assignment of a partition (a new object each time it is assigned), or null. A substream
    /// belongs to one assignment: after a revoke and a re-assignment to this same member it must not live on.
    /// </summary>
    public object? Assignment(TopicPartition partition) => _buffers.TryGetValue(partition, out var b) ? b : null;

    /// <summary>
    /// Routes one partition's notifications to the substream of <paramref name="assignment"/>. False when that
    /// assignment is already over (the substream completes at once). A substream of an older assignment
    /// still registered is told its partition was revoked.
    /// </summary>
    public bool RegisterPartitionListener(TopicPartition partition, object assignment, IConsumerPumpListener listener)
    {
        if (!ReferenceEquals(Assignment(partition), assignment)) return false;
        IConsumerPumpListener? previous = null;
        _partitionListeners.AddOrUpdate(partition, listener, (_, old) =>
        {
            previous = old;
            return listener;
        });
        if (previous is not null && !ReferenceEquals(previous, listener)) previous.OnRevoked([partition]);
        // A revoke may have run between the check and the registration: check again.
        if (!ReferenceEquals(Assignment(partition), assignment))
        {
            _partitionListeners.TryRemove(new KeyValuePair<TopicPartition, IConsumerPumpListener>(partition, listener));
            return false;
        }
        // Records may have arrived before the substream existed.
        if (_buffers.TryGetValue(partition, out var b) && (!b.Queue.IsEmpty || b.Carried is not null)) listener.OnRecords(partition);
        return true;
    }

    public void UnregisterPartitionListener(TopicPartition partition, IConsumerPumpListener listener) =>
        _partitionListeners.TryRemove(new KeyValuePair<TopicPartition, IConsumerPumpListener>(partition, listener));

    /// <summary>Completes every live substream (the outer source stopped).</summary>
    public void CompleteSubstreams()
    {
        foreach (var (tp, listener) in _partitionListeners) listener.OnRevoked([tp]);
    }

    public void FailSubstreams(Exception cause)
    {
        foreach (var listener in _partitionListeners.Values) listener.OnFailed(cause);
    }


    /// <summary>Takes the next record of one partition (called by that partition's stage).</summary>
    public bool TryTake(TopicPartition partition, object assignment, out ConsumeResult<TKey, TValue> record)
    {
        if (_buffers.TryGetValue(partition, out var buffer) && ReferenceEquals(buffer, assignment) && TryDequeue(buffer, out record!))
        {
            Taken(buffer, 1, SizeOf(record));
            return true;
        }
        record = null!;
        return false;
    }

    /// <summary>Takes the next record of any partition, round-robin so no partition starves.</summary>
    public bool TryTakeAny(out ConsumeResult<TKey, TValue> record)
    {
        var snapshot = _snapshot;
        for (var i = 0; i < snapshot.Length; i++)
        {
            var buffer = snapshot[(_cursor + i) % snapshot.Length];
            if (TryDequeue(buffer, out record!))
            {
                // Stay on a partition for a run of records (cheaper), move on when it is empty.
                _cursor = (_cursor + i) % snapshot.Length;
                Taken(buffer, 1, SizeOf(record));
                return true;
            }
        }
        record = null!;
        return false;
    }

    /// <summary>
    /// Moves buffered records into <paramref name="into"/>, a run of each partition in turn (starting at a different
    /// partition each call, so none starves), until it holds <paramref name="maxRecords"/> records, or <paramref name="weight"/>
    /// reached <paramref name="maxWeight"/>, or the next record would take it past that (the first record is always taken).
    /// True when the batch is full, false when the buffers ran out first. Called by one stage at a time.
    /// </summary>
    public bool TakeInto(List<ConsumeResult<TKey, TValue>> into, int maxRecords, long maxWeight, Func<ConsumeResult<TKey, TValue>, long>? weigh, ref long weight)
    {
        var snapshot = _snapshot;
        if (snapshot.Length == 0) return into.Count >= maxRecords || weight >= maxWeight;
        var start = _cursor++ % snapshot.Length;
        if (_cursor >= snapshot.Length) _cursor = 0;
        for (var i = 0; i < snapshot.Length; i++)
        {
            var buffer = snapshot[(start + i) % snapshot.Length];
            var taken = 0;
            long bytes = 0;
            var full = false;
            while (true)
            {
                if (into.Count >= maxRecords || weight >= maxWeight)
                {
                    full = true;
                    break;
                }
                // The only other taker is a revoke, which empties the queue: then what we get (or not) is dropped anyway.
                if (!TryDequeue(buffer, out var record)) break;
                if (weigh is not null)
                {
                    var w = weigh(record);
                    if (into.Count > 0 && weight + w > maxWeight)
                    {
                        // Kept for the next batch, first. Not ConcurrentQueue.TryPeek: a peek keeps every record later
                        // dequeued through that queue segment referenced (up to the segment's size: 100s of MB of large records).
                        Carry(buffer, record);
                        full = true;
                        break;
                    }
                    weight += w;
                }
                into.Add(record);
                taken++;
                bytes += SizeOf(record);
            }
            if (taken > 0) Taken(buffer, taken, bytes);
            if (full) return true;
        }
        return false;
    }

    /// <summary>The partition's next record: the one a batch left for the next (<see cref="Carry"/>), else the queue's first.</summary>
    private static bool TryDequeue(PartitionBuffer buffer, out ConsumeResult<TKey, TValue> record)
    {
        if (buffer.Carried is not null && Interlocked.Exchange(ref buffer.Carried, null) is { } carried)
        {
            record = carried;
            return true;
        }
        return buffer.Queue.TryDequeue(out record!);
    }

    /// <summary>Puts back a record just dequeued, to be taken first next time (still counted as buffered).</summary>
    private void Carry(PartitionBuffer buffer, ConsumeResult<TKey, TValue> record)
    {
        Volatile.Write(ref buffer.Carried, record);
        // A revoke that drained the partition meanwhile did not see it: it is dropped here, as the revoke would have.
        if (buffer.Revoked && Interlocked.Exchange(ref buffer.Carried, null) is { } dropped)
        {
            Interlocked.Add(ref _buffered, -1);
            Interlocked.Add(ref _bufferedBytes, -SizeOf(dropped));
        }
    }

    private void Taken(PartitionBuffer buffer, int n, long bytes)
    {
        Interlocked.Add(ref _buffered, -n);
        var held = Interlocked.Add(ref _bufferedBytes, -bytes);
        var count = Interlocked.Add(ref buffer.Count, -n);
        // Above half the byte bound, partitions paused by it are resumed by the poll loop (ResumeUnderByteBound).
        if (buffer.Paused && count <= _settings.MaxBufferedPerPartition / 2 && !buffer.ResumeRequested
            && (_settings.MaxBufferedBytes <= 0 || held <= _settings.MaxBufferedBytes / 2))
        {
            buffer.ResumeRequested = true;
            _commands.Enqueue(c =>
            {
                buffer.ResumeRequested = false;
                if (!buffer.Paused || buffer.Revoked) return;
                buffer.Paused = false;
                c.Resume([buffer.Partition]);
            });
        }
    }

    public Task Commit(IReadOnlyList<TopicPartitionOffset> offsets)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_shutdown.Task.IsCompleted)
        {
            done.SetException(new InvalidOperationException("the consumer is shut down; offsets were not committed"));
            return done.Task;
        }
        var deadline = DateTime.UtcNow + _settings.CommitTimeout;
        void Attempt(IConsumer<TKey, TValue> c)
        {
            try
            {
                CommitNow(c, offsets);
                done.TrySetResult();
            }
            catch (KafkaException e) when (IsRetriable(e.Error) && DateTime.UtcNow < deadline)
            {
                // A rebalance is under way: it only completes if we keep polling, so retry after the next poll
                // instead of waiting here. Partitions that move away meanwhile are dropped from the commit.
                _retryAfterPoll.Add(Attempt);
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        }
        _commands.Enqueue(Attempt);
        return done.Task;
    }

    /// <summary>Stops polling, leaves the group and closes the consumer; pending commands (commits) run first.</summary>
    public void RequestShutdown() => _stopRequested = true;

    private void CommitNow(IConsumer<TKey, TValue> consumer, IReadOnlyList<TopicPartitionOffset> offsets)
    {
        // Offsets of partitions this member no longer owns would overwrite the new owner's progress; their
        // records are redelivered to the new owner (at-least-once), so dropping them here is correct.
        var owned = offsets.Where(o => _buffers.ContainsKey(o.TopicPartition) || _subscription is AssignmentSubscription).ToList();
        if (owned.Count == 0) return;
        consumer.Commit(owned);
    }

    private static bool IsRetriable(Error e) =>
        e.Code is ErrorCode.RebalanceInProgress or ErrorCode.RequestTimedOut or ErrorCode.NotCoordinatorForGroup
            or ErrorCode.GroupLoadInProgress or ErrorCode.Local_Transport or ErrorCode.Local_TimedOut;

    private void Run()
    {
        try
        {
            using var consumer = Build();
            _consumer = consumer;
            Subscribe(consumer);
            while (!_stopRequested)
            {
                if (_fatal is { } fatal) throw fatal;
                RunCommands(consumer);
                ResumeUnderByteBound(consumer);
                ConsumeResult<TKey, TValue>? first;
                try
                {
                    first = consumer.Consume(_settings.PollTimeout);
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    // E.g. a pattern that matches no topic yet, or a partition error librdkafka recovers from.
                    WarnRateLimited($"kafka consumer: {e.Error.Reason}");
                    continue;
                }
                foreach (var retry in _retryAfterPoll) _commands.Enqueue(retry);
                _retryAfterPoll.Clear();
                if (first is null) continue;
                var touched = _touched;
                Accept(consumer, first, touched);
                // Drain what librdkafka already has, without waiting, before waking the stages once.
                for (var i = 0; i < 1000; i++)
                {
                    ConsumeResult<TKey, TValue>? next;
                    try
                    {
                        next = consumer.Consume(TimeSpan.Zero);
                    }
                    catch (ConsumeException e) when (!e.Error.IsFatal)
                    {
                        WarnRateLimited($"kafka consumer: {e.Error.Reason}");
                        break;
                    }
                    if (next is null) break;
                    Accept(consumer, next, touched);
                }
                foreach (var buffer in touched)
                {
                    buffer.Touched = false;
                    Notify(buffer.Partition);
                }
                touched.Clear();
            }
            RunCommands(consumer);
            try
            {
                if (_subscription is TopicSubscription) consumer.Close();
            }
            catch (KafkaException e)
            {
                _warn($"kafka consumer close: {e.Error.Reason}");
            }
            _consumer = null;
            _shutdown.TrySetResult();
        }
        catch (Exception e)
        {
            _shutdown.TrySetResult();
            Listener.OnFailed(e);
        }
        finally
        {
            // Commands queued after the loop ended fail rather than hang.
            while (_commands.TryDequeue(out _)) { }
        }
    }

    private readonly Dictionary<string, DateTime> _lastWarned = new();

    /// <summary>
    /// The same warning at most once a minute: a missing topic is reported on every poll otherwise. "The same"
    /// ignores librdkafka's timing detail ("(after 0ms in state CONNECT)"), which differs every time.
    /// </summary>
    private void WarnRateLimited(string message)
    {
        var key = System.Text.RegularExpressions.Regex.Replace(message, @"\(after \d+ms[^)]*\)", "");
        var now = DateTime.UtcNow;
        lock (_lastWarned)
        {
            if (_lastWarned.TryGetValue(key, out var last) && now - last < TimeSpan.FromMinutes(1)) return;
            if (_lastWarned.Count > 1000) _lastWarned.Clear(); // bounded: messages name brokers and topics
            _lastWarned[key] = now;
        }
        _warn(message);
    }

    private IConsumer<TKey, TValue> Build()
    {
        var builder = _settings.CreateBuilder()
            .SetErrorHandler((_, e) =>
            {
                if (e.IsFatal) _fatal = new KafkaException(e);
                else WarnRateLimited($"kafka consumer: {e.Reason}"); // a broker that is down is reported every few ms otherwise
            });
        if (_subscription is TopicSubscription)
        {
            builder.SetPartitionsAssignedHandler((c, partitions) => Assigned(c, partitions));
            builder.SetPartitionsRevokedHandler((c, partitions) => Revoked(c, partitions.Select(p => p.TopicPartition).ToList(), lost: false));
            builder.SetPartitionsLostHandler((c, partitions) => Revoked(c, partitions.Select(p => p.TopicPartition).ToList(), lost: true));
        }
        return builder.Build();
    }

    private void Subscribe(IConsumer<TKey, TValue> consumer)
    {
        switch (_subscription)
        {
            case TopicSubscription t:
                consumer.Subscribe(t.Topics);
                break;
            case AssignmentSubscription a:
                Assigned(consumer, a.Partitions.Select(p => p.TopicPartition).ToList());
                consumer.Assign(a.Partitions);
                break;
        }
    }

    private void Assigned(IConsumer<TKey, TValue> consumer, List<TopicPartition> partitions)
    {
        Dictionary<TopicPartition, long> committed = new();
        try
        {
            foreach (var c in consumer.Committed(partitions, _settings.CommittedOffsetsTimeout))
                if (c.Offset.Value >= 0) committed[c.TopicPartition] = c.Offset.Value;
        }
        catch (KafkaException e)
        {
            _warn($"could not read committed offsets of {string.Join(",", partitions)}: {e.Error.Reason}; gap detection starts at the first record");
        }
        foreach (var tp in partitions)
        {
            // With no committed offset the group reads from the log start; a log that no longer starts at 0 lost
            // records before anyone read them (unless retention removed them on purpose: then turn this off).
            var buffer = new PartitionBuffer(tp) { NextExpected = committed.TryGetValue(tp, out var o) ? o : _settings.ExpectLogStartAtZero ? 0 : -1 };
            _buffers[tp] = buffer;
        }
        _snapshot = _buffers.Values.ToArray();
        // librdkafka may keep a partition paused across a rebalance; a fresh assignment starts with an empty
        // buffer, so make sure it is fetched (after this handler returns, when the assignment is in place).
        var fresh = partitions.Select(tp => _buffers[tp]).ToList();
        _commands.Enqueue(c =>
        {
            var toResume = fresh.Where(b => !b.Revoked && !b.Paused).Select(b => b.Partition).ToList();
            if (toResume.Count == 0) return;
            try
            {
                c.Resume(toResume);
            }
            catch (KafkaException e)
            {
                _warn($"could not resume {string.Join(",", toResume)}: {e.Error.Reason}");
            }
        });
        Tell(l => l.Assigned(partitions));
        Listener.OnAssigned(partitions);
    }

    private void Tell(Action<IPartitionAssignmentListener> call)
    {
        if (_settings.AssignmentListener is not { } listener) return;
        try
        {
            call(listener);
        }
        catch (Exception e)
        {
            _warn($"the assignment listener failed: {e.GetBaseException().Message}");
        }
    }

    private void Revoked(IConsumer<TKey, TValue> consumer, List<TopicPartition> partitions, bool lost)
    {
        // The listener first (it may finish writing what was read from them and ask for a commit), then the
        // commits already asked for, which still belong to us: both before the partitions go.
        Tell(l => l.Revoked(partitions, lost));
        if (!lost) RunCommands(consumer);
        var paused = partitions.Where(tp => _buffers.TryGetValue(tp, out var b) && b.Paused).ToList();
        if (paused.Count > 0 && !lost)
        {
            try
            {
                consumer.Resume(paused); // do not carry a pause into the next assignment
            }
            catch (KafkaException)
            {
            }
        }
        foreach (var tp in partitions)
        {
            if (!_buffers.TryRemove(tp, out var buffer)) continue;
            buffer.Revoked = true;
            var dropped = 0;
            long droppedBytes = 0;
            while (TryDequeue(buffer, out var record))
            {
                dropped++;
                droppedBytes += SizeOf(record);
            }
            Interlocked.Add(ref _buffered, -dropped);
            Interlocked.Add(ref _bufferedBytes, -droppedBytes);
        }
        _snapshot = _buffers.Values.ToArray();
        foreach (var tp in partitions)
            if (_partitionListeners.TryRemove(tp, out var sub)) sub.OnRevoked([tp]);
        Listener.OnRevoked(partitions);
    }

    private void Accept(IConsumer<TKey, TValue> consumer, ConsumeResult<TKey, TValue> record, List<PartitionBuffer> touched)
    {
        if (record.IsPartitionEOF) return;
        // Records come in runs of one partition: skip the dictionary (and hashing the topic name) while the run lasts.
        var buffer = _lastAccepted;
        if (buffer is null || buffer.Revoked || buffer.Partition.Partition.Value != record.Partition.Value || !string.Equals(buffer.Partition.Topic, record.Topic, StringComparison.Ordinal))
        {
            if (!_buffers.TryGetValue(record.TopicPartition, out buffer)) return; // revoked meanwhile
            _lastAccepted = buffer;
        }
        var offset = record.Offset.Value;
        if (offset < buffer.NextExpected) return; // already buffered once (a refetch after resume)
        if (buffer.NextExpected >= 0 && offset > buffer.NextExpected)
        {
            Interlocked.Add(ref _lost, offset - buffer.NextExpected);
            _warn($"records lost from {record.TopicPartition}: offsets {buffer.NextExpected}..{offset - 1} are no longer in the log (retention)");
            Listener.OnRecordsLost(record.TopicPartition, buffer.NextExpected, offset - 1);
        }
        buffer.NextExpected = offset + 1;
        buffer.Queue.Enqueue(record);
        var total = Interlocked.Increment(ref _buffered);
        var bytes = Interlocked.Add(ref _bufferedBytes, SizeOf(record));
        if (total > Interlocked.Read(ref _maxBufferedSeen)) Interlocked.Exchange(ref _maxBufferedSeen, total);
        if ((Interlocked.Increment(ref buffer.Count) >= _settings.MaxBufferedPerPartition || (_settings.MaxBufferedBytes > 0 && bytes >= _settings.MaxBufferedBytes))
            && !buffer.Paused)
        {
            buffer.Paused = true;
            _anyPaused = true;
            consumer.Pause([buffer.Partition]);
        }
        if (!buffer.Touched)
        {
            buffer.Touched = true;
            touched.Add(buffer);
        }
    }

    /// <summary>
    /// With a byte bound, on the poll thread before each poll: once the buffers are down to half of it, the partitions
    /// paused (by it, or by their count, now down to half) are fetched again. Here rather than where records are taken:
    /// a partition paused by the bytes of others may have nothing of its own to take.
    /// </summary>
    private void ResumeUnderByteBound(IConsumer<TKey, TValue> consumer)
    {
        if (_settings.MaxBufferedBytes <= 0 || !_anyPaused || Interlocked.Read(ref _bufferedBytes) > _settings.MaxBufferedBytes / 2) return;
        _anyPaused = false;
        List<TopicPartition>? resume = null;
        foreach (var buffer in _snapshot)
        {
            if (!buffer.Paused || buffer.Revoked) continue;
            if (Volatile.Read(ref buffer.Count) > _settings.MaxBufferedPerPartition / 2)
            {
                _anyPaused = true;
                continue;
            }
            buffer.Paused = false;
            (resume ??= []).Add(buffer.Partition);
        }
        if (resume is null) return;
        try
        {
            consumer.Resume(resume);
        }
        catch (KafkaException e)
        {
            _warn($"could not resume {string.Join(",", resume)}: {e.Error.Reason}");
        }
    }

    /// <summary>What a record weighs against <see cref="ConsumerSettings{TKey,TValue}.MaxBufferedBytes"/>: its key's and value's bytes (text: two a character).</summary>
    internal static long SizeOf(ConsumeResult<TKey, TValue> record) =>
        record.Message is { } m ? Weigh(m.Key) + Weigh(m.Value) : 0;

    private static long Weigh<T>(T value) => value is byte[] bytes ? bytes.Length : value is string text ? 2L * text.Length : 0;

    private void Notify(TopicPartition tp)
    {
        if (_partitionListeners.TryGetValue(tp, out var sub)) sub.OnRecords(tp);
        else Listener.OnRecords(tp);
    }

    private void RunCommands(IConsumer<TKey, TValue> consumer)
    {
        while (_commands.TryDequeue(out var command)) command(consumer);
    }

    private sealed class PartitionBuffer(TopicPartition partition)
    {
        public TopicPartition Partition { get; } = partition;
        public ConcurrentQueue<ConsumeResult<TKey, TValue>> Queue { get; } = new();
        public ConsumeResult<TKey, TValue>? Carried; // taken out of Queue for a batch it did not fit; the partition's next record
        public int Count;
        public volatile bool Paused;
        public volatile bool ResumeRequested;
        public volatile bool Revoked;
        public bool Touched; // poll thread only: has records not yet announced
        public long NextExpected;
    }
}
