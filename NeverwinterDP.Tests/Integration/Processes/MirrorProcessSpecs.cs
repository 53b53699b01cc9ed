using System.Globalization;
using System.Text;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Tests.Integration.Mirror;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary><c>nwdp mirror</c> as a process, SIGKILLed while records flow: every record is in the target once.</summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class MirrorProcessSpecs(ITestOutputHelper output)
{
    private const string Topic = "nwdp.logs.orders";

    private static ChildProcess StartMirror(EmbeddedKafka from, EmbeddedKafka to) => ChildProcess.StartNwdp("mirror",
    [
        "mirror", "--from", from.BootstrapServers, "--to", to.BootstrapServers, "--name", "dc1-to-dc2",
        "--source-site", "dc1", "--target-site", "dc2", "--interval", "50ms", "--batch", "200", "--progress", "200ms",
    ]);

    private static long CommittedCount(EmbeddedKafka kafka)
    {
        try
        {
            return KafkaMirrorSpecs.ReadAll(kafka, Topic).Count;
        }
        catch (Xunit.Sdk.XunitException)
        {
            return -1; // not read to the end yet
        }
    }

    [Fact]
    public async Task A_mirror_killed_mid_stream_and_restarted_copies_every_record_exactly_once()
    {
        using var dc1 = new EmbeddedKafka();
        using var dc2 = new EmbeddedKafka();
        dc1.CreateTopic(Topic, 4);
        dc2.CreateTopic(Topic, 4);

        // A producer that keeps writing to the source while the mirror is killed and restarted.
        using var stopProducing = new CancellationTokenSource();
        var produced = 0;
        var producing = Task.Run(async () =>
        {
            using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = dc1.BootstrapServers, EnableIdempotence = true, LingerMs = 2 }).Build();
            while (!stopProducing.IsCancellationRequested)
            {
                for (var i = 0; i < 100; i++, produced++)
                {
                    producer.Produce(Topic, new Message<byte[], byte[]>
                    {
                        Key = Encoding.UTF8.GetBytes("order-" + produced.ToString(CultureInfo.InvariantCulture)),
                        Value = Encoding.UTF8.GetBytes("{\"msg\":\"order " + produced.ToString(CultureInfo.InvariantCulture) + "\"}"),
                    });
                }
                producer.Flush(TimeSpan.FromSeconds(30));
                await Task.Delay(10);
            }
        });

        for (var round = 1; round <= 2; round++)
        {
            await using var mirror = StartMirror(dc1, dc2);
            await mirror.WaitForStdoutAsync(l => l.StartsWith("ready mirror", StringComparison.Ordinal), Limits.Ready, "ready line");
            // Killed once it has committed a few transactions and is in the middle of more.
            await Wait.UntilAsync(() => mirror.Stderr.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"[1-9]\d* transactions")), TimeSpan.FromSeconds(60),
                () => mirror.Describe());
            mirror.Signal(ChildProcess.SIGKILL);
            await mirror.WaitForExitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"round {round}: killed after {mirror.Stderr.LastOrDefault(l => l.Contains("copied", StringComparison.Ordinal))}");
        }

        stopProducing.Cancel();
        await producing;
        output.WriteLine($"{produced} records produced to dc1");

        await using (var last = StartMirror(dc1, dc2))
        {
            await last.WaitForStdoutAsync(l => l.StartsWith("ready mirror", StringComparison.Ordinal), Limits.Ready, "ready line");
            await Wait.UntilAsync(() => CommittedCount(dc2) >= produced, TimeSpan.FromSeconds(120), () => $"{CommittedCount(dc2)} of {produced} in dc2. {last.Describe()}");
            last.Signal(ChildProcess.SIGTERM);
            Assert.Equal(0, await last.WaitForExitAsync(Limits.GracefulExit));
        }

        var keys = KafkaMirrorSpecs.ReadAll(dc2, Topic).Select(r => Encoding.UTF8.GetString(r.Message.Key)).ToList();
        var twice = keys.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(twice.Count == 0, $"copied more than once: {string.Join(", ", twice)}");
        Assert.Equal(Enumerable.Range(0, produced).Select(i => "order-" + i.ToString(CultureInfo.InvariantCulture)).Order(), keys.Order());
    }
}
