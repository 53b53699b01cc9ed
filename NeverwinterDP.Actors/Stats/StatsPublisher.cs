using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Stats;

/// <summary>
/// Publishes what this node's <see cref="StatsCounter"/> counted to <c>nwdp.stats</c> every
/// <see cref="StatsOptions.PublishInterval"/>: each closed minute (after the grace), again when it changed, and
/// every open minute at stop. A minute whose records Kafka refused is published again at the next tick.
/// <para>
/// The audit's counts (<c>accepted</c>, <c>bus</c>, <c>delivered</c>) are also published on demand
/// (<see cref="DurableAsync"/>): by ingress before it answers a batch it wrote to Kafka, by the pumps before each
/// commit. It publishes what changed of them, of any minute, and completes once Kafka acknowledged every record
/// produced so far, so ingress never answers 2xx, and a pump never commits, counts that a SIGKILL could still take
/// with it. Records are produced in the order they were collected (one gate), so the newest count of a key is also
/// the last on its partition.
/// </para>
/// </summary>
public sealed class StatsPublisher(StatsCounter counter, IProducer<byte[]?, byte[]> producer, Func<string> nodeId, Action<string>? warn = null) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _published;
    private readonly object _produceGate = new();
    private readonly object _acks = new();
    private long _produced; // sequence of the last record produced
    private readonly SortedSet<long> _unacknowledged = new();
    private long _failedAt = long.MaxValue; // the lowest sequence Kafka refused since the last waiter saw it
    private readonly List<(long Sequence, TaskCompletionSource Done)> _waiters = new();
    private volatile bool _disposed;
    private readonly object _flushGate = new();
    private TaskCompletionSource? _next; // the callers waiting for the next flush
    private bool _flushing;
    private long _flushes;

    /// <summary>Records Kafka acknowledged.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Flushes <see cref="DurableAsync"/> ran (each shared by the callers that joined it).</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    public void Start()
    {
        counter.DurableBy(DurableAsync);
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(counter.Options.PublishInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false)) PublishDue();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Publishes the minutes that are due now (the loop calls it; tests may too).</summary>
    public int PublishDue(bool all = false)
    {
        lock (_produceGate)
        {
            var records = counter.Collect(nodeId(), all);
            foreach (var record in records) Produce(record);
            return records.Count;
        }
    }

    /// <summary>
    /// Publishes the audit's counts that changed (<c>accepted</c>, <c>bus</c>, <c>delivered</c>, of any minute) and
    /// completes once Kafka acknowledged every stats record produced so far; fails when one of them was refused (it is
    /// published again at the next tick) or the publisher stopped. Ingress calls it (through
    /// <see cref="StatsCounter.CountsDurableAsync"/>) before it answers, a pump (through
    /// <see cref="StatsCounter.DurableAsync"/>) before it commits.
    /// <para>
    /// Callers share flushes (a group commit): one flush at a time collects, produces and waits for its acknowledgements;
    /// whoever calls meanwhile joins the next one, which starts when it ends. So a busy ingress publishes each changed
    /// count about once per round trip to Kafka, not once per request, and a caller waits at most two flushes.
    /// </para>
    /// </summary>
    public Task DurableAsync(CancellationToken cancellation)
    {
        if (_disposed) return Task.FromException(new InvalidOperationException("the stats publisher stopped: counts are no longer published"));
        Task joined;
        lock (_flushGate)
        {
            _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            joined = _next.Task;
            if (!_flushing) StartFlush();
        }
        return joined.WaitAsync(cancellation);
    }

    /// <summary>Flushes for the callers that joined <see cref="_next"/>; then for those who joined meanwhile (under <see cref="_flushGate"/>).</summary>
    private void StartFlush()
    {
        var joined = _next!;
        _next = null;
        _flushing = true;
        Interlocked.Increment(ref _flushes);
        _ = FlushAsync().ContinueWith(t =>
        {
            if (t.Exception is { } e) joined.TrySetException(e.InnerExceptions);
            else joined.TrySetResult();
            lock (_flushGate)
            {
                _flushing = false;
                if (_next is not null) StartFlush();
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// One flush: the changed audit counts produced and acknowledged; then the counted positions told with them
    /// (<see cref="StatsPoints.Counted"/>), only once the counts are acknowledged, since a position whose counts died
    /// with the node would hide them for good (a false LOST); a position Kafka refused is published with the next counts.
    /// </summary>
    private async Task FlushAsync()
    {
        if (_disposed) throw new InvalidOperationException("the stats publisher stopped: counts are no longer published");
        IReadOnlyList<StatsRecord> positions;
        long upTo;
        lock (_produceGate)
        {
            foreach (var record in counter.CollectFlows(nodeId(), out positions)) Produce(record);
            upTo = Interlocked.Read(ref _produced);
        }
        try
        {
            await AcknowledgedAsync(upTo).ConfigureAwait(false);
        }
        catch
        {
            counter.CountedAgain(positions);
            throw;
        }
        if (positions.Count == 0) return;
        lock (_produceGate)
        {
            foreach (var position in positions) Produce(position);
            upTo = Interlocked.Read(ref _produced);
        }
        try
        {
            await AcknowledgedAsync(upTo).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException)
        {
            // The counts are durable, which is what the callers need; the refused positions were handed back.
        }
    }

    /// <summary>Completes once every record up to <paramref name="upTo"/> was answered; fails when one was refused.</summary>
    private Task AcknowledgedAsync(long upTo)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_acks)
        {
            _waiters.Add((upTo, done));
            Release();
        }
        return done.Task;
    }

    private void Produce(StatsRecord record)
    {
        var sequence = Interlocked.Increment(ref _produced);
        lock (_acks) _unacknowledged.Add(sequence);
        try
        {
            producer.Produce(TopicNames.Stats, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(record.Key), Value = record.ToJson() }, report =>
            {
                if (!report.Error.IsError) Interlocked.Increment(ref _published);
                else Refused(record, report.Error.Reason);
                Acknowledged(sequence, report.Error.IsError);
            });
        }
        catch (KafkaException e)
        {
            Refused(record, e.Error.Reason);
            Acknowledged(sequence, failed: true);
        }
    }

    private void Refused(StatsRecord record, string reason)
    {
        if (record.Point == StatsPoints.Counted)
        {
            counter.CountedAgain([record]);
            return;
        }
        counter.MarkUnpublished(record.MinuteMs);
        warn?.Invoke($"stats of {record.Minute} not published ({reason}); trying again");
    }

    private void Acknowledged(long sequence, bool failed)
    {
        lock (_acks)
        {
            _unacknowledged.Remove(sequence);
            if (failed) _failedAt = Math.Min(_failedAt, sequence);
            Release();
        }
    }

    /// <summary>Completes the waiters whose records were all answered (under <see cref="_acks"/>).</summary>
    private void Release()
    {
        var lowestOpen = _unacknowledged.Count > 0 ? _unacknowledged.Min : long.MaxValue;
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            var (upTo, done) = _waiters[i];
            if (upTo >= lowestOpen) continue;
            _waiters.RemoveAt(i);
            // A refused record among those it waited for: its counts are not durable yet (they are published again).
            if (_failedAt <= upTo) done.TrySetException(new KafkaException(new Error(ErrorCode.Local_MsgTimedOut, "stats records were not acknowledged; published again at the next tick")));
            else done.TrySetResult();
        }
        // A refusal matters to the waiters that were waiting for it; later ones wait for the records produced again.
        if (_waiters.Count == 0) _failedAt = long.MaxValue;
    }

    /// <summary>Stops the loop and publishes every minute still open, so a node's last counts are not lost.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        PublishDue(all: true);
        _disposed = true;
        producer.Flush(TimeSpan.FromSeconds(10));
        producer.Dispose();
        lock (_acks)
        {
            foreach (var (_, done) in _waiters) done.TrySetException(new InvalidOperationException("the stats publisher stopped"));
            _waiters.Clear();
        }
    }
}
