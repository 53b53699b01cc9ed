using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Stats;

/// <summary>
/// Publishes what this node's <see cref="StatsCounter"/> counted to <c>nwdp.stats</c> every
/// <see cref="StatsOptions.PublishInterval"/>: each closed minute (after the grace), again when it changed, and
/// every open minute at stop. A minute whose records Kafka refused is published again at the next tick.
/// </summary>
public sealed class StatsPublisher(StatsCounter counter, IProducer<byte[]?, byte[]> producer, Func<string> nodeId, Action<string>? warn = null) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _published;

    /// <summary>Records Kafka acknowledged.</summary>
    public long Published => Interlocked.Read(ref _published);

    public void Start() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(counter.Options.PublishInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false)) PublishDue();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Publishes the minutes that are due now (the loop calls it; tests may too).</summary>
    public int PublishDue(bool all = false)
    {
        var records = counter.Collect(nodeId(), all);
        foreach (var record in records)
        {
            try
            {
                producer.Produce(TopicNames.Stats, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(record.Key), Value = record.ToJson() }, report =>
                {
                    if (!report.Error.IsError)
                    {
                        Interlocked.Increment(ref _published);
                        return;
                    }
                    counter.MarkUnpublished(record.MinuteMs);
                    warn?.Invoke($"stats of {record.Minute} not published ({report.Error.Reason}); trying again");
                });
            }
            catch (KafkaException e)
            {
                counter.MarkUnpublished(record.MinuteMs);
                warn?.Invoke($"stats of {record.Minute} not published ({e.Error.Reason}); trying again");
            }
        }
        return records.Count;
    }

    /// <summary>Stops the loop and publishes every minute still open, so a node's last counts are not lost.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        PublishDue(all: true);
        producer.Flush(TimeSpan.FromSeconds(10));
        producer.Dispose();
    }
}
