using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>The <c>nwdp</c> command line and the <c>nwdp broker</c> verb, as separate processes.</summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class CliProcessSpecs(ITestOutputHelper output)
{
    private sealed record Outcome(int ExitCode, string Stdout, string Stderr, ChildProcess Process);

    /// <summary>Runs <c>nwdp ARGS</c> to its exit (bounded) and returns what it printed.</summary>
    private static async Task<Outcome> RunAsync(params string[] args)
    {
        await using var child = ChildProcess.StartNwdp("nwdp " + string.Join(' ', args), args);
        var code = await child.WaitForExitAsync(Limits.ShortVerb);
        return new Outcome(code, string.Join('\n', child.Stdout), string.Join('\n', child.Stderr), child);
    }

    [Fact]
    public async Task Every_verb_has_help_and_bad_flags_name_the_flag()
    {
        string[] verbs = ["run", "broker", "bench"];
        // Independent short-lived processes: start them together.
        var overviewTask = RunAsync("--help");
        var helpTasks = verbs.Select(v => RunAsync(v, "--help")).ToList();
        var badHttpTask = RunAsync("run", "--http", "nonsense");
        var badEventsTask = RunAsync("bench", "--events", "abc");
        var unknownFlagTask = RunAsync("run", "--bogus-flag", "1");
        var unknownVerbTask = RunAsync("frobnicate", "--now");
        await Task.WhenAll([overviewTask, badHttpTask, badEventsTask, unknownFlagTask, unknownVerbTask, .. helpTasks]);

        var overview = await overviewTask;
        Assert.True(overview.ExitCode == 0, $"nwdp --help exited {overview.ExitCode}. {overview.Process.Describe()}");
        Assert.Contains("Usage: nwdp", overview.Stdout);
        foreach (var verb in verbs)
            Assert.True(overview.Stdout.Split('\n').Any(l => l.StartsWith("  " + verb + " ", StringComparison.Ordinal)),
                $"nwdp --help does not list '{verb}':\n{overview.Stdout}");

        foreach (var (verb, task) in verbs.Zip(helpTasks))
        {
            var help = await task;
            Assert.True(help.ExitCode == 0, $"nwdp {verb} --help exited {help.ExitCode}. {help.Process.Describe()}");
            Assert.StartsWith($"Usage: nwdp {verb}", help.Stdout);
            Assert.Contains("--help", help.Stdout);
        }

        var badHttp = await badHttpTask;
        Assert.True(badHttp.ExitCode == 2, $"nwdp run --http nonsense exited {badHttp.ExitCode}, not 2. {badHttp.Process.Describe()}");
        Assert.Contains("'--http'", badHttp.Stderr);
        Assert.Contains("nonsense", badHttp.Stderr);
        Assert.DoesNotContain("ready", badHttp.Stdout);

        var badEvents = await badEventsTask;
        Assert.True(badEvents.ExitCode == 2, $"nwdp bench --events abc exited {badEvents.ExitCode}, not 2. {badEvents.Process.Describe()}");
        Assert.Contains("'--events'", badEvents.Stderr);
        Assert.Contains("abc", badEvents.Stderr);

        var unknownFlag = await unknownFlagTask;
        Assert.True(unknownFlag.ExitCode == 2, $"nwdp run --bogus-flag exited {unknownFlag.ExitCode}, not 2. {unknownFlag.Process.Describe()}");
        Assert.Contains("'--bogus-flag'", unknownFlag.Stderr);

        var unknownVerb = await unknownVerbTask;
        Assert.True(unknownVerb.ExitCode == 2, $"nwdp frobnicate exited {unknownVerb.ExitCode}, not 2. {unknownVerb.Process.Describe()}");
        Assert.Contains("frobnicate", unknownVerb.Stderr);
        Assert.Contains("--help", unknownVerb.Stderr);
        output.WriteLine(badHttp.Stderr);
        output.WriteLine(badEvents.Stderr);
        output.WriteLine(unknownVerb.Stderr);
    }

    [Fact]
    public async Task Broker_verb_answers_fault_commands_and_serves_kafka()
    {
        await using var broker = await BrokerProcess.StartAsync("broker", "--brokers", "2");
        output.WriteLine("bootstrap " + broker.Bootstrap);
        Assert.Matches(@"^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$", broker.Bootstrap);

        Assert.Equal("ok topic t1", await broker.CommandAsync("topic t1 4"));
        Assert.Equal("ok down 1", await broker.CommandAsync("down 1"));
        Assert.Equal("ok up 1", await broker.CommandAsync("up 1"));
        Assert.Equal("ok rtt 2 10", await broker.CommandAsync("rtt 2 10"));
        var bogus = await broker.CommandAsync("bogus");
        Assert.StartsWith("error: ", bogus);
        Assert.Contains("'bogus'", bogus);
        var notANumber = await broker.CommandAsync("down x");
        Assert.StartsWith("error: ", notANumber);
        Assert.Contains("'x'", notANumber);

        // A real Kafka client in this process talks to the broker in the other one.
        Librdkafka.EnsureLoaded();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            var metadata = admin.GetMetadata("t1", TimeSpan.FromSeconds(20));
            Assert.Equal(2, metadata.Brokers.Count);
            Assert.Equal(4, Assert.Single(metadata.Topics).Partitions.Count);
        }

        var value = "hello-" + Guid.NewGuid().ToString("N");
        DeliveryResult<string, string> delivered;
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
               {
                   BootstrapServers = broker.Bootstrap,
                   Acks = Acks.All,
                   EnableIdempotence = true,
                   MessageTimeoutMs = 30_000,
               }).Build())
        {
            delivered = await producer.ProduceAsync("t1", new Message<string, string> { Key = "k1", Value = value });
        }
        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        Assert.InRange(delivered.Partition.Value, 0, 3);

        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
               {
                   BootstrapServers = broker.Bootstrap,
                   GroupId = "process-specs-" + Guid.NewGuid().ToString("N")[..8],
                   EnableAutoCommit = false,
               }).Build())
        {
            consumer.Assign(delivered.TopicPartitionOffset);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            ConsumeResult<string, string>? record = null;
            while (record is null)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no record consumed from {delivered.TopicPartitionOffset} within 30 s. {broker.Child.Describe()}");
                record = await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(500)));
            }
            Assert.Equal(("k1", value), (record.Message.Key, record.Message.Value));
            consumer.Close();
        }

        Assert.Equal("ok quit", await broker.CommandAsync("quit"));
        var exitCode = await broker.Child.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.True(exitCode == 0, $"nwdp broker exited {exitCode} after quit. {broker.Child.Describe()}");
    }
}
