using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Native;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// What the services that publish on a control topic (<c>nwdp.stats</c>, <c>nwdp.coverage</c>) share: they start in the
/// background once their topic exists (a node must come up, and spill, while Kafka is down; what they would publish
/// waits in memory), and publish with one small idempotent producer.
/// </summary>
internal static class ControlTopics
{
    /// <summary>Creates <paramref name="topic"/>, retrying with a growing pause; false when <paramref name="stop"/> came first.</summary>
    /// <param name="waiting">What waits meanwhile, for the warning (e.g. "per-minute stats are kept").</param>
    public static async Task<bool> EnsureAsync(KafkaBus bus, string topic, string waiting, ILogger log, CancellationToken stop)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await bus.Topics.EnsureAsync(topic, stop);
                return true;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e)
            {
                if (attempt == 1 || attempt % 10 == 0)
                    log.LogWarning("The topic {Topic} cannot be created yet ({Error}); {Waiting} and published once Kafka answers", topic, e.Message, waiting);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, 2 * attempt)), stop);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
        }
    }

    /// <summary>The producer of a control topic's publisher: acks=all, idempotent, small batches.</summary>
    /// <param name="lingerMs">How long it gathers records before it sends: 50 ms by default; 0 where a caller waits
    /// for the acknowledgement (the stats, which ingress waits for before it answers).</param>
    public static IProducer<byte[]?, byte[]> Producer(KafkaBus bus, int lingerMs = 50)
    {
        Librdkafka.EnsureLoaded();
        return new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig(bus.Clients.Producer())
        {
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = lingerMs,
        }).Build();
    }
}
