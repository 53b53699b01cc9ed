using System.Globalization;
using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Pump;

/// <summary>
/// Dead letters on the bus: topic <c>nwdp.dlq.&lt;sink&gt;</c>, value = the event (Confluent-framed Avro, as on
/// the log topics, so a DLQ can be replayed), headers = why and where from (<c>nwdp-dlq-reason</c>,
/// <c>nwdp-source-topic</c>, <c>nwdp-source-partition</c>, <c>nwdp-source-offset</c>, and <c>nwdp-dlq-attempts</c>: how
/// often the record was dead-lettered, 1 from the pump, more after dead-letter replays it was refused in again). Returns once Kafka
/// acknowledged every letter (acks=all): only then are the records' offsets committed.
/// </summary>
public sealed class KafkaDeadLetterQueue(IProducer<byte[]?, byte[]> producer) : IDeadLetterQueue, IDisposable
{
    public static string TopicFor(string sink) => "nwdp.dlq." + sink;

    public async Task SendAsync(string sink, IReadOnlyList<DeadLetterRecord> letters, CancellationToken cancellation)
    {
        var topic = TopicFor(sink);
        var sends = new List<Task>(letters.Count);
        foreach (var letter in letters)
        {
            var r = letter.Record;
            var headers = new Headers
            {
                { "nwdp-dlq-reason", Encoding.UTF8.GetBytes(letter.Reason) },
                { "nwdp-sink", Encoding.UTF8.GetBytes(sink) },
                { "nwdp-source-topic", Encoding.UTF8.GetBytes(r.Topic) },
                { "nwdp-source-partition", Encoding.UTF8.GetBytes(r.Partition.ToString(CultureInfo.InvariantCulture)) },
                { "nwdp-source-offset", Encoding.UTF8.GetBytes(r.Offset.ToString(CultureInfo.InvariantCulture)) },
                { "nwdp-dlq-attempts", Encoding.UTF8.GetBytes(letter.Attempts.ToString(CultureInfo.InvariantCulture)) },
            };
            var key = Encoding.UTF8.GetBytes($"{r.Topic}-{r.Partition}-{r.Offset}");
            sends.Add(producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Key = key, Value = r.Framed ?? LogEventAvro.EncodeFramed(r.Event), Headers = headers }, cancellation));
        }
        await Task.WhenAll(sends).ConfigureAwait(false);
    }

    public void Dispose()
    {
        producer.Flush(TimeSpan.FromSeconds(10));
        producer.Dispose();
    }
}
