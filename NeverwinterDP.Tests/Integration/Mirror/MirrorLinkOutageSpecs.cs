using System.Globalization;
using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Mirror;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Mirror;

/// <summary>
/// A link outage: the target cluster goes down for 30 s while a producer keeps writing to the source and the mirror
/// has a transaction open. When it returns, the mirror catches up and every record is in the target once.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class MirrorLinkOutageSpecs(ITestOutputHelper output)
{
    private const string Topic = "nwdp.logs.web";
    private const int Partitions = 4;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_target_down_for_30_seconds_loses_and_duplicates_nothing_and_the_mirror_catches_up()
    {
        using var dc1 = new EmbeddedKafka();
        using var dc2 = new EmbeddedKafka();
        dc1.CreateTopic(Topic, Partitions);
        dc2.CreateTopic(Topic, Partitions);
        var options = new MirrorOptions
        {
            Name = "outage",
            SourceSite = "dc1",
            TargetSite = "dc2",
            BatchInterval = TimeSpan.FromMilliseconds(100),
            TopicRefresh = TimeSpan.FromMilliseconds(500),
            RequestTimeout = TimeSpan.FromSeconds(5),
        };

        using var stopProducing = new CancellationTokenSource();
        var produced = 0; // written by the producer task; read after it ended
        var notWritten = 0;
        var producing = Task.Run(() =>
        {
            using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = dc1.BootstrapServers, EnableIdempotence = true, LingerMs = 5 }).Build();
            while (!stopProducing.IsCancellationRequested)
            {
                for (var k = 0; k < 20; k++, produced++)
                {
                    producer.Produce(new TopicPartition(Topic, produced % Partitions), new Message<byte[], byte[]>
                    {
                        Key = Encoding.UTF8.GetBytes("r-" + produced.ToString(CultureInfo.InvariantCulture)),
                        Value = Encoding.UTF8.GetBytes("a line written during the outage test"),
                    }, report => { if (report.Error.IsError) Interlocked.Increment(ref notWritten); });
                }
                Thread.Sleep(10); // about 2,000 records a second: a steady stream, not a flood
            }
            producer.Flush(TimeSpan.FromSeconds(30));
        });

        using var stop = new CancellationTokenSource();
        var mirror = new KafkaMirror(options, new KafkaClients(dc1.BootstrapServers), new KafkaClients(dc2.BootstrapServers), output.WriteLine);
        var run = mirror.RunAsync(stop.Token);
        try
        {
            await Wait.UntilAsync(() => mirror.Status.Mirrored >= 2_000 || run.IsCompleted, TimeSpan.FromSeconds(60), () => mirror.Status.ToString());
            Assert.False(run.IsCompleted, "the mirror stopped before the outage");

            dc2.BrokerDown(1);
            var copiedAtCut = mirror.Status.Mirrored;
            output.WriteLine($"target down after {copiedAtCut} copied");
            await Task.Delay(Outage); // the outage itself: its length is what is being tested
            var copiedDuringCut = mirror.Status.Mirrored - copiedAtCut;
            Assert.False(run.IsCompleted, $"the mirror stopped during the outage: {mirror.Status.LastError}");
            dc2.BrokerUp(1);
            output.WriteLine($"target up; {copiedDuringCut} committed while it was down, last error: {mirror.Status.LastError}");

            // Records keep coming for a while after the link returns, then stop; the mirror must take them all.
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stopProducing.CancelAsync();
            await producing;
            Assert.Equal(0, notWritten);
            output.WriteLine($"{produced} produced, {mirror.Status.Aborts} transactions aborted");
            await Wait.UntilAsync(() => mirror.Status.Mirrored >= produced || run.IsCompleted, TimeSpan.FromSeconds(120), () => mirror.Status.ToString());
            // Only the transaction committing at the cut may have finished after it; nothing else can commit.
            Assert.True(copiedDuringCut <= options.MaxBatchRecords, $"{copiedDuringCut} committed with the target down");
        }
        finally
        {
            await stopProducing.CancelAsync();
            await stop.CancelAsync();
            await run;
        }

        Assert.Equal(produced, mirror.Status.Mirrored);
        var keys = KafkaMirrorSpecs.ReadAll(dc2, Topic, Partitions).Select(r => Encoding.UTF8.GetString(r.Message.Key)).ToList();
        var twice = keys.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(twice.Count == 0, $"copied twice: {string.Join(", ", twice)}");
        var missing = Enumerable.Range(0, produced).Select(i => "r-" + i.ToString(CultureInfo.InvariantCulture)).Except(keys).Take(5).ToList();
        Assert.True(missing.Count == 0, $"{produced - keys.Distinct().Count()} missing in the target, e.g. {string.Join(", ", missing)}");
        Assert.Equal(produced, keys.Count);
    }
}
