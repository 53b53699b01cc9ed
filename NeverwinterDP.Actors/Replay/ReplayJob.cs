using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Replay;

/// <summary>What a node's replays share: how to reach Kafka, build a sink, dead-letter, and where positions are kept.</summary>
/// <param name="Kafka">The node's Kafka cluster: its address and connection (security) for every client a replay makes.</param>
/// <param name="CreateSink">A new, unopened instance of a configured sink (throws <see cref="ReplayRequestException"/> for an unknown name).</param>
/// <param name="StateDirectory"><c>&lt;data&gt;/replay</c>: one JSON file per job with its range and positions.</param>
public sealed record ReplayContext(KafkaClients Kafka, Func<string, ISink> CreateSink, IDeadLetterQueue DeadLetters,
    string StateDirectory, SinkRetryOptions Retry)
{
    public int BatchSize { get; init; } = 5000;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Added to the Kafka offsets handed to a sink, as the pump does (<see cref="Kafka.Embedded.BusEpoch"/>): 0 on a real Kafka cluster.</summary>
    public long SinkOffsetBase { get; init; }
}

/// <summary>
/// One replay: a plain consumer assigned to the planned offsets reads each partition up to its end, and the records go
/// through the same delivery as the pump's (<see cref="SinkDelivery"/>: retries, dead letters) into a fresh instance of
/// the sink, or are produced as they are onto another topic. After each batch the sink is flushed and the positions are
/// written to the job's file, so a job stopped (Ctrl-C, <c>DELETE</c>, the node stopping) resumes where it was. Sinks key
/// their writes on topic-partition-offset: records the store already holds are written again as no-ops.
/// </summary>
public sealed class ReplayJob
{
    private readonly ReplayContext _context;
    private readonly object _gate = new();
    private readonly ReplayState _state;
    private readonly CancellationTokenSource _stop = new();
    private long _doneAtStart;
    private long _runStartTicks;
    private Task _run = Task.CompletedTask;

    private ReplayJob(ReplayContext context, ReplayState state)
    {
        _context = context;
        _state = state;
    }

    public string Id => _state.Id;

    /// <summary>A new job over <paramref name="ranges"/>, or the one in its file when it was stopped before it was done.</summary>
    public static ReplayJob Open(ReplayContext context, ReplayRequest request, Func<IReadOnlyList<PartitionRange>> plan)
    {
        var id = request.Id();
        if (Load(context, id) is { State: not ("done" or "failed") } saved && saved.Request == request) return new ReplayJob(context, saved with { State = "running", Error = null });
        var ranges = plan();
        return new ReplayJob(context, new ReplayState
        {
            Id = id, Request = request, State = "running",
            Partitions = ranges.Select(r => new PartitionProgress(r.Partition, r.Start, r.Start, r.End)).ToList(),
        });
    }

    /// <summary>The job as its file has it (a job of an earlier run of the node), or null.</summary>
    public static ReplayStatus? Saved(ReplayContext context, string id) => 
        Load(context, id) is { } s ? new ReplayJob(context, s with { State = s.State == "running" ? "stopped" : s.State }).Status : null; // "running" in a file: the node stopped under it

    public bool IsRunning => !_run.IsCompleted;

    public Task Completion => _run;

    public void Start()
    {
        _state.StartedAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _state.FinishedAtMs = null; // a resumed job's earlier stop
        _runStartTicks = Stopwatch.GetTimestamp();
        _doneAtStart = Done;
        _state.ResumedAt = _doneAtStart;
        _run = Task.Run(RunAsync);
    }

    /// <summary>Stops after the batch in hand (written, flushed, positions saved): the same request resumes it.</summary>
    public Task StopAsync()
    {
        _stop.Cancel();
        return _run;
    }

    private long Done
    {
        get { lock (_gate) return _state.Partitions.Sum(p => p.Position - p.Start); }
    }

    public ReplayStatus Status
    {
        get
        {
            lock (_gate)
            {
                var total = _state.Partitions.Sum(p => p.End - p.Start);
                var done = _state.Partitions.Sum(p => p.Position - p.Start);
                var seconds = _runStartTicks == 0 ? 0 : Stopwatch.GetElapsedTime(_runStartTicks).TotalSeconds;
                var rate = seconds > 0 ? (done - _doneAtStart) / seconds : 0;
                double? eta = _state.State == "done" ? 0 : rate > 0 ? (total - done) / rate : null;
                return new ReplayStatus(_state.Id, _state.Request, _state.State, total, done, _state.Delivered, _state.DeadLettered, _state.Republished,
                    Math.Round(rate, 1), eta is { } e ? Math.Round(e, 1) : null, _state.StartedAtMs, _state.FinishedAtMs, _state.ResumedAt, _state.Error, _state.Partitions.ToList());
            }
        }
    }

    private async Task RunAsync()
    {
        var request = _state.Request;
        ISink? sink = null;
        IProducer<byte[]?, byte[]>? producer = null;
        try
        {
            SinkDelivery? delivery = null;
            if (request.Sink is { } sinkName)
            {
                sink = _context.CreateSink(sinkName);
                await sink.OpenAsync(_stop.Token).ConfigureAwait(false);
                delivery = new SinkDelivery(sink, _context.Retry, _context.DeadLetters);
            }
            else producer = ReplayKafka.Producer(_context.Kafka);
            await Task.Run(() => Pump(delivery, producer), CancellationToken.None).ConfigureAwait(false);
            Finish(_stop.IsCancellationRequested && Remaining() > 0 ? "stopped" : "done", null);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            Finish("stopped", null);
        }
        catch (Exception e)
        {
            Finish("failed", e is ReplayRangeException or ReplayRequestException ? e.Message : $"{e.GetType().Name}: {e.GetBaseException().Message}");
        }
        finally
        {
            if (sink is not null) await sink.DisposeAsync().ConfigureAwait(false);
            if (producer is not null)
            {
                producer.Flush(_context.Timeout);
                producer.Dispose();
            }
        }
    }

    private long Remaining()
    {
        lock (_gate) return _state.Partitions.Sum(p => p.End - p.Position);
    }

    private void Pump(SinkDelivery? delivery, IProducer<byte[]?, byte[]>? producer)
    {
        var topic = _state.Request.SourceTopic;
        using var consumer = ReplayKafka.Consumer(_context.Kafka, "nwdp-replay." + _state.Id, AutoOffsetReset.Error);
        var open = _state.Partitions.Where(p => p.Position < p.End).ToDictionary(p => p.Partition, p => p.End);
        consumer.Assign(_state.Partitions.Where(p => p.Position < p.End).Select(p => new TopicPartitionOffset(topic, p.Partition, p.Position)));
        Save();
        while (open.Count > 0 && !_stop.IsCancellationRequested)
        {
            var batch = new List<ConsumeResult<byte[]?, byte[]>>();
            var next = new Dictionary<int, long>();
            var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
            while (batch.Count < _context.BatchSize && open.Count > 0 && Stopwatch.GetTimestamp() < until && !_stop.IsCancellationRequested)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r is null) continue;
                var p = r.Partition.Value;
                if (!open.TryGetValue(p, out var end)) continue;
                if (r.IsPartitionEOF || r.Offset.Value >= end)
                {
                    // The end of the range (or of the partition, when records in the range are missing): this partition is done.
                    next[p] = end;
                    open.Remove(p);
                    consumer.Pause([r.TopicPartition]);
                    continue;
                }
                batch.Add(r);
                next[p] = r.Offset.Value + 1;
                if (r.Offset.Value + 1 >= end)
                {
                    open.Remove(p);
                    consumer.Pause([r.TopicPartition]);
                }
            }
            if (batch.Count > 0)
            {
                if (delivery is not null) Deliver(delivery, batch);
                else Republish(producer!, batch);
            }
            if (next.Count == 0) continue;
            lock (_gate)
            {
                _state.Partitions = _state.Partitions.Select(p => next.TryGetValue(p.Partition, out var pos) ? p with { Position = Math.Max(p.Position, pos) } : p).ToList();
            }
            Save();
        }
        consumer.Close();
    }

    private RecentStrings? _strings;

    private void Deliver(SinkDelivery delivery, List<ConsumeResult<byte[]?, byte[]>> batch)
    {
        var records = new List<SinkRecord>(batch.Count);
        var undecodable = new List<DeadLetterRecord>();
        // As the pump: a sink that writes records as the bus carries them gets plain LogEvents scanned, not decoded.
        var encoded = delivery.Sink is IEncodedRecordSink { ReadsEncoded: true } ? _strings ??= new RecentStrings() : null;
        foreach (var r in batch)
        {
            if (HourMarkerAvro.IsMarker(r.Message.Value)) continue; // a control record, never stored
            try
            {
                records.Add(SinkRecord.FromBus(r.Topic, r.Partition.Value, Kafka.Embedded.BusEpoch.SinkOffset(_context.SinkOffsetBase, r.Offset.Value),
                    r.Message.Value ?? [], encoded)); // no value: refused as DecodeFramed refuses an empty frame
            }
            catch (MalformedRecordException e)
            {
                undecodable.Add(new DeadLetterRecord(new SinkRecord(r.Topic, r.Partition.Value, Kafka.Embedded.BusEpoch.SinkOffset(_context.SinkOffsetBase, r.Offset.Value),
                    new LogEvent { Message = Convert.ToBase64String(r.Message.Value ?? []), Type = "undecodable" }), "undecodable: " + e.Message));
            }
        }
        // Not cancelled mid-batch: a batch read is written, flushed and saved, then the job stops.
        if (undecodable.Count > 0) _context.DeadLetters.SendAsync(delivery.Sink.Name, undecodable, CancellationToken.None).GetAwaiter().GetResult();
        var report = delivery.DeliverAsync(records, CancellationToken.None).GetAwaiter().GetResult();
        delivery.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
        lock (_gate)
        {
            _state.Delivered += report.Delivered;
            _state.DeadLettered += report.DeadLettered + undecodable.Count;
        }
    }

    private void Republish(IProducer<byte[]?, byte[]> producer, List<ConsumeResult<byte[]?, byte[]>> batch)
    {
        var target = _state.Request.ToTopic!;
        Error? failed = null;
        var produced = 0;
        foreach (var r in batch)
        {
            // Hour markers speak of their own topic and partition: the target topic's nodes write its own.
            if (HourMarkerAvro.IsMarker(r.Message.Value)) continue;
            producer.Produce(target, new Message<byte[]?, byte[]> { Key = r.Message.Key, Value = r.Message.Value, Headers = r.Message.Headers },
                report => { if (report.Error.IsError) failed ??= report.Error; });
            produced++;
        }
        producer.Flush(Timeout.InfiniteTimeSpan);
        if (failed is { } error) throw new KafkaException(error);
        lock (_gate) _state.Republished += produced;
    }

    private void Finish(string state, string? error)
    {
        lock (_gate)
        {
            _state.State = state;
            _state.Error = error;
            _state.FinishedAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        }
        Save();
    }

    private void Save()
    {
        byte[] json;
        lock (_gate) json = JsonSerializer.SerializeToUtf8Bytes(_state, StateJson);
        Directory.CreateDirectory(_context.StateDirectory);
        var path = PathOf(_context, _state.Id);
        File.WriteAllBytes(path + ".tmp", json);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static ReplayState? Load(ReplayContext context, string id)
    {
        var path = PathOf(context, id);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<ReplayState>(File.ReadAllBytes(path), StateJson);
        }
        catch (JsonException)
        {
            return null; // a damaged file: the job starts over (the sink absorbs what it already holds)
        }
    }

    private static string PathOf(ReplayContext context, string id) => Path.Combine(context.StateDirectory, id + ".json");

    /// <summary>The job's ids on disk (jobs of earlier runs of the node).</summary>
    public static IEnumerable<string> SavedIds(ReplayContext context) =>
        Directory.Exists(context.StateDirectory) ? Directory.GetFiles(context.StateDirectory, "r-*.json").Select(f => Path.GetFileNameWithoutExtension(f)) : [];

    private static readonly JsonSerializerOptions StateJson = new() { WriteIndented = true };

    /// <summary>The job's file: its request, where each partition is, what it did.</summary>
    private sealed record ReplayState
    {
        public required string Id { get; init; }
        public required ReplayRequest Request { get; init; }
        public string State { get; set; } = "running";
        public string? Error { get; set; }
        public List<PartitionProgress> Partitions { get; set; } = [];
        public long Delivered { get; set; }
        public long DeadLettered { get; set; }
        public long Republished { get; set; }
        public long ResumedAt { get; set; }
        public long StartedAtMs { get; set; }
        public long? FinishedAtMs { get; set; }
    }
}
