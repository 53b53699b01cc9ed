using System.Text;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Schemas;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Ingress;

/// <summary>
/// The one way events enter the bus, shared by the HTTP endpoint and the Akka-remote receptionist: routes each
/// event to its topic and key, encodes it, submits the batch as a whole and, once Kafka made it durable, tells
/// the observers (emitter registry, watchdog, stats), and answers once their counts of it are durable too.
/// </summary>
/// <remarks>
/// With a spillover store: a batch Kafka did not take (failed, or not acknowledged within <c>nwdp.spill.after</c>) is
/// handed to the store instead, and the answer is durable once the store wrote it. Records still with the producer
/// then stay there until the broker answers or the producer's message timeout (<see cref="StillWithProducerException"/>);
/// their spilled copy is replayed only after that, and only what the bus does not hold. While the bus is known to be down,
/// only one request per probe interval tries Kafka; the rest spill at once.
/// </remarks>
/// <remarks>
/// With <paramref name="typed"/>: an event of a typed log type is written as that type's record (its registered
/// schema's id in the frame, typed attributes as Avro values); one whose attributes do not fit is written as the
/// plain LogEvent (the HTTP endpoint refused it before, with <see cref="TypedLogTypes.FirstInvalid"/>; other inputs
/// cannot answer 400 per event, and nothing is lost).
/// </remarks>
public sealed class EventIngress(BusWriter pipeline, IngressOptions options, IEnumerable<IIngressObserver> observers, SpillWriter? spillover = null, BusCircuit? circuit = null,
    TypedLogTypes? typed = null)
{
    private readonly IIngressObserver[] _observers = observers.ToArray();

    /// <summary>Batches and events that went to the spillover store.</summary>
    public long SpilledBatches => Interlocked.Read(ref _spilledBatches);

    public long SpilledEvents => Interlocked.Read(ref _spilledEvents);

    private long _spilledBatches;
    private long _spilledEvents;

    public BusWriter Pipeline => pipeline;

    public IngressOptions Options => options;

    /// <summary>The typed log types this ingress writes (null: the node serves no registry, every event is a plain LogEvent).</summary>
    public TypedLogTypes? Typed => typed;

    private Dictionary<string, IReadOnlyDictionary<int, long>> LowerBounds(ProducerRecord<byte[]?, byte[]>[] records)
    {
        var bounds = new Dictionary<string, IReadOnlyDictionary<int, long>>(1);
        foreach (var topic in BusWriter.TopicsOf(records)) bounds[topic] = pipeline.AcknowledgedNextOffsetsOf(topic);
        return bounds;
    }

    /// <summary>
    /// The bus records of <paramref name="events"/>: each on its type's topic, keyed by its <c>key</c> attribute, else
    /// <paramref name="requestKey"/>, else its host, its value the Confluent-framed Avro event.
    /// </summary>
    public static ProducerRecord<byte[]?, byte[]>[] ToRecords(IReadOnlyList<LogEvent> events, string? requestKey, TypedLogTypes? typed = null)
    {
        var records = new ProducerRecord<byte[]?, byte[]>[events.Count];
        // A request's events mostly share their key (one sender, a few hosts): consecutive equal keys share one
        // array (librdkafka copies it at produce), and the topic name is looked up once per run of one type.
        string? lastKey = null, lastType = null, topic = null;
        TypedLogSchema? schema = null;
        byte[]? keyBytes = null;
        var hasRequestKey = !string.IsNullOrEmpty(requestKey);
        for (var i = 0; i < records.Length; i++)
        {
            var e = events[i];
            var key = e.Attributes.Count != 0 && e.Attributes.TryGetValue("key", out var k) ? k : hasRequestKey ? requestKey! : e.Host;
            if (keyBytes is null || key != lastKey)
            {
                keyBytes = Encoding.UTF8.GetBytes(key);
                lastKey = key;
            }
            if (topic is null || e.Type != lastType)
            {
                topic = TopicNames.ForType(e.Type);
                lastType = e.Type;
                schema = typed?.ForTopic(topic);
            }
            var value = schema?.TryEncodeFramed(e) ?? LogEventAvro.EncodeFramed(e);
            records[i] = new ProducerRecord<byte[]?, byte[]>(topic, new Confluent.Kafka.Message<byte[]?, byte[]> { Key = keyBytes, Value = value });
        }
        return records;
    }

    /// <returns>
    /// <see cref="IngressOutcome.Refused"/> with an <see cref="EventTooLargeException"/> for an event larger than the
    /// bus accepts (nothing sent), or with the bus's error when it refused the records permanently (nothing spilled).
    /// </returns>
    /// <param name="requestKey">The partition key the sender asked for (else the event's <c>key</c> attribute, else its host).</param>
    public async Task<(IngressOutcome Outcome, Exception? Error)> AcceptAsync(IReadOnlyList<LogEvent> events, string? requestKey, CancellationToken cancellation)
    {
        var records = ToRecords(events, requestKey, typed);
        // What the bus can never take is refused now, before anything is sent or spilled.
        if (pipeline.FirstTooLarge(records) is { } tooLarge) return (IngressOutcome.Refused, tooLarge);
        // While the producer still holds records of requests already spilled, the bus is not taking writes: those
        // records are its probe (their late acknowledgement closes the circuit), so new requests spill at once.
        var tryBus = spillover is null || circuit is null || (circuit.ShouldIngressTryBus() && (circuit.IsUp || pipeline.InDoubt == 0));
        // Where this request's records can land at the earliest, should the produce fail yet reach the bus.
        var landFrom = tryBus && spillover is not null ? LowerBounds(records) : null;
        var result = tryBus ? await pipeline.SubmitAsync(records, cancellation, spillover?.After ?? default).ConfigureAwait(false) : (IngressOutcome.Failed, null);
        var late = (result.Item2 as PossiblyWrittenException)?.InnerException as StillWithProducerException;
        if (late is not null && circuit is not null)
            _ = late.Outcome.ContinueWith(t => { if (t.Result.Outcome == IngressOutcome.Durable) circuit.Succeeded(); }, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        if (result.Outcome == IngressOutcome.Durable)
        {
            circuit?.Succeeded();
            await CountedOnBusAsync(events, cancellation).ConfigureAwait(false);
            return result;
        }
        if (result.Outcome != IngressOutcome.Failed || spillover is null) return result;

        if (tryBus) circuit?.Failed();
        var spilled = await spillover.SpillAsync(records, cancellation, result.Item2 is PossiblyWrittenException ? landFrom : null).ConfigureAwait(false);
        if (spilled.Outcome != IngressOutcome.Durable)
        {
            // Not kept here, and the producer may still write it: a 503 now could be followed by the records on the
            // bus (and the sender's resend twice). Its verdict comes within the producer's message timeout.
            if (late is not null && await late.Outcome.ConfigureAwait(false) is { Outcome: IngressOutcome.Durable })
            {
                await CountedOnBusAsync(events, cancellation).ConfigureAwait(false);
                return (IngressOutcome.Durable, null);
            }
            return (IngressOutcome.Failed, spilled.Error ?? result.Item2);
        }
        Interlocked.Increment(ref _spilledBatches);
        Interlocked.Add(ref _spilledEvents, events.Count);
        foreach (var observer in _observers)
        {
            observer.Accepted(events);
            observer.Spilled(events);
        }
        return spilled;
    }

    /// <summary>
    /// Counts a batch Kafka took (accepted, on the bus) and waits until those counts are durable (the stats' counts
    /// acknowledged on <c>nwdp.stats</c>), so a node killed after its answer takes none of them with it. The batch is
    /// durable either way: when the counts are not (the stats publisher stopped, timed out, or the sender left), the
    /// answer goes all the same and the counts are published later. Not for a spilled batch: the bus is down then.
    /// </summary>
    private Task CountedOnBusAsync(IReadOnlyList<LogEvent> events, CancellationToken cancellation)
    {
        foreach (var observer in _observers)
        {
            observer.Accepted(events);
            observer.WrittenToBus(events);
        }
        return IngressObservers.CountsDurableAsync(_observers, cancellation);
    }
}
