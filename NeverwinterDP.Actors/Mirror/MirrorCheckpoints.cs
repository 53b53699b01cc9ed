using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>Which source consumer groups a mirror checkpoints, how often, and where.</summary>
public sealed record MirrorCheckpointOptions
{
    public const string DefaultTopic = "nwdp.mirror.checkpoints";

    /// <summary>The compacted topic on the target holding the translated offsets (key <c>NAME/group/topic/partition</c>).</summary>
    public string Topic { get; init; } = DefaultTopic;

    /// <summary>How often the source groups' committed offsets are read and translated.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Source groups to checkpoint, a regular expression over the whole name (the pump's groups by default: <c>nwdp-pump.SINK</c>).</summary>
    public string GroupPattern { get; init; } = @"^nwdp-pump\..*";

    /// <summary>Groups checkpointed whether or not the source lists them (a broker without the ListGroups API, such as librdkafka's mock, lists none).</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>Runs of copies kept per source partition to translate with (<see cref="OffsetTranslator"/>); older offsets are not translated.</summary>
    public int MaxRunsPerPartition { get; init; } = 10_000;

    /// <summary>Offset syncs read back at start, at most (the newest): the history a restarted mirror translates with.</summary>
    public long MaxSyncsAtStart { get; init; } = 1_000_000;

    public void Validate()
    {
        if (Interval <= TimeSpan.Zero) throw new ArgumentException("checkpoint interval must be positive");
        try
        {
            _ = new Regex(GroupPattern);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"group pattern '{GroupPattern}' is not a regular expression: {e.Message}", e);
        }
        if (MaxRunsPerPartition < 1) throw new ArgumentException("max runs per partition must be at least 1");
        if (MaxSyncsAtStart < 0) throw new ArgumentException("max syncs at start must be at least 0");
    }
}

/// <summary>A source group's committed offset of one partition, translated to the target (a record of the checkpoints topic).</summary>
public sealed record MirrorCheckpoint(
    [property: JsonPropertyName("mirror")] string Mirror,
    [property: JsonPropertyName("group")] string Group,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("partition")] int Partition,
    [property: JsonPropertyName("source_offset")] long SourceOffset,
    [property: JsonPropertyName("target_topic")] string TargetTopic,
    [property: JsonPropertyName("target_partition")] int TargetPartition,
    [property: JsonPropertyName("target_offset")] long TargetOffset,
    [property: JsonPropertyName("ahead")] long Ahead,
    [property: JsonPropertyName("at_ms")] long AtMs)
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    [JsonIgnore] public string Key => $"{Mirror}/{Group}/{Topic}/{Partition}";

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>The checkpoint in a record's value; null for a tombstone or a value that is not one.</summary>
    public static MirrorCheckpoint? FromJson(byte[]? value)
    {
        if (value is null) return null;
        try
        {
            return JsonSerializer.Deserialize<MirrorCheckpoint>(value, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>What the checkpointer did so far.</summary>
public sealed record MirrorCheckpointStatus(long Rounds, long Written, int Groups, int Partitions, string? LastError);

/// <summary>
/// Translates source consumer groups' committed offsets to target offsets, every <see cref="MirrorCheckpointOptions.Interval"/>:
/// tails the mirror's offset syncs on the target (read_committed: only committed copies count) into an
/// <see cref="OffsetTranslator"/>, asks the source for the groups' committed offsets of the partitions synced, and writes
/// each changed translation to the compacted checkpoints topic on the target. <c>nwdp mirror translate</c>
/// (<see cref="MirrorTranslation"/>) reads them and commits them to the group on the target.
/// </summary>
public sealed class MirrorCheckpoints
{
    private readonly string _mirror;
    private readonly MirrorOptions _mirrorOptions;
    private readonly MirrorCheckpointOptions _options;
    private readonly KafkaClients _source;
    private readonly KafkaClients _target;
    private readonly Action<string> _log;
    private readonly Regex _groups;
    private readonly OffsetTranslator _translator;
    private readonly Dictionary<string, MirrorCheckpoint> _written = new(StringComparer.Ordinal);
    private long _rounds;
    private long _writtenCount;
    private volatile int _groupCount;
    private volatile int _partitionCount;
    private volatile string? _lastError;
    private bool? _canListGroups;

    public MirrorCheckpoints(MirrorOptions mirror, MirrorCheckpointOptions options, KafkaClients source, KafkaClients target, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentNullException.ThrowIfNull(options);
        mirror.Validate();
        options.Validate();
        _mirrorOptions = mirror;
        _mirror = mirror.Name;
        _options = options;
        _source = source;
        _target = target;
        _log = log ?? (_ => { });
        _groups = new Regex(options.GroupPattern, RegexOptions.CultureInvariant);
        _translator = new OffsetTranslator(options.MaxRunsPerPartition);
    }

    public MirrorCheckpointStatus Status => new(Interlocked.Read(ref _rounds), Interlocked.Read(ref _writtenCount), _groupCount, _partitionCount, _lastError);

    /// <summary>Runs until <paramref name="stop"/>; a round that fails is logged and the next one tries again.</summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.Factory.StartNew(() => Run(stop), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        Librdkafka.EnsureLoaded();
        using var syncs = TopicEnd.Reader(_target.Consumer("nwdp-mirror-syncs-" + _mirror));
        var producerConfig = _target.Producer();
        producerConfig.EnableIdempotence = true;
        producerConfig.Acks = Acks.All;
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(producerConfig).Build();
        using var sourceAdmin = new AdminClientBuilder(_source.Admin()).Build();
        using var targetAdmin = new AdminClientBuilder(_target.Admin()).Build();
        var assigned = false;
        var created = false;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (!created) created = CreateTopic(targetAdmin);
                    if (!assigned) assigned = AssignSyncs(syncs);
                    if (assigned) Round(syncs, producer, sourceAdmin, stop);
                    _lastError = null;
                }
                catch (KafkaException e)
                {
                    _lastError = e.Error.Reason;
                    _log($"mirror {_mirror}: checkpoints not written this round ({e.Error.Code}: {e.Error.Reason}); again in {_options.Interval.TotalSeconds:0.#} s");
                }
                Interlocked.Increment(ref _rounds);
                if (stop.WaitHandle.WaitOne(_options.Interval)) break;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            syncs.Close();
            producer.Flush(_mirrorOptions.RequestTimeout);
        }
    }

    /// <summary>The compacted checkpoints topic, one partition (a broker without the CreateTopics API makes it on first use).</summary>
    private bool CreateTopic(IAdminClient admin)
    {
        var spec = new TopicSpecification
        {
            Name = _options.Topic, NumPartitions = 1, ReplicationFactor = -1,
            Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" },
        };
        try
        {
            admin.CreateTopicsAsync([spec], new CreateTopicsOptions { RequestTimeout = _mirrorOptions.RequestTimeout, OperationTimeout = _mirrorOptions.RequestTimeout })
                .GetAwaiter().GetResult();
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.TopicAlreadyExists or ErrorCode.NoError))
        {
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_UnsupportedFeature)
        {
        }
        return true;
    }

    /// <summary>Starts reading the syncs topic at its newest <see cref="MirrorCheckpointOptions.MaxSyncsAtStart"/> records; false while it does not exist yet.</summary>
    /// <summary>Where the last round's read of the syncs ended (null before the first).</summary>
    private Dictionary<TopicPartition, long>? _syncsEnds;

    private bool AssignSyncs(IConsumer<byte[]?, byte[]?> syncs)
    {
        var tp = new TopicPartition(_mirrorOptions.SyncsTopic, 0);
        WatermarkOffsets watermarks;
        try
        {
            watermarks = syncs.QueryWatermarkOffsets(tp, _mirrorOptions.RequestTimeout);
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.UnknownTopicOrPart or ErrorCode.Local_UnknownPartition or ErrorCode.Local_UnknownTopic)
        {
            return false; // the mirror creates it
        }
        var start = Math.Max(watermarks.Low.Value, watermarks.High.Value - _options.MaxSyncsAtStart);
        syncs.Assign(new TopicPartitionOffset(tp, start));
        return true;
    }

    private void Round(IConsumer<byte[]?, byte[]?> syncs, IProducer<byte[]?, byte[]?> producer, IAdminClient sourceAdmin, CancellationToken stop)
    {
        // The syncs up to the end: copies committed before the groups' offsets are read below translate them. From the
        // second round on, the reader is assigned again where the last one ended (else, with no sync written since, it
        // would not be told the end again and every round would time out).
        if (_syncsEnds is not null) TopicEnd.ResumeAt(syncs, _syncsEnds);
        _syncsEnds = TopicEnd.ReadToEnd(syncs, 1, _mirrorOptions.RequestTimeout, _mirrorOptions.SyncsTopic, result =>
        {
            if (OffsetSync.Decode(_mirror, result.Message.Key, result.Message.Value) is { } sync) _translator.Add(sync);
        }, stop);
        var partitions = _translator.Partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition.Value).ToList();
        _partitionCount = partitions.Count;
        if (partitions.Count == 0) return;

        var groups = Groups(sourceAdmin);
        _groupCount = groups.Count;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var written = 0;
        foreach (var group in groups)
        {
            stop.ThrowIfCancellationRequested();
            // librdkafka asks for one group per request.
            var reply = sourceAdmin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, partitions)],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = _mirrorOptions.RequestTimeout }).GetAwaiter().GetResult();
            foreach (var committed in reply.SelectMany(r => r.Partitions))
            {
                if (committed.Error.IsError || committed.Offset.Value < 0) continue; // nothing committed
                var translation = _translator.Translate(committed.Topic, committed.Partition.Value, committed.Offset.Value, out _);
                if (translation is null) continue; // cannot be told: the checkpoint written before (if any) stays
                var checkpoint = new MirrorCheckpoint(_mirror, group, translation.Topic, translation.Partition, translation.SourceOffset,
                    translation.TargetTopic, translation.TargetPartition, translation.TargetOffset, translation.Ahead, now);
                if (_written.TryGetValue(checkpoint.Key, out var before) && before with { AtMs = now } == checkpoint) continue;
                producer.Produce(new TopicPartition(_options.Topic, 0), new Message<byte[]?, byte[]?>
                {
                    Key = Encoding.UTF8.GetBytes(checkpoint.Key),
                    Value = checkpoint.ToJson(),
                });
                _written[checkpoint.Key] = checkpoint;
                written++;
            }
        }
        if (written == 0) return;
        if (producer.Flush(_mirrorOptions.RequestTimeout) > 0)
            throw new KafkaException(new Error(ErrorCode.Local_TimedOut, $"checkpoints not acknowledged within {_mirrorOptions.RequestTimeout.TotalSeconds:0.#} s"));
        Interlocked.Add(ref _writtenCount, written);
    }

    /// <summary>The explicit groups and those the source lists that match the pattern.</summary>
    private List<string> Groups(IAdminClient admin)
    {
        var groups = new SortedSet<string>(_options.Groups, StringComparer.Ordinal);
        if (CanListGroups(admin) != true) return groups.ToList();
        try
        {
            var listed = admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { RequestTimeout = _mirrorOptions.RequestTimeout }).GetAwaiter().GetResult();
            foreach (var g in listed.Valid) if (_groups.IsMatch(g.GroupId)) groups.Add(g.GroupId);
        }
        catch (KafkaException e)
        {
            _log($"mirror {_mirror}: listing the source's consumer groups failed ({e.Error.Code}: {e.Error.Reason}); this round checkpoints the groups given by name ({groups.Count})");
        }
        return groups.ToList();
    }

    /// <summary>
    /// Whether the source has the group APIs of Kafka 0.9 (ListGroups, DescribeGroups), asked once with a DescribeGroups of
    /// the mirror's own group; null while not known. librdkafka's mock has neither, and librdkafka's ListConsumerGroups
    /// against a broker without ListGroups corrupts the heap (2.16: a double free), so it is never asked there.
    /// </summary>
    private bool? CanListGroups(IAdminClient admin)
    {
        if (_canListGroups is not null) return _canListGroups;
        try
        {
            admin.DescribeConsumerGroupsAsync(["nwdp-mirror-" + _mirror], new DescribeConsumerGroupsOptions { RequestTimeout = _mirrorOptions.RequestTimeout })
                .GetAwaiter().GetResult();
            _canListGroups = true;
        }
        catch (DescribeConsumerGroupsException e) when (e.Results.ConsumerGroupDescriptions.All(d => d.Error.Code is ErrorCode.Local_UnsupportedFeature or ErrorCode.UnsupportedVersion))
        {
            _canListGroups = false;
            _log($"mirror {_mirror}: the source does not list its consumer groups (no ListGroups API): checkpointing the groups given by name only ({_options.Groups.Count})");
        }
        catch (KafkaException e)
        {
            _log($"mirror {_mirror}: could not tell whether the source lists its consumer groups ({e.Error.Code}: {e.Error.Reason}); asking again next round");
        }
        return _canListGroups;
    }
}
