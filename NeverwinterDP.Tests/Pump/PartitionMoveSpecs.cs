using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.Sinks.Compliance;
using NeverwinterDP.Tests.TestKit;
using static NeverwinterDP.Tests.Sinks.Files.FilesSinkTestKit;

namespace NeverwinterDP.Tests.Pump;

/// <summary>
/// Two writers of the files sink in one consumer group (writers-per-sink = 2): partitions moving between them are
/// published once, through real rebalances. (The deterministic check of the cause is FilesSinkReplayTests'
/// A_partition_moving_between_two_writers_is_published_once: here, before the fix, the second writer deleted the
/// first one's open files as leftovers at its first scan, which hid the duplicate.)
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class PartitionMoveSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO", output: output)
{
    [Fact]
    public async Task Records_a_writer_wrote_before_its_partitions_moved_to_a_second_writer_are_published_once()
    {
        using var kafka = new EmbeddedKafka();
        using var dir = new TempDir();
        var topic = TopicNames.ForType("move-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, 4);
        const int n = 2000;
        PumpTestKit.ProduceNumbered(kafka, topic, n);

        var consumer = ConsumerSettings<Ignore, byte[]>.Create(Deserializers.Ignore, Deserializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers);
        // No flush on its own within the test: what a writer wrote stays in its open files until something publishes it.
        var options = new PumpOptions
        {
            TopicPattern = "^" + System.Text.RegularExpressions.Regex.Escape(topic) + "$",
            BatchSize = 200, BatchInterval = TimeSpan.FromMilliseconds(50), FlushInterval = TimeSpan.FromHours(1),
        };
        var first = new DataPump(Sys, consumer, Sink(dir.Path), options, new RecordingDeadLetters());
        var second = new DataPump(Sys, consumer, Sink(dir.Path), options, new RecordingDeadLetters());
        try
        {
            await first.StartAsync(CancellationToken.None);
            await AwaitAssertAsync(() => Assert.Equal(n, first.Stats.Delivered), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            // Read is not stored: every record was taken off the bus, none is committed (what the embedded broker's
            // shutdown waits on, since the partitions about to move are read again by the second writer).
            Assert.Equal(n, first.Positions.Values.Sum());
            Assert.Empty(first.CommittedPositions);

            // The second writer joins: half the partitions move to it, and it reads them from the start (nothing was committed).
            await second.StartAsync(CancellationToken.None);
            await AwaitAssertAsync(() => Assert.True(second.Stats.Delivered > 0), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        }
        finally
        {
            await second.StopAsync();
            await first.StopAsync();
        }

        // Stopped, both committed what they stored: per partition, one of them up to its end.
        var committed = first.CommittedPositions.Concat(second.CommittedPositions)
            .GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Max(p => p.Value));
        Assert.Equal(4, committed.Count);
        Assert.Equal(n, committed.Values.Sum());

        var published = PublishedMessages(dir.Path);
        var duplicates = published.GroupBy(m => m).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"{duplicates.Count} published twice, e.g. {string.Join(", ", duplicates.Take(5))}");
        Assert.Equal(Enumerable.Range(0, n).Select(i => "m-" + i).Order(), published.Order());
    }
}
