using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Pump;

/// <summary>One sink instance as the lag sees it: its consumer group and the topics it reads (a regular expression).</summary>
public sealed record LagSubject(string Sink, string GroupId, string Topics);

/// <summary>
/// The lag of one sink instance on one partition. <see cref="CommittedOffset"/> is -1 when the group never committed
/// there (the pump then starts at the log start, so the lag counts from there). <see cref="LagSeconds"/> is the age of
/// the oldest record not yet delivered (now minus the timestamp of the record at the committed offset), 0 when caught up.
/// </summary>
public sealed record PartitionLag(string Sink, string Topic, int Partition, long CommittedOffset, long EndOffset, long LagRecords, double LagSeconds);

/// <summary>One computation of the lag of every sink instance; <see cref="Error"/> names what could not be read (then the partitions may be partial).</summary>
public sealed record LagReport(long ComputedAtMs, IReadOnlyList<PartitionLag> Partitions, string? Error);

/// <summary>
/// Consumer lag of the data pump, per sink instance, topic and partition, read from Kafka (not from this node's pumps,
/// so every node answers for the whole cluster): committed offsets of the sink's group (<c>ListConsumerGroupOffsets</c>),
/// end offsets (<c>QueryWatermarkOffsets</c>), and for a partition behind, the timestamp of the first record not yet
/// delivered (one fetch at the committed offset). Bounded work: computed at most once per <c>interval</c> (callers in
/// between get the last report, concurrent callers share the one in flight), nothing runs when nobody asks, and the
/// clients are closed on dispose.
/// </summary>
public sealed class ConsumerLag : IAsyncDisposable
{
    private readonly KafkaClients _kafka;
    private readonly Func<IReadOnlyList<LagSubject>> _subjects;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _clock;
    private readonly object _gate = new(); // the clients, made on first use
    private readonly Dictionary<string, Regex> _patterns = new(StringComparer.Ordinal);
    private readonly OnDemandReport<LagReport> _report;
    private IAdminClient? _admin;
    private IConsumer<Ignore, Ignore>? _consumer;

    /// <param name="kafka">The cluster the pumps read (address and security).</param>
    /// <param name="subjects">The sink instances (read at each computation).</param>
    /// <param name="interval">The lag is computed at most this often (<c>nwdp.pump.lag-interval</c>).</param>
    /// <param name="timeout">How long one Kafka request of a computation may wait (<c>nwdp.pump.lag-timeout</c>).</param>
    public ConsumerLag(KafkaClients kafka, Func<IReadOnlyList<LagSubject>> subjects, TimeSpan interval, TimeSpan timeout, TimeProvider? clock = null)
    {
        _kafka = kafka;
        _subjects = subjects;
        _interval = interval;
        _timeout = timeout;
        _clock = clock ?? TimeProvider.System;
        _report = new OnDemandReport<LagReport>(Compute, interval, _clock);
    }

    /// <summary>How often the lag is computed at most.</summary>
    public TimeSpan Interval => _interval;

    /// <summary>The last report when it is younger than the interval, else a new one (shared with concurrent callers).</summary>
    public Task<LagReport> GetAsync(CancellationToken cancellation = default) => _report.GetAsync(cancellation);

    private LagReport Compute(CancellationToken stop)
    {
        var result = new List<PartitionLag>();
        string? error = null;
        try
        {
            var admin = Admin();
            var topics = admin.GetMetadata(_timeout).Topics
                .Where(t => !t.Error.IsError && !t.Topic.StartsWith("__", StringComparison.Ordinal))
                .ToDictionary(t => t.Topic, t => t.Partitions.Select(p => p.PartitionId).Order().ToList(), StringComparer.Ordinal);
            var watermarks = new Dictionary<TopicPartition, WatermarkOffsets>();
            var oldest = new Dictionary<TopicPartitionOffset, long?>();
            var rows = new List<(LagSubject Sink, TopicPartition Tp, long Committed, long Start)>();
            foreach (var subject in _subjects())
            {
                stop.ThrowIfCancellationRequested();
                var pattern = Pattern(subject.Topics);
                var partitions = topics.Where(t => pattern.IsMatch(t.Key)).OrderBy(t => t.Key, StringComparer.Ordinal)
                    .SelectMany(t => t.Value.Select(p => new TopicPartition(t.Key, p))).ToList();
                if (partitions.Count == 0) continue;
                var committed = Committed(admin, subject.GroupId, partitions, stop);
                var consumer = Consumer();
                foreach (var tp in partitions)
                {
                    if (!watermarks.TryGetValue(tp, out var w)) watermarks[tp] = w = consumer.QueryWatermarkOffsets(tp, _timeout);
                    var c = committed.GetValueOrDefault(tp, -1);
                    // Never committed: the pump starts at the log start (auto.offset.reset = earliest); records the broker
                    // dropped before anyone read them are no lag (they cannot be delivered).
                    var start = Math.Max(c < 0 ? 0 : c, w.Low.Value);
                    rows.Add((subject, tp, c, start));
                    if (start < w.High.Value) oldest[new TopicPartitionOffset(tp, start)] = null;
                }
            }
            ReadTimestamps(oldest, stop);
            if (oldest.Count(o => o.Value is null) is var unread and > 0)
                error = $"the first undelivered record of {unread} partitions could not be read within {_timeout.TotalSeconds:0.#} s: their lag_seconds is 0";
            var nowMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var (subject, tp, c, start) in rows)
            {
                var end = watermarks[tp].High.Value;
                var lag = Math.Max(0, end - start);
                var age = lag > 0 && oldest.GetValueOrDefault(new TopicPartitionOffset(tp, start)) is { } ts ? Math.Max(0, nowMs - ts) / 1000.0 : 0;
                result.Add(new PartitionLag(subject.Sink, tp.Topic, tp.Partition.Value, c, end, lag, age));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            error = "the node is stopping";
        }
        catch (Exception e) when (e is KafkaException or TimeoutException or InvalidOperationException)
        {
            error = $"the lag could not be read from Kafka: {e.Message}";
        }
        return new LagReport(_clock.GetUtcNow().ToUnixTimeMilliseconds(), result, error);
    }

    private Dictionary<TopicPartition, long> Committed(IAdminClient admin, string group, List<TopicPartition> partitions, CancellationToken stop)
    {
        var request = admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, partitions)],
            new ListConsumerGroupOffsetsOptions { RequestTimeout = _timeout });
        var answer = request.WaitAsync(_timeout + TimeSpan.FromSeconds(1), stop).GetAwaiter().GetResult();
        var committed = new Dictionary<TopicPartition, long>();
        foreach (var p in answer.SelectMany(r => r.Partitions))
            if (!p.Error.IsError && p.Offset.Value >= 0) committed[p.TopicPartition] = p.Offset.Value;
        return committed;
    }

    /// <summary>The timestamp of the record at each offset: one assignment of them all, read until each answered or the timeout.</summary>
    private void ReadTimestamps(Dictionary<TopicPartitionOffset, long?> wanted, CancellationToken stop)
    {
        if (wanted.Count == 0) return;
        var consumer = Consumer();
        var open = wanted.Keys.ToDictionary(k => k.TopicPartition, k => k.Offset.Value);
        consumer.Assign(wanted.Keys);
        // librdkafka keeps a partition's pause across assignments: the last computation paused what it had read.
        consumer.Resume(open.Keys);
        try
        {
            var started = _clock.GetTimestamp();
            while (open.Count > 0 && _clock.GetElapsedTime(started) < _timeout)
            {
                stop.ThrowIfCancellationRequested();
                var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r is null || r.IsPartitionEOF || !open.TryGetValue(r.TopicPartition, out var offset)) continue;
                // The record at the offset, or the first after it when that one is gone (compaction, a transaction marker).
                if (r.Offset.Value < offset) continue;
                wanted[new TopicPartitionOffset(r.TopicPartition, offset)] = r.Message.Timestamp.UnixTimestampMs;
                open.Remove(r.TopicPartition);
                consumer.Pause([r.TopicPartition]);
            }
        }
        finally
        {
            consumer.Unassign();
        }
    }

    private Regex Pattern(string topics)
    {
        if (!_patterns.TryGetValue(topics, out var pattern)) _patterns[topics] = pattern = new Regex(topics, RegexOptions.CultureInvariant);
        return pattern;
    }

    private IAdminClient Admin()
    {
        lock (_gate)
        {
            if (_admin is not null) return _admin;
            Librdkafka.EnsureLoaded();
            var config = _kafka.Admin();
            config.ClientId = "nwdp-lag";
            return _admin = new AdminClientBuilder(config).Build();
        }
    }

    private IConsumer<Ignore, Ignore> Consumer()
    {
        lock (_gate)
        {
            if (_consumer is not null) return _consumer;
            Librdkafka.EnsureLoaded();
            // The group is required by the client; never joined (assign, not subscribe), nothing committed.
            var config = _kafka.Consumer("nwdp-lag");
            config.ClientId = "nwdp-lag";
            config.EnableAutoCommit = false;
            config.EnableAutoOffsetStore = false;
            config.EnablePartitionEof = false;
            config.AutoOffsetReset = AutoOffsetReset.Earliest;
            // One record per partition is wanted: small fetches.
            config.MaxPartitionFetchBytes = 65536;
            config.ConsumeResultFields = "topic,timestamp";
            return _consumer = new ConsumerBuilder<Ignore, Ignore>(config).Build();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _report.DisposeAsync().ConfigureAwait(false);
        _consumer?.Close();
        _consumer?.Dispose();
        _admin?.Dispose();
    }
}
