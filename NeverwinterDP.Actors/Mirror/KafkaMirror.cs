using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>One source partition as the mirror sees it: the next offset it copies and how far the source is ahead.</summary>
public sealed record MirrorPartitionStatus(string Topic, int Partition, string TargetTopic, long Next, long HighWatermark)
{
    /// <summary>Records on the source not yet committed into the target (0 when the high watermark is not known yet).</summary>
    public long Lag => HighWatermark < 0 || Next < 0 ? 0 : Math.Max(0, HighWatermark - Next);
}

/// <summary>What a mirror did so far and where it is.</summary>
public sealed record MirrorStatus(string Name, bool Running, long Mirrored, long Skipped, long Transactions, long Aborts, string? LastError,
    IReadOnlyList<MirrorPartitionStatus> Partitions)
{
    public long Lag => Partitions.Sum(p => p.Lag);
}

/// <summary>
/// Copies topics from a source Kafka cluster to a target cluster, exactly once into the target. Each batch of source
/// records is produced in one Kafka transaction on the target together with the mirror's new source positions (records
/// of the compacted <see cref="MirrorOptions.OffsetsTopic"/>); a mirror starts from the positions committed there, read
/// with <c>read_committed</c>. So what a crashed mirror wrote and did not commit is aborted (its successor's
/// <c>InitTransactions</c>, with the same transactional id, fences it) and read again, and what it committed is not
/// copied twice. Readers of the target must read <c>read_committed</c> (librdkafka's default).
/// Keys, values, headers and timestamps are kept; a record goes to the same partition when source and target topics
/// have as many partitions, by key hash otherwise. Records whose <see cref="MirrorHeaders.Path"/> already holds the
/// target site are skipped (their positions still advance).
/// </summary>
public sealed class KafkaMirror
{
    private readonly MirrorOptions _options;
    private readonly KafkaClients _source;
    private readonly KafkaClients _target;
    private readonly Action<string> _log;
    private readonly Regex _pattern;
    private readonly ConcurrentDictionary<TopicPartition, long> _next = new();
    private readonly ConcurrentDictionary<TopicPartition, long> _high = new();
    private readonly Dictionary<string, (string Target, bool SamePartitions)> _topics = new(StringComparer.Ordinal);
    // Per target partition, the offset after the last record this mirror is known to have written there: a lower bound
    // of where the next transaction's copies start (stored with the positions, where a restart looks for them).
    private readonly ConcurrentDictionary<TopicPartition, long> _targetNext = new();
    private readonly ConcurrentDictionary<TopicPartition, long> _delivered = new();
    private readonly Action<DeliveryReport<byte[]?, byte[]?>> _onDelivered;
    private long _mirrored;
    private long _skipped;
    private long _transactions;
    private long _aborts;
    private volatile bool _running;
    private volatile string? _lastError;

    /// <param name="log">Told what the mirror does (start, topics found, aborts, errors), a line at a time.</param>
    public KafkaMirror(MirrorOptions options, KafkaClients source, KafkaClients target, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _source = source;
        _target = target;
        _log = log ?? (_ => { });
        _pattern = new Regex(options.TopicPattern, RegexOptions.CultureInvariant);
        _onDelivered = report =>
        {
            if (report.Error.IsError) return; // the commit fails for it
            _delivered.AddOrUpdate(report.TopicPartition, report.Offset.Value + 1, (_, old) => Math.Max(old, report.Offset.Value + 1));
        };
    }

    public MirrorOptions Options => _options;

    /// <summary>The transactional id on the target: one live producer per mirror name.</summary>
    public string TransactionalId => "nwdp-mirror-" + _options.Name;

    public MirrorStatus Status => new(_options.Name, _running, Interlocked.Read(ref _mirrored), Interlocked.Read(ref _skipped),
        Interlocked.Read(ref _transactions), Interlocked.Read(ref _aborts), _lastError,
        _next.OrderBy(p => p.Key.Topic, StringComparer.Ordinal).ThenBy(p => p.Key.Partition.Value)
            .Select(p => new MirrorPartitionStatus(p.Key.Topic, p.Key.Partition.Value, _options.TargetTopicOf(p.Key.Topic), p.Value,
                _high.TryGetValue(p.Key, out var high) ? high : -1))
            .ToList());

    /// <summary>
    /// Runs until <paramref name="stop"/>: the transaction in progress is committed first, so a stop loses and
    /// repeats nothing. Fails on what retrying cannot mend (another mirror of the same name fenced this one, a
    /// source topic's records are gone); errors a retry may mend are logged and retried with a backoff.
    /// </summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.Factory.StartNew(() => Run(stop), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        Librdkafka.EnsureLoaded();
        var producerConfig = _target.Producer();
        producerConfig.TransactionalId = TransactionalId;
        producerConfig.EnableIdempotence = true;
        producerConfig.Acks = Acks.All;
        producerConfig.LingerMs = 5;
        producerConfig.Partitioner = Confluent.Kafka.Partitioner.Murmur2Random; // the Java client's key hash
        producerConfig.TransactionTimeoutMs = (int)Math.Max(60_000, 2 * _options.RequestTimeout.TotalMilliseconds);
        producerConfig.Set("dotnet.producer.delivery.report.fields", "status");
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(producerConfig).Build();

        var consumerConfig = _source.Consumer("nwdp-mirror-" + _options.Name);
        consumerConfig.EnableAutoCommit = false;
        consumerConfig.EnableAutoOffsetStore = false;
        consumerConfig.IsolationLevel = IsolationLevel.ReadCommitted; // a source may be another mirror's target
        consumerConfig.AutoOffsetReset = _options.StartAtBeginning ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest;
        consumerConfig.Set("statistics.interval.ms", "0");
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(consumerConfig).Build();
        using var sourceAdmin = new AdminClientBuilder(_source.Admin()).Build();
        using var targetAdmin = new AdminClientBuilder(_target.Admin()).Build();

        _running = true;
        try
        {
            // Fences an earlier mirror of this name and aborts what it left open, before its positions are read.
            Retrying(stop, "initialising the transactional producer", () => producer.InitTransactions(_options.RequestTimeout));
            Retrying(stop, "creating the offsets topic", () => EnsureTopic(targetAdmin, _options.OffsetsTopic, 1, compacted: true));
            Retrying(stop, "creating the offset syncs topic", () => EnsureTopic(targetAdmin, _options.SyncsTopic, 1, compacted: false));
            var stored = Retrying(stop, "reading the stored positions", ReadPositions);
            var targetReader = TargetReader();
            _log($"mirror {_options.Name}: {stored.Count} stored positions in {_options.OffsetsTopic}");

            var nextRefresh = DateTime.MinValue;
            var backoff = TimeSpan.FromMilliseconds(200);
            while (!stop.IsCancellationRequested)
            {
                if (DateTime.UtcNow >= nextRefresh)
                {
                    Retrying(stop, "refreshing the source topics", () => Refresh(sourceAdmin, targetAdmin, consumer, targetReader, stored));
                    nextRefresh = DateTime.UtcNow + _options.TopicRefresh;
                }
                try
                {
                    CopyOneBatch(consumer, producer, stop);
                    backoff = TimeSpan.FromMilliseconds(200);
                }
                catch (KafkaException e) when (!e.Error.IsFatal)
                {
                    _lastError = e.Error.Reason;
                    _log($"mirror {_options.Name}: transaction aborted ({e.Error.Code}: {e.Error.Reason}); its records are read again in {backoff.TotalMilliseconds:0} ms");
                    Abort(producer, consumer, stop);
                    if (stop.WaitHandle.WaitOne(backoff)) break;
                    backoff = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(10).Ticks, backoff.Ticks * 2));
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // stopped while retrying: nothing is open that a successor would not resolve
        }
        finally
        {
            _running = false;
            consumer.Close();
            _targetReaderInstance?.Dispose();
        }
    }

    /// <summary>One transaction: up to a batch of source records, copied, with the positions after them.</summary>
    private void CopyOneBatch(IConsumer<byte[]?, byte[]?> consumer, IProducer<byte[]?, byte[]?> producer, CancellationToken stop)
    {
        var deadline = DateTime.UtcNow + _options.BatchInterval;
        var touched = new Dictionary<TopicPartition, long>();
        var targetStarts = new Dictionary<TopicPartition, long>();
        _delivered.Clear();
        var syncs = new OffsetSyncBatch();
        var records = 0;
        var copied = 0;
        var skipped = 0;
        long bytes = 0;
        var open = false;
        while (records < _options.MaxBatchRecords && bytes < _options.MaxBatchBytes && !stop.IsCancellationRequested)
        {
            var wait = deadline - DateTime.UtcNow;
            if (wait <= TimeSpan.Zero) break;
            var result = consumer.Consume(wait);
            if (result is null) break;
            if (result.IsPartitionEOF) continue;
            if (!open)
            {
                producer.BeginTransaction();
                open = true;
            }
            var tp = result.TopicPartition;
            var message = result.Message;
            var (targetTopic, samePartitions) = _topics[tp.Topic];
            if (!targetStarts.ContainsKey(tp))
            {
                targetStarts[tp] = samePartitions && _targetNext.TryGetValue(new TopicPartition(targetTopic, tp.Partition), out var start) ? start : -1;
                syncs.Began(tp, result.Offset.Value, targetTopic, samePartitions);
            }
            if (MirrorHeaders.HasVisited(message.Headers, _options.TargetSite))
            {
                skipped++;
            }
            else
            {
                var copy = new Message<byte[]?, byte[]?>
                {
                    Key = message.Key,
                    Value = message.Value,
                    Timestamp = new Timestamp(message.Timestamp.UnixTimestampMs, TimestampType.CreateTime),
                    Headers = MirrorHeaders.ForCopy(message.Headers, _options.SourceSite, tp.Topic, tp.Partition.Value, result.Offset.Value),
                };
                var to = samePartitions ? new TopicPartition(targetTopic, tp.Partition) : new TopicPartition(targetTopic, Partition.Any);
                var sourceOffset = result.Offset.Value;
                ProduceWaitingForRoom(producer, to, copy, samePartitions ? report =>
                {
                    _onDelivered(report);
                    syncs.Delivered(tp, sourceOffset, report);
                } : _onDelivered, stop);
                bytes += (message.Key?.Length ?? 0) + (message.Value?.Length ?? 0);
                copied++;
            }
            touched[tp] = result.Offset.Value + 1;
            records++;
        }
        if (!open) return;
        syncs.Write(producer, _options.SyncsTopic, _options.Name, touched, _options.RequestTimeout, _log, stop);
        foreach (var (tp, next) in touched)
        {
            producer.Produce(new TopicPartition(_options.OffsetsTopic, 0), new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes(PositionKey(tp)),
                Value = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{next} {targetStarts[tp]}")),
            });
        }
        // Commit flushes the records first; any that failed make it throw (requires abort). A retriable failure (a
        // timeout) leaves the commit under way: it is retried, never aborted, or the records could land and be copied again.
        while (true)
        {
            try
            {
                producer.CommitTransaction(_options.RequestTimeout);
                break;
            }
            catch (KafkaRetriableException e)
            {
                _lastError = e.Error.Reason;
                _log($"mirror {_options.Name}: commit not confirmed yet ({e.Error.Code}: {e.Error.Reason}); asking again");
                if (stop.IsCancellationRequested && stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(1))) throw new OperationCanceledException(stop);
            }
        }
        foreach (var (tp, next) in touched) _next[tp] = next;
        foreach (var (targetTp, next) in _delivered) _targetNext.AddOrUpdate(targetTp, next, (_, old) => Math.Max(old, next));
        Interlocked.Add(ref _mirrored, copied);
        Interlocked.Add(ref _skipped, skipped);
        Interlocked.Increment(ref _transactions);
        _lastError = null;
        foreach (var tp in touched.Keys) UpdateHigh(consumer, tp);
    }

    private void ProduceWaitingForRoom(IProducer<byte[]?, byte[]?> producer, TopicPartition to, Message<byte[]?, byte[]?> copy,
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivered, CancellationToken stop)
    {
        while (true)
        {
            try
            {
                producer.Produce(to, copy, onDelivered);
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull && !stop.IsCancellationRequested)
            {
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <summary>Aborts the open transaction (if any) and rewinds every partition to its committed position.</summary>
    private void Abort(IProducer<byte[]?, byte[]?> producer, IConsumer<byte[]?, byte[]?> consumer, CancellationToken stop)
    {
        Interlocked.Increment(ref _aborts);
        Retrying(stop, "aborting the transaction", () =>
        {
            try
            {
                producer.AbortTransaction(_options.RequestTimeout);
            }
            catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_State)
            {
                // no transaction open
            }
        });
        foreach (var tp in consumer.Assignment)
        {
            if (_next.TryGetValue(tp, out var next)) consumer.Seek(new TopicPartitionOffset(tp, next));
        }
    }

    private void UpdateHigh(IConsumer<byte[]?, byte[]?> consumer, TopicPartition tp)
    {
        var watermarks = consumer.GetWatermarkOffsets(tp);
        if (watermarks.High != Offset.Unset) _high[tp] = watermarks.High.Value;
    }

    private string PositionKey(TopicPartition tp) => string.Create(CultureInfo.InvariantCulture, $"{_options.Name}/{tp.Topic}/{tp.Partition.Value}");

    /// <summary>The positions this mirror committed, read from the offsets topic up to its end (read_committed).</summary>
    private Dictionary<TopicPartition, (long Next, long TargetStart)> ReadPositions()
    {
        using var reader = EndReader("nwdp-mirror-positions-");
        var partition = new TopicPartition(_options.OffsetsTopic, 0);
        reader.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
        var prefix = _options.Name + "/";
        var positions = new Dictionary<TopicPartition, (long Next, long TargetStart)>();
        ReadToEnd(reader, _options.OffsetsTopic, result =>
        {
            if (result.Message.Key is null) return;
            var key = Encoding.UTF8.GetString(result.Message.Key);
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) return;
            var slash = key.LastIndexOf('/');
            if (slash <= prefix.Length || !int.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p)) return;
            var tp = new TopicPartition(key[prefix.Length..slash], p);
            if (result.Message.Value is null) positions.Remove(tp);
            else
            {
                var parts = Encoding.UTF8.GetString(result.Message.Value).Split(' ');
                positions[tp] = (long.Parse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture),
                    parts.Length > 1 ? long.Parse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : -1);
            }
        });
        return positions;
    }

    /// <summary>
    /// Hands <paramref name="onRecord"/> every record of the one assigned partition up to its end (partition EOF, which
    /// <c>read_committed</c> places at the last stable offset) and returns that end offset; a Kafka error when the end is
    /// not reached within <see cref="MirrorOptions.RequestTimeout"/>.
    /// </summary>
    private long ReadToEnd(IConsumer<byte[]?, byte[]?> reader, string what, Action<ConsumeResult<byte[]?, byte[]?>> onRecord) =>
        TopicEnd.ReadToEnd(reader, 1, _options.RequestTimeout, what, onRecord).Values.Single();

    /// <summary>Finds source topics (and partitions) that match, makes their target topics, and assigns the new partitions.</summary>
    private void Refresh(IAdminClient sourceAdmin, IAdminClient targetAdmin, IConsumer<byte[]?, byte[]?> consumer, IConsumer<byte[]?, byte[]?> targetReader,
        Dictionary<TopicPartition, (long Next, long TargetStart)> stored)
    {
        var metadata = sourceAdmin.GetMetadata(_options.RequestTimeout);
        var assigned = consumer.Assignment.ToHashSet();
        var added = new List<TopicPartitionOffset>();
        foreach (var topic in metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError && !t.Topic.StartsWith("__", StringComparison.Ordinal) && _pattern.IsMatch(t.Topic)))
        {
            if (topic.Topic == _options.OffsetsTopic || topic.Topic == _options.SyncsTopic || topic.Topic == MirrorCheckpointOptions.DefaultTopic) continue;
            if (!_topics.TryGetValue(topic.Topic, out var target) || !assigned.Any(tp => tp.Topic == topic.Topic))
            {
                var targetName = _options.TargetTopicOf(topic.Topic);
                EnsureTopic(targetAdmin, targetName, topic.Partitions.Count, compacted: false);
                var targetPartitions = targetAdmin.GetMetadata(targetName, _options.RequestTimeout).Topics.SingleOrDefault(t => t.Topic == targetName)?.Partitions.Count ?? 0;
                target = (targetName, targetPartitions == topic.Partitions.Count);
                _topics[topic.Topic] = target;
                _log($"mirror {_options.Name}: {_options.SourceSite}:{topic.Topic} ({topic.Partitions.Count} partitions) -> {_options.TargetSite}:{targetName} " +
                     (target.SamePartitions ? "(same partitions)" : $"({targetPartitions} partitions: by key hash)"));
            }
            foreach (var partition in topic.Partitions)
            {
                var tp = new TopicPartition(topic.Topic, partition.PartitionId);
                if (assigned.Contains(tp)) continue;
                Offset start;
                if (stored.TryGetValue(tp, out var position))
                {
                    var next = target.SamePartitions && position.TargetStart >= 0
                        ? ResumeAfterCopies(targetReader, tp, new TopicPartition(target.Target, tp.Partition), position)
                        : position.Next;
                    start = new Offset(next);
                    _next[tp] = next;
                }
                else
                {
                    start = _options.StartAtBeginning ? Offset.Beginning : Offset.End;
                }
                added.Add(new TopicPartitionOffset(tp, start));
            }
        }
        if (added.Count > 0) consumer.IncrementalAssign(added);
    }

    private IConsumer<byte[]?, byte[]?>? _targetReaderInstance;

    private IConsumer<byte[]?, byte[]?> TargetReader() => _targetReaderInstance = EndReader("nwdp-mirror-scan-");

    /// <summary>A consumer of the target for <see cref="ReadToEnd"/>: read_committed, told when it reaches a partition's end, never committing.</summary>
    private IConsumer<byte[]?, byte[]?> EndReader(string groupPrefix) => TopicEnd.Reader(_target.Consumer(groupPrefix + _options.Name));

    /// <summary>
    /// Where a source partition resumes: after its stored position, or after the last copy of it found in the target
    /// partition from where the stored transaction started writing, whichever is later. On Kafka the two agree
    /// (read_committed hides what an aborted transaction wrote); where aborted records stay readable (a broker without
    /// transaction markers, such as librdkafka's mock) the scan finds the copies a killed mirror left, so they are not
    /// copied twice. Also learns where this mirror's next copies in that partition start.
    /// </summary>
    private long ResumeAfterCopies(IConsumer<byte[]?, byte[]?> reader, TopicPartition source, TopicPartition target, (long Next, long TargetStart) stored)
    {
        var prefix = $"{_options.SourceSite}/{source.Topic}/{source.Partition.Value}/";
        var resume = stored.Next;
        reader.Assign(new TopicPartitionOffset(target, stored.TargetStart));
        try
        {
            _targetNext[target] = ReadToEnd(reader, target.ToString(), result =>
            {
                if (result.Message.Headers is { } headers && headers.TryGetLastBytes(MirrorHeaders.Source, out var lineage) && lineage is not null)
                {
                    var text = Encoding.UTF8.GetString(lineage);
                    if (text.StartsWith(prefix, StringComparison.Ordinal)
                        && long.TryParse(text.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var copied))
                        resume = Math.Max(resume, copied + 1);
                }
            });
        }
        finally
        {
            reader.Unassign();
        }
        if (resume != stored.Next) _log($"mirror {_options.Name}: {source} resumes at {resume}, after copies found in {target} beyond the stored position {stored.Next}");
        return resume;
    }

    private void EnsureTopic(IAdminClient admin, string topic, int partitions, bool compacted)
    {
        var spec = new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = -1 };
        if (compacted) spec.Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" };
        try
        {
            admin.CreateTopicsAsync([spec], new CreateTopicsOptions { RequestTimeout = _options.RequestTimeout, OperationTimeout = _options.RequestTimeout })
                .GetAwaiter().GetResult();
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.TopicAlreadyExists or ErrorCode.NoError))
        {
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_UnsupportedFeature)
        {
            // A broker without the CreateTopics API (librdkafka's mock) creates it when asked for its metadata.
        }
        var found = admin.GetMetadata(topic, _options.RequestTimeout).Topics.SingleOrDefault(t => t.Topic == topic);
        if (found is null || found.Error.Code != ErrorCode.NoError)
            throw new KafkaException(new Error(ErrorCode.UnknownTopicOrPart, $"topic {topic} does not exist on the target and could not be created: {found?.Error.Reason}"));
    }

    /// <summary>Runs <paramref name="action"/> until it succeeds or <paramref name="stop"/>; a fatal Kafka error is not retried.</summary>
    private T Retrying<T>(CancellationToken stop, string what, Func<T> action)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            try
            {
                return action();
            }
            catch (KafkaException e) when (!e.Error.IsFatal && e.Error.Code != ErrorCode.ProducerFenced)
            {
                _lastError = e.Error.Reason;
                _log($"mirror {_options.Name}: {what} failed ({e.Error.Code}: {e.Error.Reason}); again in {backoff.TotalMilliseconds:0} ms");
                if (stop.WaitHandle.WaitOne(backoff)) stop.ThrowIfCancellationRequested();
                backoff = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(10).Ticks, backoff.Ticks * 2));
            }
        }
    }

    private void Retrying(CancellationToken stop, string what, Action action) => Retrying(stop, what, () =>
    {
        action();
        return true;
    });
}
