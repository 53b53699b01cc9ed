using Confluent.Kafka;
using Confluent.Kafka.Admin;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>Translated offsets could not be committed to the group on the target; the message says why (an active group, ...).</summary>
public sealed class MirrorTranslationException(string message, Exception? inner = null) : InvalidOperationException(message, inner);

/// <summary>
/// The fail-over side of offset translation (<c>nwdp mirror translate</c>): reads a group's checkpoints from the target
/// (written by <see cref="MirrorCheckpoints"/>) and commits them to the same group on the target, so its consumers resume
/// there after the last record they processed on the source.
/// </summary>
public static class MirrorTranslation
{
    /// <summary>The newest checkpoint of each partition of <paramref name="group"/> by mirror <paramref name="mirror"/>, by topic and partition.</summary>
    public static List<MirrorCheckpoint> Read(KafkaClients target, string mirror, string group, string topic = MirrorCheckpointOptions.DefaultTopic, TimeSpan? timeout = null)
    {
        Librdkafka.EnsureLoaded();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var config = target.Consumer("nwdp-mirror-translate-" + mirror);
        config.AllowAutoCreateTopics = false;
        using var admin = new AdminClientBuilder(target.Admin()).Build();
        var partitions = admin.GetMetadata(topic, limit).Topics.SingleOrDefault(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError)?.Partitions;
        if (partitions is null || partitions.Count == 0) return [];

        using var consumer = TopicEnd.Reader(config);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
        var newest = new Dictionary<string, MirrorCheckpoint?>(StringComparer.Ordinal);
        var keyPrefix = $"{mirror}/{group}/";
        TopicEnd.ReadToEnd(consumer, partitions.Count, limit, topic, result =>
        {
            if (result.Message.Key is null) return;
            var key = System.Text.Encoding.UTF8.GetString(result.Message.Key);
            if (!key.StartsWith(keyPrefix, StringComparison.Ordinal)) return;
            // The value says whose it is; a tombstone removes the key's checkpoint.
            var checkpoint = MirrorCheckpoint.FromJson(result.Message.Value);
            newest[key] = checkpoint is not null && checkpoint.Mirror == mirror && checkpoint.Group == group ? checkpoint : null;
        });
        consumer.Close();
        return newest.Values.OfType<MirrorCheckpoint>().OrderBy(c => c.Topic, StringComparer.Ordinal).ThenBy(c => c.Partition).ToList();
    }

    /// <summary>
    /// Commits the checkpoints' target offsets to <paramref name="group"/> on the target. Refused when the group has active
    /// members there (their next commit would overwrite it, and Kafka takes no commit from outside a live group).
    /// </summary>
    /// <exception cref="MirrorTranslationException">The group is active on the target, or a partition's commit failed.</exception>
    public static void Apply(KafkaClients target, string group, IReadOnlyList<MirrorCheckpoint> checkpoints, TimeSpan? timeout = null)
    {
        Librdkafka.EnsureLoaded();
        if (checkpoints.Count == 0) throw new MirrorTranslationException($"no checkpoints to commit for group {group}");
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        using var admin = new AdminClientBuilder(target.Admin()).Build();
        try
        {
            var described = admin.DescribeConsumerGroupsAsync([group], new DescribeConsumerGroupsOptions { RequestTimeout = limit }).GetAwaiter().GetResult();
            var members = described.ConsumerGroupDescriptions.SingleOrDefault()?.Members.Count ?? 0;
            if (members > 0) throw Active(group, $"{members} members");
        }
        catch (DescribeConsumerGroupsException e) when (e.Results.ConsumerGroupDescriptions.All(r => r.Error.Code is ErrorCode.Local_UnsupportedFeature or ErrorCode.UnsupportedVersion))
        {
            // A broker without DescribeGroups (librdkafka's mock): the commit below is refused for a group with members.
        }
        var offsets = checkpoints.Select(c => new TopicPartitionOffset(c.TargetTopic, c.TargetPartition, c.TargetOffset)).ToList();
        try
        {
            admin.AlterConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitionOffsets(group, offsets)],
                new AlterConsumerGroupOffsetsOptions { RequestTimeout = limit }).GetAwaiter().GetResult();
        }
        catch (AlterConsumerGroupOffsetsException e)
        {
            var errors = e.Results.SelectMany(r => r.Partitions).Where(p => p.Error.IsError).ToList();
            if (errors.Any(p => p.Error.Code is ErrorCode.UnknownMemberId or ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration) || e.Error.Code is ErrorCode.UnknownMemberId)
                throw Active(group, "it refused a commit from outside the group; librdkafka's mock refuses it for any group that ever had members");
            var first = errors.FirstOrDefault();
            throw new MirrorTranslationException(first is null
                ? $"committing to group {group} failed: {e.Error.Reason}"
                : $"committing to group {group} failed for {first.TopicPartition}: {first.Error.Code} ({first.Error.Reason})", e);
        }
    }

    private static MirrorTranslationException Active(string group, string evidence) =>
        new($"group {group} has active members on the target ({evidence}): stop its consumers there before committing translated offsets");
}
