using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Supervision;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Dsl;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Bus;

/// <summary>
/// Kafka did not confirm records that it may have written all the same (a produce timed out, or the connection
/// broke with the request in flight): a replay of them must look on the bus first.
/// </summary>
public sealed class PossiblyWrittenException(Exception cause) : Exception(cause.Message, cause);

/// <summary>How one submitted request ended.</summary>
public enum IngressOutcome
{
    /// <summary>Kafka acknowledged every record (acks=all): answer 2xx.</summary>
    Durable,

    /// <summary>The queue to the producer is full: answer 429 and let the client retry.</summary>
    Saturated,

    /// <summary>The bus did not acknowledge (down, timed out): answer 503; nothing was promised.</summary>
    Failed,

    /// <summary>The node is shutting down: answer 503.</summary>
    Stopping,

    /// <summary>
    /// The bus can never take these records (larger than it accepts, or refused with an error about the records
    /// themselves, <see cref="BusRefusals.IsPermanent"/>): answer 4xx; a retry or a spill would fail the same way.
    /// </summary>
    Refused,
}

/// <summary>
/// A request was answered before Kafka said whether it took its records, which are still with the producer (it
/// retries them until the broker answers or its <c>message.timeout.ms</c>): they may reach the bus later.
/// <see cref="Outcome"/> completes when they did, or the producer gave up.
/// </summary>
public sealed class StillWithProducerException(TimeSpan waited, Task<(IngressOutcome Outcome, Exception? Error)> outcome)
    : Exception($"Kafka did not acknowledge within {waited.TotalMilliseconds:0}ms; the records are still with the producer")
{
    public Task<(IngressOutcome Outcome, Exception? Error)> Outcome { get; } = outcome;
}

/// <summary>One request's records on their way to Kafka; completed once all are acknowledged or one failed.</summary>
internal sealed class IngressBatch(IReadOnlyList<ProducerRecord<byte[]?, byte[]>> records)
{
    private const int Queued = 0, Producing = 1, Withdrawn = 2;
    private int _state;

    public IReadOnlyList<ProducerRecord<byte[]?, byte[]>> Records { get; } = records;

    public TaskCompletionSource<(IngressOutcome, Exception?)> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The stream is about to hand the records to the producer: false when the request withdrew them first.</summary>
    public bool TryStartProducing() => Interlocked.CompareExchange(ref _state, Producing, Queued) == Queued;

    /// <summary>The request gives up waiting: true when the records never reached the producer (and now never will).</summary>
    public bool TryWithdraw() => Interlocked.CompareExchange(ref _state, Withdrawn, Queued) == Queued;
}

/// <summary>The bus writer's bounds (<c>nwdp.ingress</c>: queue-capacity, enqueue-timeout, max-bus-backlog, backlog-wait).</summary>
/// <param name="QueueCapacity">Requests waiting for the producer; past it new requests wait <paramref name="EnqueueTimeout"/>, then are refused.</param>
/// <param name="MaxBacklog">Past this many acknowledged records of one partition not yet read by the local pumps, requests wait (0 = no limit).</param>
/// <param name="BacklogWait">
/// How long a request waits for the pumps to bring the backlog under <paramref name="MaxBacklog"/> before it is refused:
/// senders are slowed to the pumps' pace instead of bounced (zero: refused at once).
/// </param>
public sealed record BusWriterOptions(int QueueCapacity, TimeSpan EnqueueTimeout, long MaxBacklog, TimeSpan BacklogWait = default);

/// <summary>Why a request was answered <see cref="IngressOutcome.Saturated"/>: the limit it ran into, by its configuration key.</summary>
public sealed class BusSaturatedException(string message) : Exception(message);

/// <summary>
/// How far the local pumps are behind what this node wrote: the guard against the embedded broker's retention
/// (it keeps ~5 MB per partition, so unread records must not pile up on it).
/// </summary>
public interface IBusBacklog
{
    /// <summary>The most records on any one partition that were acknowledged (<paramref name="acknowledgedNext"/>: per partition, the offset after the last) and not yet taken off the bus.</summary>
    long Worst(IReadOnlyDictionary<Confluent.Kafka.TopicPartition, long> acknowledgedNext);

    /// <summary>
    /// The most records on any one partition that were acknowledged and not yet stored by a sink and committed. Larger
    /// than <see cref="Worst"/> by what is in the pumps' streams, and by what a pump read and let go (a revoked partition).
    /// </summary>
    long Undelivered(IReadOnlyDictionary<Confluent.Kafka.TopicPartition, long> acknowledgedNext);
}

/// <summary>
/// The bus writer: the path from accepted requests to Kafka: a bounded channel of requests (many concurrent HTTP requests,
/// one stream) into the producer stage; each request is one multi-record envelope whose result completes
/// the request. Bounded end to end: channel capacity, producer parallelism and librdkafka's queue.
/// </summary>
public sealed class BusWriter : IAsyncDisposable
{
    private readonly Channel<IngressBatch> _channel;
    private readonly BusWriterOptions _options;
    private readonly ITopicProvisioner _topics;
    private readonly IBusBacklog? _backlog;
    private readonly Task<Done> _completion;
    private volatile bool _stopping;
    private long _acknowledged;

    /// <param name="backlog">The local pumps' backlog, checked against <see cref="BusWriterOptions.MaxBacklog"/>; null: not guarded.</param>
    /// <param name="hours">Counts acknowledged events per topic, partition and hour (what the hour markers carry); null: not counted.</param>
    public BusWriter(ActorSystem system, ProducerSettings<byte[]?, byte[]> producerSettings, BusWriterOptions options, ITopicProvisioner topics, IBusBacklog? backlog = null,
        HourCounts? hours = null)
    {
        Hours = hours;
        _options = options;
        _topics = topics;
        MaxMessageBytes = producerSettings.MaxMessageBytes();
        _backlog = backlog;
        _channel = Channel.CreateBounded<IngressBatch>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var materializer = system.Materializer(namePrefix: "ingress");
        _completion = ChannelSource.FromReader(_channel.Reader)
            // A request that stopped waiting before its turn took its records back (it spilled them).
            .Where(b => b.TryStartProducing())
            .Select(b => (IEnvelope<byte[]?, byte[], IngressBatch>)ProducerMessage.Multi(b.Records, b))
            .Via(KafkaProducer.FlexiFlow<byte[]?, byte[], IngressBatch>(producerSettings)
                // A failed delivery answers its own request (503) and the stream goes on.
                .WithAttributes(ActorAttributes.CreateSupervisionStrategy(Deciders.ResumingDecider)))
            .RunWith(Sink.ForEach<IResults<byte[]?, byte[], IngressBatch>>(r =>
            {
                if (r is ProducerMessage.FailedResult<byte[]?, byte[], IngressBatch> failed)
                    r.PassThrough.Completion.TrySetResult(BusRefusals.IsPermanent(failed.Cause)
                        ? (IngressOutcome.Refused, failed.Cause)
                        : (IngressOutcome.Failed, new PossiblyWrittenException(failed.Cause)));
                else
                {
                    Interlocked.Add(ref _acknowledged, r.PassThrough.Records.Count);
                    if (r is ProducerMessage.MultiResult<byte[]?, byte[], IngressBatch> multi)
                    {
                        NoteAcknowledged(multi.Parts);
                        hours?.Acknowledged(r.PassThrough.Records, multi.Parts);
                    }
                    r.PassThrough.Completion.TrySetResult((IngressOutcome.Durable, null));
                }
            }), materializer);
        _ = _completion.ContinueWith(t =>
        {
            // Should the stream die, nobody waits forever: drain the queue with a clear failure.
            var cause = t.Exception?.GetBaseException() ?? new InvalidOperationException("ingress stopped");
            while (_channel.Reader.TryRead(out var b)) b.Completion.TrySetResult((IngressOutcome.Failed, cause));
            foreach (var b in _inDoubt.Keys) b.Completion.TrySetResult((IngressOutcome.Failed, new PossiblyWrittenException(cause)));
        }, TaskScheduler.Default);
    }

    public BusWriterOptions Options => _options;

    /// <summary>Acknowledged events per topic, partition and hour, when this writer counts them (hour markers on).</summary>
    public HourCounts? Hours { get; }

    /// <summary>
    /// The producer's <c>message.max.bytes</c> as librdkafka applies it: a record (key, value, headers and
    /// framing) larger than this is refused by the producer itself (<see cref="ProducerSettings{TKey,TValue}.MaxMessageBytes"/>).
    /// </summary>
    public int MaxMessageBytes { get; }

    /// <summary>
    /// The first record of <paramref name="records"/> that this bus can never take (key + value +
    /// <see cref="BusRefusals.RecordAllowance"/> past <see cref="MaxMessageBytes"/>), or null.
    /// </summary>
    public EventTooLargeException? FirstTooLarge(IReadOnlyList<ProducerRecord<byte[]?, byte[]>> records)
    {
        var max = MaxMessageBytes - BusRefusals.RecordAllowance;
        for (var i = 0; i < records.Count; i++)
        {
            var m = records[i].Message;
            var bytes = (long)(m.Key?.Length ?? 0) + (m.Value?.Length ?? 0);
            if (bytes > max) return new EventTooLargeException(i, bytes, MaxMessageBytes);
        }
        return null;
    }

    /// <summary>Requests waiting for the producer now.</summary>
    public int Queued => _channel.Reader.Count;

    private int _unanswered;
    // Batches answered while their records were with the producer, until it gives its verdict.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IngressBatch, byte> _inDoubt = new();

    /// <summary>
    /// Requests answered before Kafka said whether it took their records (<see cref="StillWithProducerException"/>),
    /// whose records are still with the producer. While there are any, a spilled copy of them must not be replayed:
    /// a look at the bus could miss records the producer writes after it.
    /// </summary>
    public int InDoubt => _inDoubt.Count;

    public bool IsRunning => !_stopping && !_completion.IsCompleted;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Confluent.Kafka.TopicPartition, long> _acknowledgedNext = new();

    /// <summary>Per partition, the offset after the last record this pipeline got acknowledged.</summary>
    public IReadOnlyDictionary<Confluent.Kafka.TopicPartition, long> AcknowledgedNextOffsets => _acknowledgedNext;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentDictionary<int, long>> _acknowledgedNextByTopic = new();

    /// <summary>
    /// Per partition of <paramref name="topic"/>, the offset after the last record this pipeline got acknowledged:
    /// taken before a submit, a lower bound of where its records can land (partitions never written: absent).
    /// </summary>
    public IReadOnlyDictionary<int, long> AcknowledgedNextOffsetsOf(string topic) =>
        _acknowledgedNextByTopic.TryGetValue(topic, out var partitions) ? new Dictionary<int, long>(partitions) : new Dictionary<int, long>();

    private void NoteNext(Confluent.Kafka.TopicPartition tp, long next)
    {
        _acknowledgedNext.AddOrUpdate(tp, next, (_, old) => Math.Max(old, next));
        _acknowledgedNextByTopic.GetOrAdd(tp.Topic, _ => new()).AddOrUpdate(tp.Partition.Value, next, (_, old) => Math.Max(old, next));
    }

    private void NoteAcknowledged(IReadOnlyList<Confluent.Kafka.DeliveryResult<byte[]?, byte[]>> parts)
    {
        // Parts of one request mostly share a partition (one key per sender): update once per run. (A part's
        // TopicPartition is a new object per read: compare its topic and partition instead.)
        string? topic = null;
        var partition = -1;
        long next = -1;
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            var p = part.Partition.Value;
            if (topic is not null && (p != partition || part.Topic != topic))
            {
                NoteNext(new Confluent.Kafka.TopicPartition(topic, partition), next);
                next = -1;
            }
            topic = part.Topic;
            partition = p;
            next = Math.Max(next, part.Offset.Value + 1);
        }
        if (topic is not null) NoteNext(new Confluent.Kafka.TopicPartition(topic, partition), next);
    }

    /// <summary>The topics of a request's records, each once (a request is mostly one type: consecutive repeats are skipped cheaply).</summary>
    public static IEnumerable<string> TopicsOf(IReadOnlyList<ProducerRecord<byte[]?, byte[]>> records)
    {
        string? last = null;
        HashSet<string>? seen = null; // only once a second topic shows up
        foreach (var r in records)
        {
            if (r.Topic == last) continue; // string equality looks at the reference first
            if (last is not null && (seen ??= new HashSet<string>(StringComparer.Ordinal) { last }).Contains(r.Topic))
            {
                last = r.Topic;
                continue;
            }
            last = r.Topic;
            seen?.Add(r.Topic);
            yield return r.Topic;
        }
    }

    /// <summary>Records Kafka acknowledged through this pipeline since it started.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>
    /// The most records on one partition of the bus not yet read by the slowest local pump (0 without a guard);
    /// past <see cref="BusWriterOptions.MaxBacklog"/> requests are refused.
    /// </summary>
    public long Backlog => _backlog?.Worst(_acknowledgedNext) ?? 0;

    /// <summary>The most records on one partition of the bus that no local sink has stored and committed yet (0 without a guard).</summary>
    public long Undelivered => _backlog?.Undelivered(_acknowledgedNext) ?? 0;

    private long _backlogSeen;
    private long _backlogSeenAt; // Environment.TickCount64 of the reading; 0: none yet

    /// <summary>
    /// <see cref="Backlog"/> at most <see cref="BacklogFreshness"/> old: every request looks at it, and many wait on it
    /// at once, so it is computed a few hundred times a second at most, not once per request.
    /// </summary>
    private long RecentBacklog()
    {
        var now = Environment.TickCount64;
        if (now - Volatile.Read(ref _backlogSeenAt) < BacklogFreshness) return Volatile.Read(ref _backlogSeen);
        var backlog = Backlog;
        Volatile.Write(ref _backlogSeen, backlog);
        Volatile.Write(ref _backlogSeenAt, now);
        return backlog;
    }

    private const long BacklogFreshness = 5; // ms

    private static readonly TimeSpan BacklogPoll = TimeSpan.FromMilliseconds(10);

    /// <summary>Waits up to <see cref="BusWriterOptions.BacklogWait"/> for the backlog to fall under its limit; false when it did not.</summary>
    private async ValueTask<bool> BacklogRoomAsync(CancellationToken cancellation)
    {
        if (RecentBacklog() <= _options.MaxBacklog) return true;
        var deadline = Environment.TickCount64 + (long)_options.BacklogWait.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            await Task.Delay(BacklogPoll, cancellation).ConfigureAwait(false);
            if (!IsRunning) return true; // answered Stopping below
            if (RecentBacklog() <= _options.MaxBacklog) return true;
        }
        return false;
    }

    /// <summary>
    /// Sends one request's records and completes when they are durable in Kafka (or definitely not).
    /// Topics of new log types are created first.
    /// </summary>
    /// <param name="answerWithin">
    /// Zero: wait for Kafka's answer. Else the most this request waits once queued (<c>nwdp.spill.after</c>): then it is
    /// <see cref="IngressOutcome.Failed"/>, with a <see cref="TimeoutException"/> when its records never reached the
    /// producer, or a <see cref="PossiblyWrittenException"/> over a <see cref="StillWithProducerException"/> when they did.
    /// </param>
    public async Task<(IngressOutcome Outcome, Exception? Error)> SubmitAsync(IReadOnlyList<ProducerRecord<byte[]?, byte[]>> records, CancellationToken cancellation,
        TimeSpan answerWithin = default)
    {
        if (!IsRunning) return (IngressOutcome.Stopping, null);
        if (records.Count == 0) return (IngressOutcome.Durable, null);
        // The bus can only hold so much (the embedded broker keeps ~5 MB per partition): refuse rather than
        // let unread records fall off its end. Requests wait for the pumps (backpressure), then are refused.
        if (_options.MaxBacklog > 0 && !await BacklogRoomAsync(cancellation).ConfigureAwait(false))
            return (IngressOutcome.Saturated, new BusSaturatedException(
                $"the local pumps are {RecentBacklog()} records behind on one partition (nwdp.ingress.max-bus-backlog = {_options.MaxBacklog}) and did not catch up within nwdp.ingress.backlog-wait = {_options.BacklogWait.TotalMilliseconds:0}ms; retry later"));
        if (!IsRunning) return (IngressOutcome.Stopping, null);
        try
        {
            foreach (var topic in TopicsOf(records)) await _topics.EnsureAsync(topic, cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (IngressOutcome.Failed, e);
        }

        var batch = new IngressBatch(records);
        if (!_channel.Writer.TryWrite(batch))
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            wait.CancelAfter(_options.EnqueueTimeout);
            try
            {
                await _channel.Writer.WriteAsync(batch, wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                return (IngressOutcome.Saturated, new BusSaturatedException(
                    $"{_options.QueueCapacity} requests are queued for the Kafka producer (nwdp.ingress.queue-capacity) and none left within nwdp.ingress.enqueue-timeout = {_options.EnqueueTimeout.TotalMilliseconds:0}ms; retry later"));
            }
            catch (ChannelClosedException)
            {
                return (IngressOutcome.Stopping, null);
            }
        }
        // Once queued, the answer waits for Kafka even if the client hangs up: the records may be written.
        if (answerWithin <= TimeSpan.Zero) return await batch.Completion.Task.ConfigureAwait(false);
        Interlocked.Increment(ref _unanswered);
        try
        {
            return await batch.Completion.Task.WaitAsync(answerWithin, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            if (batch.TryWithdraw()) return (IngressOutcome.Failed, new TimeoutException($"the Kafka producer did not take the records within {answerWithin.TotalMilliseconds:0}ms"));
            // With the producer: it keeps them until the broker answers or its message timeout (longer, and better
            // not reached: a message timeout bumps the idempotent producer's epoch, and a retry of records the broker
            // already has is then written twice).
            _inDoubt[batch] = 0;
            _ = batch.Completion.Task.ContinueWith(_ => _inDoubt.TryRemove(batch, out byte _), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            // The stream died meanwhile: nobody will give the verdict.
            if (_completion.IsCompleted) batch.Completion.TrySetResult((IngressOutcome.Failed, new InvalidOperationException("ingress stopped")));
            return (IngressOutcome.Failed, new PossiblyWrittenException(new StillWithProducerException(answerWithin, batch.Completion.Task)));
        }
        finally
        {
            Interlocked.Decrement(ref _unanswered);
        }
    }

    /// <summary>Stops taking requests and waits until every queued one has its answer.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        _stopping = true;
        _channel.Writer.TryComplete();
        var deadline = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(60)).TotalMilliseconds;
        try
        {
            // Bounded: requests still waiting then get 503. Records of requests answered already (spilled while still
            // with the producer) are not waited for past that: the broker is not taking them, and the spilled copy
            // is replayed after a look at the bus.
            while (!_completion.IsCompleted && Environment.TickCount64 < deadline)
            {
                if (Volatile.Read(ref _unanswered) == 0 && InDoubt > 0) break;
                await Task.WhenAny(_completion, Task.Delay(100)).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // Failures were already reported to each request.
        }
        while (_channel.Reader.TryRead(out var b)) b.Completion.TrySetResult((IngressOutcome.Stopping, null));
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
