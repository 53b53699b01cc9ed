using System.Text.RegularExpressions;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>
/// One mirror: which topics of a source Kafka cluster it copies to a target cluster, under which names, and how
/// much each transaction carries. <see cref="Name"/> is the mirror's identity on the target: its transactional id
/// (a restarted mirror fences the one before it) and the key of its positions in <see cref="OffsetsTopic"/>.
/// </summary>
public sealed partial record MirrorOptions
{
    /// <summary>The mirror's name: letters, digits, <c>.</c>, <c>_</c>, <c>-</c>. One running mirror per name and target.</summary>
    public required string Name { get; init; }

    /// <summary>The source cluster's site name (what lineage headers and loop prevention call it).</summary>
    public required string SourceSite { get; init; }

    /// <summary>The target cluster's site name: a record that already passed through it is not mirrored back.</summary>
    public required string TargetSite { get; init; }

    /// <summary>The source topics to copy (a regular expression over the whole name); topics starting with <c>__</c> never.</summary>
    public string TopicPattern { get; init; } = @"^nwdp\.logs\..*";

    /// <summary>
    /// The target topic's name: <c>{topic}</c> is the source topic, <c>{site}</c> the source site. <c>{topic}</c> alone
    /// (the default) keeps names (active/passive); <c>{site}.{topic}</c> keeps sites apart (hub and spoke, active/active).
    /// </summary>
    public string TargetTopic { get; init; } = "{topic}";

    /// <summary>The compacted topic on the target where mirrors keep their source positions, written in their transactions.</summary>
    public string OffsetsTopic { get; init; } = "nwdp.mirror.offsets";

    /// <summary>
    /// The topic on the target where mirrors write, in each transaction, which target offsets their copies got (offset
    /// syncs, <see cref="OffsetSync"/>): what <see cref="MirrorCheckpoints"/> translates consumer groups' offsets with.
    /// </summary>
    public string SyncsTopic { get; init; } = "nwdp.mirror.syncs";

    /// <summary>Where a partition without a stored position starts: at its beginning (true) or at its end.</summary>
    public bool StartAtBeginning { get; init; } = true;

    /// <summary>Records per transaction at most.</summary>
    public int MaxBatchRecords { get; init; } = 10_000;

    /// <summary>Bytes (keys and values) per transaction at most; a single larger record still goes alone.</summary>
    public long MaxBatchBytes { get; init; } = 16L << 20;

    /// <summary>How long a transaction gathers records before it commits what it has.</summary>
    public TimeSpan BatchInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How often the source is asked for new topics (and new partitions) matching the pattern.</summary>
    public TimeSpan TopicRefresh { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one Kafka call (metadata, commit, abort) may take before it is retried.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The target topic a source topic is copied to.</summary>
    public string TargetTopicOf(string sourceTopic) =>
        TargetTopic.Replace("{topic}", sourceTopic, StringComparison.Ordinal).Replace("{site}", SourceSite, StringComparison.Ordinal);

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting that is wrong.</summary>
    public void Validate()
    {
        if (!SiteName().IsMatch(Name)) throw new ArgumentException($"mirror name must be letters, digits, '.', '_' or '-', got '{Name}'");
        if (!SiteName().IsMatch(SourceSite)) throw new ArgumentException($"source site must be letters, digits, '.', '_' or '-', got '{SourceSite}'");
        if (!SiteName().IsMatch(TargetSite)) throw new ArgumentException($"target site must be letters, digits, '.', '_' or '-', got '{TargetSite}'");
        if (SourceSite == TargetSite) throw new ArgumentException($"source and target site are both '{SourceSite}': loop prevention needs two names");
        if (!TargetTopic.Contains("{topic}", StringComparison.Ordinal)) throw new ArgumentException($"target topic '{TargetTopic}' must contain {{topic}}");
        try
        {
            _ = new Regex(TopicPattern);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"topic pattern '{TopicPattern}' is not a regular expression: {e.Message}", e);
        }
        if (MaxBatchRecords < 1) throw new ArgumentException("max batch records must be at least 1");
        if (MaxBatchBytes < 1) throw new ArgumentException("max batch bytes must be at least 1");
        if (BatchInterval <= TimeSpan.Zero) throw new ArgumentException("batch interval must be positive");
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex SiteName();
}
