using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Watchdog;

/// <summary>
/// Publishes watchdog transitions to <c>nwdp.watchdog</c>, keyed by host, as one JSON object each:
/// <c>{"host","online","at","last_beat","processes"}</c>. Fire and forget with the producer's own retries
/// (acks=all); a transition is also in the journal, so a lost publish is visible in <c>nwdp watchdog</c>.
/// </summary>
public sealed class KafkaWatchdogPublisher(IProducer<byte[]?, byte[]> producer, Action<string>? warn = null) : IWatchdogPublisher, IDisposable
{
    public void Publish(WatchdogTransition t)
    {
        var value = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["host"] = t.Host,
            ["online"] = t.Online,
            ["at"] = t.AtMs,
            ["last_beat"] = t.LastBeatMs,
            ["processes"] = t.Processes,
        });
        try
        {
            producer.Produce(TopicNames.Watchdog, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(t.Host), Value = value }, report =>
            {
                if (report.Error.IsError) warn?.Invoke($"watchdog transition of {t.Host} not published: {report.Error.Reason}");
            });
        }
        catch (KafkaException e)
        {
            warn?.Invoke($"watchdog transition of {t.Host} not published: {e.Error.Reason}");
        }
    }

    public void Dispose()
    {
        producer.Flush(TimeSpan.FromSeconds(5));
        producer.Dispose();
    }
}
