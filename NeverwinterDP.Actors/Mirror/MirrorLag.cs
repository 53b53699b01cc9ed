using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Native;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>
/// A mirror's lag on one source partition: <see cref="Next"/> is the next offset the mirror copies (its position
/// committed on the target; -1 when it never committed there: then it counts from the log start, or from the end with
/// <c>start = latest</c>), <see cref="LagRecords"/> the end offset minus that, <see cref="LagSeconds"/> the age of the
/// record at <see cref="Next"/> (the oldest not yet copied), 0 when caught up.
/// </summary>
public sealed record MirrorPartitionLag(string Mirror, string Topic, int Partition, string TargetTopic, long Next, long EndOffset, long LagRecords, double LagSeconds);

/// <summary>One computation for every mirror: the partitions, each mirror's pause flag, and what could not be read.</summary>
public sealed record MirrorLagReport(long ComputedAtMs, IReadOnlyList<MirrorPartitionLag> Partitions, IReadOnlyDictionary<string, bool> Paused, string? Error);

/// <summary>
/// The lag of the configured mirrors, read from Kafka (so every node answers for every mirror, running, paused or
/// moving): the positions each mirror committed in its offsets topic on the target (tailed, so each computation reads
/// only what is new), the source's end offsets, and for a partition behind, the timestamp of the record at the position.
/// Computed at most once per <c>interval</c> and only when asked (concurrent callers share one); clients closed on dispose.
/// On librdkafka's mock a position an aborted transaction wrote is read as committed (the mock writes no abort markers),
/// so there the lag may read low until the mirror's next commit.
/// </summary>
public sealed class MirrorLag : IAsyncDisposable
{
    private readonly MirrorCatalog _catalog;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _clock;
    private readonly object _gate = new(); // the tails, made on first use
    private readonly Dictionary<string, Tail> _tails = new(StringComparer.Ordinal);
    private readonly OnDemandReport<MirrorLagReport> _report;
    private bool _disposed;

    public MirrorLag(MirrorCatalog catalog, TimeSpan interval, TimeSpan timeout, TimeProvider? clock = null)
    {
        _catalog = catalog;
        _interval = interval;
        _timeout = timeout;
        _clock = clock ?? TimeProvider.System;
        _report = new OnDemandReport<MirrorLagReport>(Compute, interval, _clock);
    }

    /// <summary>How often the lag is computed at most (<c>nwdp.mirror.lag-interval</c>).</summary>
    public TimeSpan Interval => _interval;

    /// <summary>The last report when it is younger than the interval, else a new one (shared with concurrent callers); <paramref name="fresh"/>: a new one unless one is running.</summary>
    public Task<MirrorLagReport> GetAsync(CancellationToken cancellation = default, bool fresh = false) => _report.GetAsync(cancellation, fresh);

    private MirrorLagReport Compute(CancellationToken stop)
    {
        var rows = new List<MirrorPartitionLag>();
        var paused = new Dictionary<string, bool>(StringComparer.Ordinal);
        var errors = new List<string>();
        foreach (var mirror in _catalog.All)
        {
            try
            {
                stop.ThrowIfCancellationRequested();
                var tail = TailOf(mirror);
                tail.ReadNew(_timeout, stop);
                paused[mirror.Name] = tail.Paused;
                rows.AddRange(tail.Lag(_timeout, _clock, stop, errors));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                errors.Add("the node is stopping");
                break;
            }
            catch (Exception e) when (e is KafkaException or TimeoutException or InvalidOperationException)
            {
                errors.Add($"mirror {mirror.Name}: the lag could not be read from Kafka: {e.Message}");
            }
        }
        return new MirrorLagReport(_clock.GetUtcNow().ToUnixTimeMilliseconds(), rows, paused, errors.Count == 0 ? null : string.Join("; ", errors));
    }

    private Tail TailOf(MirrorDefinition mirror)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_tails.TryGetValue(mirror.Name, out var tail)) _tails[mirror.Name] = tail = new Tail(mirror);
            return tail;
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        await _report.DisposeAsync().ConfigureAwait(false);
        foreach (var tail in _tails.Values) tail.Dispose();
    }

    /// <summary>One mirror's view: a reader of its offsets topic (kept at its end between computations) and clients of its source.</summary>
    private sealed class Tail(MirrorDefinition mirror) : IDisposable
    {
        private readonly Regex _pattern = new(mirror.Options.TopicPattern, RegexOptions.CultureInvariant);
        private readonly Dictionary<TopicPartition, long> _next = new();
        private IConsumer<byte[]?, byte[]?>? _positions;
        private IConsumer<Ignore, Ignore>? _source;
        private IAdminClient? _sourceAdmin;

        public bool Paused { get; private set; }

        /// <summary>Reads the offsets topic from where the last computation stopped to its end (or until the timeout).</summary>
        public void ReadNew(TimeSpan timeout, CancellationToken stop)
        {
            var options = mirror.Options;
            var partition = new TopicPartition(options.OffsetsTopic, 0);
            if (_positions is null)
            {
                Librdkafka.EnsureLoaded();
                var config = mirror.Target.Consumer("nwdp-mirror-lag-" + options.Name);
                config.ClientId = "nwdp-mirror-lag";
                _positions = TopicEnd.Reader(config);
                _positions.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
            }
            long end;
            try
            {
                end = _positions.QueryWatermarkOffsets(partition, timeout).High.Value;
            }
            catch (KafkaException e) when (e.Error.Code is ErrorCode.UnknownTopicOrPart or ErrorCode.Local_UnknownTopic or ErrorCode.Local_UnknownPartition)
            {
                return; // the mirror has not run yet: no positions
            }
            var prefix = options.Name + "/";
            var flag = MirrorPauseFlag.KeyOf(options.Name);
            var started = DateTime.UtcNow;
            // The end is reached at partition EOF, or when the position passed the end asked for (an EOF is told once per end).
            while (end > 0 && !(_positions.Position(partition) is { } at && at.Value >= end) && DateTime.UtcNow - started < timeout)
            {
                stop.ThrowIfCancellationRequested();
                var r = _positions.Consume(TimeSpan.FromMilliseconds(100));
                if (r is null) continue;
                if (r.IsPartitionEOF) break;
                if (r.Message.Key is null) continue;
                var key = Encoding.UTF8.GetString(r.Message.Key);
                if (key == flag)
                {
                    Paused = r.Message.Value is { } v && Encoding.UTF8.GetString(v) == "true";
                    continue;
                }
                if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var slash = key.LastIndexOf('/');
                if (slash <= prefix.Length || !int.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p)) continue;
                var tp = new TopicPartition(key[prefix.Length..slash], p);
                if (r.Message.Value is null) _next.Remove(tp);
                else
                {
                    var text = Encoding.UTF8.GetString(r.Message.Value);
                    var space = text.IndexOf(' ');
                    if (long.TryParse(space < 0 ? text : text[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var next)) _next[tp] = next;
                }
            }
        }

        /// <summary>Every source partition the mirror copies, with its lag.</summary>
        public List<MirrorPartitionLag> Lag(TimeSpan timeout, TimeProvider clock, CancellationToken stop, List<string> errors)
        {
            var options = mirror.Options;
            _sourceAdmin ??= new AdminClientBuilder(mirror.Source.Admin()).Build();
            var source = Source();
            var partitions = _sourceAdmin.GetMetadata(timeout).Topics
                .Where(t => !t.Error.IsError && !t.Topic.StartsWith("__", StringComparison.Ordinal) && t.Topic != options.OffsetsTopic && _pattern.IsMatch(t.Topic))
                .OrderBy(t => t.Topic, StringComparer.Ordinal)
                .SelectMany(t => t.Partitions.Select(p => p.PartitionId).Order().Select(p => new TopicPartition(t.Topic, p)))
                .ToList();
            var rows = new List<(TopicPartition Tp, long Next, long Start, long End)>();
            var oldest = new Dictionary<TopicPartition, (long Offset, long? Timestamp)>();
            foreach (var tp in partitions)
            {
                stop.ThrowIfCancellationRequested();
                var w = source.QueryWatermarkOffsets(tp, timeout);
                var next = _next.GetValueOrDefault(tp, -1);
                // Never committed: the mirror starts at the log start (or, with start = latest, at the end); records the
                // broker dropped before they were copied are no lag (they cannot be copied).
                var start = Math.Max(next >= 0 ? next : options.StartAtBeginning ? 0 : w.High.Value, w.Low.Value);
                rows.Add((tp, next, start, w.High.Value));
                if (start < w.High.Value) oldest[tp] = (start, null);
            }
            ReadTimestamps(oldest, timeout, stop);
            if (oldest.Count(o => o.Value.Timestamp is null) is var unread and > 0)
                errors.Add($"mirror {options.Name}: the first record not copied of {unread} partitions could not be read within {timeout.TotalSeconds:0.#} s: their lag_seconds is 0");
            var nowMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
            return rows.Select(r =>
            {
                var lag = Math.Max(0, r.End - r.Start);
                var age = lag > 0 && oldest.GetValueOrDefault(r.Tp).Timestamp is { } ts ? Math.Max(0, nowMs - ts) / 1000.0 : 0;
                return new MirrorPartitionLag(options.Name, r.Tp.Topic, r.Tp.Partition.Value, options.TargetTopicOf(r.Tp.Topic), r.Next, r.End, lag, age);
            }).ToList();
        }

        /// <summary>The timestamp of the record at each offset (or the first after it): one assignment of them all, read until each answered or the timeout.</summary>
        private void ReadTimestamps(Dictionary<TopicPartition, (long Offset, long? Timestamp)> wanted, TimeSpan timeout, CancellationToken stop)
        {
            if (wanted.Count == 0) return;
            var source = Source();
            var open = wanted.ToDictionary(w => w.Key, w => w.Value.Offset);
            source.Assign(wanted.Select(w => new TopicPartitionOffset(w.Key, w.Value.Offset)));
            source.Resume(open.Keys); // librdkafka keeps a pause across assignments
            try
            {
                var started = DateTime.UtcNow;
                while (open.Count > 0 && DateTime.UtcNow - started < timeout)
                {
                    stop.ThrowIfCancellationRequested();
                    var r = source.Consume(TimeSpan.FromMilliseconds(100));
                    if (r is null || r.IsPartitionEOF || !open.TryGetValue(r.TopicPartition, out var offset) || r.Offset.Value < offset) continue;
                    wanted[r.TopicPartition] = (offset, r.Message.Timestamp.UnixTimestampMs);
                    open.Remove(r.TopicPartition);
                    source.Pause([r.TopicPartition]);
                }
            }
            finally
            {
                source.Unassign();
            }
        }

        private IConsumer<Ignore, Ignore> Source()
        {
            if (_source is not null) return _source;
            Librdkafka.EnsureLoaded();
            // Never joins its group (assign, not subscribe), never commits; read_committed as the mirror reads.
            var config = mirror.Source.Consumer("nwdp-mirror-lag-" + mirror.Options.Name);
            config.ClientId = "nwdp-mirror-lag";
            config.EnableAutoCommit = false;
            config.EnableAutoOffsetStore = false;
            config.EnablePartitionEof = false;
            config.IsolationLevel = IsolationLevel.ReadCommitted;
            config.AutoOffsetReset = AutoOffsetReset.Earliest;
            config.MaxPartitionFetchBytes = 65536; // one record per partition is wanted
            config.ConsumeResultFields = "topic,timestamp";
            return _source = new ConsumerBuilder<Ignore, Ignore>(config).Build();
        }

        public void Dispose()
        {
            _positions?.Close();
            _positions?.Dispose();
            _source?.Close();
            _source?.Dispose();
            _sourceAdmin?.Dispose();
        }
    }
}
