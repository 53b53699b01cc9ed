using System.Text;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Registry;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Ingress;

/// <summary>
/// The one way events enter the bus, shared by the HTTP endpoint and the Akka-remote receptionist: routes each
/// event to its topic and key, encodes it, submits the batch as a whole and, once Kafka made it durable, tells
/// the observers (emitter registry, watchdog, stats).
/// </summary>
public sealed class EventIngress(IngressPipeline pipeline, IEnumerable<IIngressObserver> observers)
{
    private readonly IIngressObserver[] _observers = observers.ToArray();

    public IngressPipeline Pipeline => pipeline;

    public IngressOptions Options => pipeline.Options;

    /// <param name="requestKey">The partition key the sender asked for (else the event's <c>key</c> attribute, else its host).</param>
    public async Task<(IngressOutcome Outcome, Exception? Error)> AcceptAsync(IReadOnlyList<LogEvent> events, string? requestKey, CancellationToken cancellation)
    {
        var records = new ProducerRecord<byte[]?, byte[]>[events.Count];
        for (var i = 0; i < records.Length; i++)
        {
            var e = events[i];
            var key = e.Attributes.TryGetValue("key", out var k) ? k : !string.IsNullOrEmpty(requestKey) ? requestKey : e.Host;
            records[i] = new ProducerRecord<byte[]?, byte[]>(TopicNames.ForType(e.Type),
                new Confluent.Kafka.Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(key), Value = LogEventAvro.EncodeFramed(e) });
        }
        var result = await pipeline.SubmitAsync(records, cancellation).ConfigureAwait(false);
        if (result.Outcome == IngressOutcome.Durable)
            foreach (var observer in _observers)
            {
                observer.Accepted(events);
                observer.WrittenToBus(events);
            }
        return result;
    }
}
