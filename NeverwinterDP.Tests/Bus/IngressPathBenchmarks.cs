using System.Diagnostics;
using Akka.Actor;
using Confluent.Kafka;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Stats;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Host.Bench;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Bus;

/// <summary>
/// The ingress path's cost per event, step by step: CPU time of the whole process (GC threads included) and bytes
/// allocated, per event, for bodies of 100 bench events of 200 B (what <c>nwdp bench</c> sends). Printed, never
/// asserted; the table in docs/performance.md comes from here. Run:
/// <c>dotnet test -c Release --filter "FullyQualifiedName~IngressPathBenchmarks" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class IngressPathBenchmarks(ITestOutputHelper output)
{
    private const int EventsPerBody = 100;

    private static readonly IngressContext Context = new(null, "10.0.0.9", "10.0.0.9", "node-1", 1_700_000_000_000);

    private static byte[][] Bodies(int count)
    {
        var generator = new BenchEventGenerator("perf");
        var bodies = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var buffer = new byte[generator.BufferSize(EventsPerBody)];
            var length = generator.Write(buffer, (long)i * EventsPerBody, EventsPerBody, 1_700_000_000_000 + i);
            bodies[i] = buffer[..length];
        }
        return bodies;
    }

    [Fact]
    public async Task Cost_per_event_of_each_step()
    {
        var bodies = Bodies(1000);
        var parsed = bodies.Select(b => EventParser.Parse(b, ContentKind.Ndjson, Context).Events).ToArray();

        Step("parse NDJSON into LogEvents", 100_000, i => EventParser.Parse(bodies[i % bodies.Length], ContentKind.Ndjson, Context));
        Step("route, key and Avro-encode (records)", 100_000, i => EventIngress.ToRecords(parsed[i % parsed.Length], null));

        using var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
        var observers = new (string Name, IIngressObserver Observer)[]
        {
            ("emitter registry", new EmitterRegistry(system, ActorRefs.Nobody, ActorRefs.Nobody, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30))),
            ("per-minute stats", new StatsCounter(new StatsOptions(), TimeProvider.System)),
        };
        foreach (var (name, observer) in observers)
            Step("observer: " + name, 100_000, i =>
            {
                observer.Accepted(parsed[i % parsed.Length]);
                observer.WrittenToBus(parsed[i % parsed.Length]);
            });

        using var kafka = new EmbeddedKafka();
        var settings = ProducerSettings<byte[]?, byte[]>.Create(system, Serializers.ByteArray, Serializers.ByteArray).WithBootstrapServers(kafka.BootstrapServers);
        var writer = new BusWriter(system, settings, new BusWriterOptions(1000, TimeSpan.FromSeconds(5), 0), new EmbeddedTopicProvisioner(kafka, 8));
        var records = parsed.Select(p => EventIngress.ToRecords(p, null)).ToArray();
        // Warm up (topic creation, JIT), then 64 concurrent requests as nwdp bench sends them.
        await writer.SubmitAsync(records[0], CancellationToken.None);
        const int requests = 20_000;
        var next = 0;
        var (cpu, allocated, wall) = await MeasureAsync(() => Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= requests)
            {
                var (outcome, error) = await writer.SubmitAsync(records[i % records.Length], CancellationToken.None);
                if (outcome != IngressOutcome.Durable) throw new InvalidOperationException($"{outcome}: {error}");
            }
        }))));
        Report("produce, acks=all, 64 requests in flight (BusWriter + embedded broker)", (long)requests * EventsPerBody, cpu, allocated, wall);
        await writer.StopAsync();
    }

    private void Step(string name, int bodies, Action<int> step)
    {
        for (var i = 0; i < 2000; i++) step(i);
        var (cpu, allocated, wall) = MeasureAsync(() =>
        {
            for (var i = 0; i < bodies; i++) step(i);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();
        Report(name, (long)bodies * EventsPerBody, cpu, allocated, wall);
    }

    private static async Task<(TimeSpan Cpu, long Allocated, TimeSpan Wall)> MeasureAsync(Func<Task> run)
    {
        GC.Collect();
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var wall = Stopwatch.StartNew();
        await run();
        wall.Stop();
        process.Refresh();
        return (process.TotalProcessorTime - cpu, GC.GetTotalAllocatedBytes(precise: true) - allocated, wall.Elapsed);
    }

    private void Report(string name, long events, TimeSpan cpu, long allocated, TimeSpan wall) =>
        output.WriteLine($"{name,-75} {cpu.TotalMicroseconds / events,6:F2} µs CPU/event {allocated / (double)events,7:F0} B/event {events / wall.TotalSeconds,12:N0} events/s");
}
