using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>
/// The bus as the witness of a replay: where a topic ends before a batch is submitted, and — after a crash
/// between Kafka's acknowledgement and the journal's <see cref="SpillReplayed"/> — which records of the batch
/// made it to the bus. Both throw when the bus cannot answer (the caller waits for its next attempt).
/// </summary>
public interface ISpillWitness
{
    /// <summary>The end offset (high watermark) of every partition of <paramref name="topic"/>; empty when the topic does not exist yet.</summary>
    Task<IReadOnlyDictionary<int, long>> EndOffsetsAsync(string topic, CancellationToken cancellation);

    /// <summary>
    /// Reads <paramref name="topic"/> from <paramref name="from"/> (per partition; partitions not in it from
    /// their start) up to the end offsets read when the scan starts, and returns the indices of the records
    /// whose <see cref="SpillHeader"/> starts with <paramref name="headerPrefix"/>.
    /// </summary>
    Task<IReadOnlySet<int>> FindAsync(string topic, string headerPrefix, IReadOnlyDictionary<int, long> from, Action<string> progress, CancellationToken cancellation);

    /// <summary>
    /// Like <see cref="FindAsync"/>, for records that carry no header (ingress's own produce, which failed but may
    /// have reached the bus): the indices of <paramref name="values"/> found on the bus byte for byte (a value
    /// given twice is found twice only if it is there twice). An event's bytes hold its lineage (ingress node,
    /// source sequence), so two different events do not share them.
    /// </summary>
    Task<IReadOnlySet<int>> FindValuesAsync(string topic, IReadOnlyList<byte[]> values, IReadOnlyDictionary<int, long> from, Action<string> progress, CancellationToken cancellation);
}

/// <summary>
/// <see cref="ISpillWitness"/> on Kafka: metadata from an admin client, watermarks from a consumer that never
/// joins a group, and scans with a consumer of its own (assign, no group membership, no commits).
/// </summary>
public sealed class KafkaSpillWitness : ISpillWitness, IDisposable
{
    private readonly KafkaClients _clients;
    private readonly TimeSpan _timeout;
    private readonly ITopicProvisioner? _topics;
    private readonly object _gate = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, List<int>> _partitions = new();
    private IAdminClient? _admin;
    private IConsumer<Ignore, Ignore>? _watermarks;

    /// <param name="topics">Creates a topic that does not exist yet before its end offsets are read (as ingress would before producing), so it gets our partition count.</param>
    /// <param name="timeout">How long one request may wait for the bus; a scan fails when it reads nothing for this long.</param>
    public KafkaSpillWitness(KafkaClients clients, ITopicProvisioner? topics = null, TimeSpan? timeout = null)
    {
        Librdkafka.EnsureLoaded();
        _clients = clients;
        _topics = topics;
        _timeout = timeout ?? TimeSpan.FromSeconds(5);
    }

    public Task<IReadOnlyDictionary<int, long>> EndOffsetsAsync(string topic, CancellationToken cancellation) =>
        Task.Run<IReadOnlyDictionary<int, long>>(async () =>
        {
            // Partitions are cached: a partition added later is missing from the marker, and a scan reads such
            // a partition from its start (more reading, never a record missed).
            if (!_partitions.TryGetValue(topic, out var partitions))
            {
                partitions = Partitions(topic);
                if (partitions.Count == 0 && _topics is not null)
                {
                    await _topics.EnsureAsync(topic, cancellation).ConfigureAwait(false);
                    partitions = Partitions(topic);
                }
                if (partitions.Count > 0) _partitions[topic] = partitions;
            }
            var consumer = Watermarks();
            var ends = new Dictionary<int, long>();
            foreach (var p in partitions)
            {
                cancellation.ThrowIfCancellationRequested();
                ends[p] = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), _timeout).High.Value;
            }
            return ends;
        }, cancellation);

    public Task<IReadOnlySet<int>> FindAsync(string topic, string headerPrefix, IReadOnlyDictionary<int, long> from, Action<string> progress, CancellationToken cancellation) =>
        Task.Run<IReadOnlySet<int>>(() =>
        {
            var found = new HashSet<int>();
            Scan(topic, headerPrefix + "*", from, progress, cancellation, found, (headers, _) =>
            {
                if (headers is null || !headers.TryGetLastBytes(SpillHeader.Name, out var value)) return;
                var text = Encoding.UTF8.GetString(value);
                if (text.StartsWith(headerPrefix, StringComparison.Ordinal) && int.TryParse(text.AsSpan(headerPrefix.Length), out var index)) found.Add(index);
            });
            return found;
        }, cancellation);

    public Task<IReadOnlySet<int>> FindValuesAsync(string topic, IReadOnlyList<byte[]> values, IReadOnlyDictionary<int, long> from, Action<string> progress,
        CancellationToken cancellation) =>
        Task.Run<IReadOnlySet<int>>(() =>
        {
            var wanted = new Dictionary<byte[], Queue<int>>(ByteArrayComparer.Instance);
            for (var i = 0; i < values.Count; i++)
            {
                if (!wanted.TryGetValue(values[i], out var indices)) wanted[values[i]] = indices = new Queue<int>();
                indices.Enqueue(i);
            }
            var found = new HashSet<int>();
            Scan(topic, $"{values.Count} records by value", from, progress, cancellation, found, (_, value) =>
            {
                if (value is not null && wanted.TryGetValue(value, out var indices) && indices.TryDequeue(out var index)) found.Add(index);
            });
            return found;
        }, cancellation);

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] value)
        {
            var hash = new HashCode();
            hash.AddBytes(value);
            return hash.ToHashCode();
        }
    }

    private void Scan(string topic, string what, IReadOnlyDictionary<int, long> from, Action<string> progress, CancellationToken cancellation,
        HashSet<int> found, Action<Headers?, byte[]?> onRecord)
    {
        var watermarks = Watermarks();
        // Bounded: what is on the bus when the scan starts (the batch's records, if any, are below it).
        var ranges = new Dictionary<int, (long Start, long End)>();
        foreach (var p in Partitions(topic))
        {
            var w = watermarks.QueryWatermarkOffsets(new TopicPartition(topic, p), _timeout);
            var start = from.TryGetValue(p, out var f) ? f : 0;
            if (w.Low.Value > start)
            {
                progress($"partition {p}: records from offset {start} to {w.Low.Value - 1} are no longer on the bus (retention); they cannot be checked");
                start = w.Low.Value;
            }
            if (start < w.High.Value) ranges[p] = (start, w.High.Value);
        }
        var total = ranges.Values.Sum(r => r.End - r.Start);
        progress($"scanning {total} records on {ranges.Count} partitions for {what}");
        if (total == 0) return;

        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig(
            // The group is required by the client; never joined (assign, not subscribe) and nothing is committed.
            _clients.Consumer("nwdp-spill-witness"))
        {
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(ranges.Select(kv => new TopicPartitionOffset(topic, kv.Key, kv.Value.Start)));
        var open = new HashSet<int>(ranges.Keys);
        long scanned = 0;
        var lastRead = Stopwatch.StartNew();
        var lastReport = Stopwatch.StartNew();
        try
        {
            while (open.Count > 0)
            {
                cancellation.ThrowIfCancellationRequested();
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null)
                {
                    if (lastRead.Elapsed > _timeout)
                        throw new TimeoutException($"the scan of {topic} read nothing for {_timeout} ({scanned} of {total} records read)");
                    continue;
                }
                lastRead.Restart();
                var p = r.Partition.Value;
                if (!ranges.TryGetValue(p, out var range)) continue;
                if (r.IsPartitionEOF)
                {
                    if (r.Offset.Value >= range.End) open.Remove(p);
                    continue;
                }
                if (r.Offset.Value >= range.End)
                {
                    open.Remove(p);
                    continue;
                }
                scanned++;
                onRecord(r.Message.Headers, r.Message.Value);
                if (r.Offset.Value + 1 >= range.End) open.Remove(p);
                if (lastReport.Elapsed > TimeSpan.FromSeconds(2))
                {
                    lastReport.Restart();
                    progress($"scanned {scanned} of {total} records, {found.Count} of the batch found");
                }
            }
        }
        finally
        {
            consumer.Close();
        }
        progress($"scan done: {scanned} records read, {found.Count} of the batch already on the bus");
    }

    private List<int> Partitions(string topic)
    {
        IAdminClient admin;
        lock (_gate) admin = _admin ??= new AdminClientBuilder(_clients.Admin()).Build();
        var metadata = admin.GetMetadata(topic, _timeout).Topics.FirstOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.Code == ErrorCode.UnknownTopicOrPart) return [];
        if (metadata.Error.IsError) throw new KafkaException(metadata.Error);
        return metadata.Partitions.Select(p => p.PartitionId).Order().ToList();
    }

    private IConsumer<Ignore, Ignore> Watermarks()
    {
        lock (_gate)
        {
            if (_watermarks is not null) return _watermarks;
            return _watermarks = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig(_clients.Consumer("nwdp-spill-witness")) { EnableAutoCommit = false }).Build();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _watermarks?.Dispose();
            _admin?.Dispose();
            _watermarks = null;
            _admin = null;
        }
    }
}
