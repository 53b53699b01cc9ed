using System.Collections.Concurrent;
using System.Diagnostics;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Dsl;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Messages;
using NeverwinterDP.Actors.Kafka.Native;
using Xunit;
using Xunit.Abstractions;
using static NeverwinterDP.Tests.Kafka.KafkaTestKit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Kafka;

/// <summary>
/// The embedded broker is a real Kafka-protocol peer: kcat (Debian's package, its own process, built on
/// Debian's older librdkafka) produces to it and consumes from it.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SecondProcessSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly IMaterializer _materializer;

    public SecondProcessSpecs(ITestOutputHelper output) : base("akka.loglevel = INFO", output: output)
    {
        _materializer = Sys.Materializer();
    }

    [Fact]
    public void The_process_uses_the_librdkafka_bundled_with_Confluent_Kafka_not_a_system_copy()
    {
        Librdkafka.EnsureLoaded();
        Assert.Contains(Path.Combine("runtimes", "linux-x64", "native"), Librdkafka.Path);
        Assert.True(Library.Version >= 0x020A0000, $"loaded librdkafka {Library.VersionString} is older than 2.10");
    }

    [Fact]
    public async Task Another_process_consumes_what_we_produce_and_produces_what_we_consume()
    {
        using var kafka = new EmbeddedKafka();
        var ours = UniqueName("to-kcat");
        var theirs = UniqueName("from-kcat");
        kafka.CreateTopic(ours, 3);
        kafka.CreateTopic(theirs, 3);

        await Source.From(Enumerable.Range(0, 1000))
            .Select(i => new ProducerRecord<string, string>(ours, new Message<string, string> { Key = "k" + i, Value = "ours-" + i }))
            .RunWith(KafkaProducer.PlainSink(ProducerSettings(kafka)), _materializer);

        var consumed = await RunKcat($"-C -b {kafka.BootstrapServers} -t {ours} -o beginning -e -q -f %s\\n", stdin: null);
        var lines = consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1000, lines.Length);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => "ours-" + i).Order(), lines.Order());

        var input = string.Join('\n', Enumerable.Range(0, 1000).Select(i => $"k{i}:theirs-{i}")) + "\n";
        await RunKcat($"-P -b {kafka.BootstrapServers} -t {theirs} -K :", stdin: input);

        var seen = new ConcurrentQueue<string>();
        var control = KafkaConsumer.PlainSource(ConsumerSettings(kafka, UniqueName("g")), Subscriptions.Topics(theirs))
            .Select(r => { seen.Enqueue(r.Message.Key + "=" + r.Message.Value); return NotUsed.Instance; })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Left)
            .Run(_materializer);
        await AwaitAssertAsync(() => Assert.Equal(1000, seen.Count), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        await control.Shutdown();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"k{i}=theirs-{i}").Order(), seen.Order());
    }

    private static async Task<string> RunKcat(string arguments, string? stdin)
    {
        var kcat = new[] { "/usr/bin/kcat", "/usr/bin/kafkacat" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("kcat is not installed (apt-get install kcat; .ci/run installs it)");
        var info = new ProcessStartInfo(kcat, arguments)
        {
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
                process.StandardInput.Close();
            }
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, $"kcat {arguments} exited {process.ExitCode}: {await stderr}");
            return await stdout;
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
