using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>
/// Whether a mirror is paused, kept on the target beside its positions: the record <c>NAME:paused</c> (value
/// <c>true</c> or <c>false</c>) in the compacted <see cref="MirrorOptions.OffsetsTopic"/>. There, and not in a node's
/// journal, because it belongs to the mirror as its positions do: whichever node runs the mirror next (after a hand-off,
/// a crash, a restart of the whole cluster) reads both from the same place, and any node reads it to report the mirror.
/// The key has no <c>/</c>, so it is never taken for a position (<c>NAME/topic/partition</c>).
/// </summary>
public static class MirrorPauseFlag
{
    public static string KeyOf(string mirror) => mirror + ":paused";

    /// <summary>Reads the flag (false when never set): the offsets topic from its start to its end, read_committed.</summary>
    public static bool Read(KafkaClients target, MirrorOptions options)
    {
        Librdkafka.EnsureLoaded();
        EnsureTopic(target, options);
        using var reader = TopicEnd.Reader(target.Consumer("nwdp-mirror-flag-" + options.Name));
        var partition = new TopicPartition(options.OffsetsTopic, 0);
        var end = reader.QueryWatermarkOffsets(partition, options.RequestTimeout).High.Value;
        if (end <= 0) return false;
        reader.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
        var key = KeyOf(options.Name);
        var paused = false;
        try
        {
            TopicEnd.ReadToEnd(reader, 1, options.RequestTimeout, options.OffsetsTopic, result =>
            {
                if (result.Message.Key is { } k && Encoding.UTF8.GetString(k) == key)
                    paused = result.Message.Value is { } v && Encoding.UTF8.GetString(v) == "true";
            });
            return paused;
        }
        finally
        {
            reader.Close();
        }
    }

    /// <summary>Writes the flag and waits until the target has it (acks=all).</summary>
    public static void Write(KafkaClients target, MirrorOptions options, bool paused)
    {
        Librdkafka.EnsureLoaded();
        EnsureTopic(target, options);
        var config = target.Producer();
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        config.MessageTimeoutMs = (int)options.RequestTimeout.TotalMilliseconds;
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
        producer.ProduceAsync(new TopicPartition(options.OffsetsTopic, 0), new Message<byte[]?, byte[]?>
        {
            Key = Encoding.UTF8.GetBytes(KeyOf(options.Name)),
            Value = Encoding.UTF8.GetBytes(paused ? "true" : "false"),
        }).GetAwaiter().GetResult();
    }

    /// <summary>Creates the compacted offsets topic when it is missing (as the mirror itself does).</summary>
    private static void EnsureTopic(KafkaClients target, MirrorOptions options)
    {
        using var admin = new AdminClientBuilder(target.Admin()).Build();
        var spec = new TopicSpecification
        {
            Name = options.OffsetsTopic, NumPartitions = 1, ReplicationFactor = -1,
            Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" },
        };
        try
        {
            admin.CreateTopicsAsync([spec], new CreateTopicsOptions { RequestTimeout = options.RequestTimeout, OperationTimeout = options.RequestTimeout })
                .GetAwaiter().GetResult();
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.TopicAlreadyExists or ErrorCode.NoError))
        {
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_UnsupportedFeature)
        {
            // librdkafka's mock has no CreateTopics: it creates the topic when asked for its metadata.
        }
        var found = admin.GetMetadata(options.OffsetsTopic, options.RequestTimeout).Topics.SingleOrDefault(t => t.Topic == options.OffsetsTopic);
        if (found is null || found.Error.Code != ErrorCode.NoError)
            throw new KafkaException(new Error(ErrorCode.UnknownTopicOrPart, $"topic {options.OffsetsTopic} does not exist on the target and could not be created: {found?.Error.Reason}"));
    }
}
