using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>
/// Publishes completions on <c>nwdp.watermarks</c> (created on first use), one JSON record each
/// (<see cref="HourCompletion.ToJson"/>), keyed <c>sink|topic|hour_ms</c> so a compacted copy keeps each hour's last version.
/// </summary>
public sealed class KafkaWatermarkPublisher(IProducer<byte[]?, byte[]> producer, ITopicProvisioner topics) : IWatermarkPublisher, IDisposable
{
    public async Task PublishAsync(HourCompletion completion, CancellationToken cancellation)
    {
        await topics.EnsureCompactedAsync(TopicNames.Watermarks, cancellation).ConfigureAwait(false);
        await producer.ProduceAsync(TopicNames.Watermarks, new Message<byte[]?, byte[]>
        {
            Key = Encoding.UTF8.GetBytes($"{completion.Sink}|{completion.Topic}|{completion.HourMs}"),
            Value = completion.ToJson(),
        }, cancellation).ConfigureAwait(false);
    }

    public void Dispose() => producer.Dispose();
}
