using System.Globalization;
using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>
/// Publishes this node's changed sketches (<see cref="CoverageCollector.Collect"/>) to <c>nwdp.coverage</c> every
/// <see cref="CoverageOptions.PublishInterval"/>, keyed <c>node/type/hour</c>; each record carries the whole sketch so
/// far, so the newest per key is the node's part. A sketch Kafka refused is published again at the next tick.
/// </summary>
public sealed class CoveragePublisher(CoverageCollector collector, IProducer<byte[]?, byte[]> producer, Func<string> nodeId, Action<string>? warn = null) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _published;

    /// <summary>Records Kafka acknowledged.</summary>
    public long Published => Interlocked.Read(ref _published);

    public void Start() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(collector.Options.PublishInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false)) PublishDue();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Publishes the sketches that changed (the loop calls it; tests may too).</summary>
    public int PublishDue()
    {
        var node = nodeId();
        var due = collector.Collect(node);
        foreach (var (type, hour, record) in due)
        {
            var key = Encoding.UTF8.GetBytes($"{node}/{type}/{hour.ToString(CultureInfo.InvariantCulture)}");
            try
            {
                producer.Produce(TopicNames.Coverage, new Message<byte[]?, byte[]> { Key = key, Value = record }, report =>
                {
                    if (!report.Error.IsError)
                    {
                        Interlocked.Increment(ref _published);
                        return;
                    }
                    collector.MarkUnpublished(type, hour);
                    warn?.Invoke($"coverage of {type} not published ({report.Error.Reason}); trying again");
                });
            }
            catch (KafkaException e)
            {
                collector.MarkUnpublished(type, hour);
                warn?.Invoke($"coverage of {type} not published ({e.Error.Reason}); trying again");
            }
        }
        return due.Count;
    }

    /// <summary>Stops the loop and publishes what changed since the last tick, so a node's last sketches are not lost.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        PublishDue();
        producer.Flush(TimeSpan.FromSeconds(10));
        producer.Dispose();
    }
}
