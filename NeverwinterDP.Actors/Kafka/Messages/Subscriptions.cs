using Confluent.Kafka;

namespace NeverwinterDP.Actors.Kafka.Messages;

/// <summary>What a consumer stage reads: topics through the group protocol, or a fixed assignment.</summary>
public interface ISubscription { }

/// <summary>Topics (names, or regexes that start with <c>^</c>) whose partitions the group assigns.</summary>
public sealed record TopicSubscription(IReadOnlyList<string> Topics) : ISubscription;

/// <summary>Fixed partitions, no group rebalancing (replay, tools).</summary>
public sealed record AssignmentSubscription(IReadOnlyList<TopicPartitionOffset> Partitions) : ISubscription;

public static class Subscriptions
{
    public static ISubscription Topics(params string[] topics) =>
        topics.Length > 0 ? new TopicSubscription(topics) : throw new ArgumentException("at least one topic", nameof(topics));

    /// <summary>A regex over topic names, e.g. <c>^nwdp\.logs\..*</c>.</summary>
    public static ISubscription TopicPattern(string pattern) =>
        new TopicSubscription([pattern.StartsWith('^') ? pattern : "^" + pattern]);

    public static ISubscription Assignment(params TopicPartition[] partitions) =>
        new AssignmentSubscription(partitions.Select(p => new TopicPartitionOffset(p, Offset.Stored)).ToArray());

    public static ISubscription AssignmentWithOffset(params TopicPartitionOffset[] partitions) => new AssignmentSubscription(partitions);
}
