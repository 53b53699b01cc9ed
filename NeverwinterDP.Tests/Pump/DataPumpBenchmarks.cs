using System.Buffers;
using System.Diagnostics;
using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.Sinks.Compliance;
using NeverwinterDP.Tests.Sinks.Files;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Pump;

/// <summary>
/// The pump alone: a backlog of framed LogEvents (~200 bytes each) in the embedded broker, drained by a
/// <see cref="DataPump"/> into the files sink (NDJSON, fsync on, the pump's default batching). Prints events/s
/// and a per-event CPU breakdown of the steps measured one by one; asserts only that everything was committed.
/// Run: dotnet test -c Release --filter "FullyQualifiedName~DataPumpBenchmarks" --logger "console;verbosity=detailed".
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class DataPumpBenchmarks : Akka.TestKit.Xunit2.TestKit
{
    private readonly ITestOutputHelper _output;

    public DataPumpBenchmarks(ITestOutputHelper output) : base("akka.loglevel = WARNING", output: output) => _output = output;

    // Enough partitions that the mock broker's ~5 MB per partition holds the whole backlog.
    private const int Partitions = 32;
    private const int N = 500_000;

    [Fact]
    public async Task Drain_a_backlog_of_200_byte_events_into_files()
    {
        using var kafka = new EmbeddedKafka();
        var topic = TopicNames.ForType("bench-" + Guid.NewGuid().ToString("N")[..8]);
        kafka.CreateTopic(topic, Partitions);
        var values = Enumerable.Range(0, 1000).Select(i => LogEventAvro.EncodeFramed(FilesSinkBenchmarks.TypicalEvent(i))).ToArray();
        using (var producer = ProducerSettings<byte[], byte[]>.Create(Serializers.ByteArray, Serializers.ByteArray)
                   .WithBootstrapServers(kafka.BootstrapServers).WithProperty("linger.ms", "20").CreateKafkaProducer())
        {
            for (var i = 0; i < N; i++)
            {
                while (true)
                {
                    try
                    {
                        producer.Produce(new TopicPartition(topic, i % Partitions), new Message<byte[], byte[]> { Value = values[i % values.Length] });
                        break;
                    }
                    catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(10));
                    }
                }
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }
        _output.WriteLine($"{N:N0} framed LogEvents of {values.Average(v => v.Length):N0} bytes in {Partitions} partitions");

        // Warm up (JIT) with a first pump that drains the topic in a group of its own; the measured one starts over.
        using (var warmDir = new TempDir())
        {
            var warm = Pump(kafka, topic, warmDir.Path, "warm-up");
            await warm.StartAsync(CancellationToken.None);
            while (warm.Stats.Committed < N) await Task.Delay(20);
            await warm.StopAsync();
        }

        using var dir = new TempDir();
        var pump = Pump(kafka, topic, dir.Path, "measured");
        var threadsBefore = ThreadCpu();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await pump.StartAsync(CancellationToken.None);
        TimeSpan? first = null;
        while (pump.Stats.Committed < N)
        {
            if (first is null && pump.Stats.Delivered > 0) first = watch.Elapsed;
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(5), $"only {pump.Stats.Committed:N0} committed");
            await Task.Delay(5);
        }
        var elapsed = watch.Elapsed;
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var threadsAfter = ThreadCpu();
        await pump.StopAsync();
        Assert.Equal(N, pump.Stats.Delivered);
        _output.WriteLine($"pump alone into files (ndjson, fsync on, after a warm-up drain): {N / elapsed.TotalSeconds:N0} events/s from start " +
                         $"({N / (elapsed - (first ?? TimeSpan.Zero)).TotalSeconds:N0} events/s after the first delivery, group join excluded); " +
                         $"{cpuUsed.TotalMicroseconds / N:N2} µs of CPU per event (whole process), {pump.Stats.Flushes} flushes, " +
                         $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1_048_576:N0} MiB");

        var byName = threadsAfter.Select(t => (t.Value.Name, Ticks: t.Value.Ticks - (threadsBefore.TryGetValue(t.Key, out var b) ? b.Ticks : 0)))
            .GroupBy(t => t.Name).Select(g => (Name: g.Key, Ticks: g.Sum(t => t.Ticks))).Where(g => g.Ticks > 0).OrderByDescending(g => g.Ticks);
        // /proc counts in clock ticks (100 per second).
        _output.WriteLine("CPU by thread (µs per event): " + string.Join(", ", byName.Select(g => $"{g.Name} {g.Ticks * 10_000.0 / N:N2}")));
        _output.WriteLine($"sink write time {pump.SinkMetrics.WriteTime.TotalMicroseconds / N:N2} µs per event (wall, decode excluded), {pump.SinkMetrics.Batches} batches");
        Breakdown(values);
    }

    /// <summary>User + system CPU of each thread of this process (Linux /proc), by thread id: (name, clock ticks).</summary>
    private static Dictionary<string, (string Name, long Ticks)> ThreadCpu()
    {
        var result = new Dictionary<string, (string, long)>();
        if (!Directory.Exists("/proc/self/task")) return result;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                // Group numbered threads (".NET TP Worker", "rdk:broker12") by their stem.
                name = System.Text.RegularExpressions.Regex.Replace(name, @"[0-9]+$", "#");
                result[Path.GetFileName(task)] = (name, long.Parse(fields[11]) + long.Parse(fields[12]));
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }
        return result;
    }

    private DataPump Pump(EmbeddedKafka kafka, string topic, string directory, string group)
    {
        var consumer = ConsumerSettings<Ignore, byte[]>.Create(Sys, Deserializers.Ignore, Deserializers.ByteArray)
            .WithBootstrapServers(kafka.BootstrapServers).WithGroupId("bench-" + group);
        return new DataPump(Sys, consumer, new FilesSink(new FilesSinkOptions { Directory = directory }), new PumpOptions
        {
            TopicPattern = "^" + System.Text.RegularExpressions.Regex.Escape(topic) + "$",
        }, new RecordingDeadLetters());
    }

    /// <summary>Single-threaded cost of the steps that do not need the broker: decode, encode as NDJSON.</summary>
    private void Breakdown(byte[][] values)
    {
        const int rounds = 500;
        var events = new LogEvent[values.Length];
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        for (var warm = 0; warm < 20; warm++)
            for (var i = 0; i < values.Length; i++)
            {
                events[i] = LogEventAvro.DecodeFramed(values[i]);
                LogEventJson.WriteLine(events[i], buffer);
                buffer.ResetWrittenCount();
            }
        var watch = Stopwatch.StartNew();
        for (var r = 0; r < rounds; r++)
            for (var i = 0; i < values.Length; i++) events[i] = LogEventAvro.DecodeFramed(values[i]);
        var decode = watch.Elapsed.TotalMicroseconds / (rounds * values.Length);
        watch.Restart();
        for (var r = 0; r < rounds; r++)
        {
            for (var i = 0; i < values.Length; i++) LogEventJson.WriteLine(events[i], buffer);
            buffer.ResetWrittenCount();
        }
        var encode = watch.Elapsed.TotalMicroseconds / (rounds * values.Length);
        _output.WriteLine($"per event, one thread: Avro decode {decode:N3} µs, NDJSON encode {encode:N3} µs");
    }
}
