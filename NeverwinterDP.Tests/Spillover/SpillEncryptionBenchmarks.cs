using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Client;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.AtRest;
using NeverwinterDP.Tests.Sharding;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Spillover;

/// <summary>
/// What encryption at rest costs a spill write: the node's spillover entity (SQLite journal) taking 100 batches of
/// 1000 records of ~250 bytes (8 asks in flight), and the EmitterClient's store appending 100 batches of 1000 events
/// (fsync per batch, as the sender does), each in the clear and sealed, alternately five times; the median of each. The machine's noise can hide
/// the difference: the sealing alone (AES-GCM over the same payloads, no I/O) is timed too, to say what it adds per batch.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class SpillEncryptionBenchmarks(ITestOutputHelper output)
{
    private const int Batches = 100, PerBatch = 1000, Runs = 5;

    [Fact]
    public async Task Node_spill_write_throughput_in_the_clear_and_sealed()
    {
        var keys = new SpillKeyRing(SpillKey.Parse(SpillKey.NewText(), "bench"), [], seals: true);
        var records = Enumerable.Range(0, PerBatch)
            .Select(i => new SpilledRecord(Encoding.UTF8.GetBytes($"h{i % 64}"), Encoding.UTF8.GetBytes(new string('x', 200) + $"{{\"msg\":\"event {i}\"}}"))).ToList();
        var rates = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        for (var run = 0; run < Runs; run++)
        {
            foreach (var sealedRun in new[] { false, true })
            {
                using var dir = new TempDir();
                var system = JournalFixture.StartSystem(Path.Combine(dir.Path, "state.db"), "bench", sealedRun ? keys : SpillKeyRing.None);
                try
                {
                    var clock = new ManualClock(JournalFixture.At);
                    var entity = system.ActorOf(SpilloverEntity.PropsFor("bench", JournalFixture.SpillContextFor(clock, Path.Combine(dir.Path, "q"))));
                    await entity.Ask<SpillStatus>(new GetSpillStatus("bench"), TimeSpan.FromMinutes(1)); // recovered
                    var next = -1;
                    var watch = Stopwatch.StartNew();
                    await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
                    {
                        while (Interlocked.Increment(ref next) < Batches)
                            Assert.IsType<SpillAccepted>(await entity.Ask<object>(new SpillBatch("bench", records), TimeSpan.FromMinutes(1)));
                    }));
                    var rate = Batches * PerBatch / watch.Elapsed.TotalSeconds;
                    rates[sealedRun].Add(rate);
                    output.WriteLine($"node, {(sealedRun ? "sealed" : "clear ")}: {rate:F0} events/s");
                }
                finally
                {
                    await system.Terminate();
                    SqliteConnection.ClearAllPools();
                }
            }
        }
        Summary("node", rates);
    }

    [Fact]
    public void Client_spill_write_throughput_in_the_clear_and_sealed()
    {
        var keys = new SpillKeyRing(SpillKey.Parse(SpillKey.NewText(), "bench"), [], seals: true);
        var events = Enumerable.Range(0, PerBatch).Select(i => ClientTestKit.Event("bench", "h", i, "spill") with { Lineage = new Lineage("", i + 1) }).ToList();
        var rates = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        for (var run = 0; run < Runs; run++)
        {
            foreach (var sealedRun in new[] { false, true })
            {
                using var dir = new TempDir();
                using var store = EmitterSpillStore.Open(dir.Path, 1L << 30, 64L << 20, new EmitterClientMetrics(), sealedRun ? keys : SpillKeyRing.None);
                var watch = Stopwatch.StartNew();
                for (var b = 0; b < Batches; b++)
                {
                    Assert.True(store.TryAppend("h", "worker", events, null, out _));
                    store.Sync();
                }
                var rate = Batches * PerBatch / watch.Elapsed.TotalSeconds;
                rates[sealedRun].Add(rate);
                output.WriteLine($"client, {(sealedRun ? "sealed" : "clear ")}: {rate:F0} events/s");
            }
        }
        Summary("client", rates);
        var payload = EmitterSpillStore.EncodePayload("h", "worker", events, null);
        for (var b = 0; b < 20; b++) keys.Open(keys.Seal(0x10, payload)); // warm
        var seal = Stopwatch.StartNew();
        for (var b = 0; b < 10 * Batches; b++) keys.Open(keys.Seal(0x10, payload));
        seal.Stop();
        output.WriteLine($"sealing alone (and opening): {payload.Length} bytes a batch of {PerBatch} events, {seal.Elapsed.TotalMilliseconds * 1000 / (10 * Batches):F0} µs per batch, " +
                         $"{(double)payload.Length * 10 * Batches / seal.Elapsed.TotalSeconds / (1 << 20):F0} MiB/s");
    }

    private void Summary(string store, Dictionary<bool, List<double>> rates)
    {
        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        output.WriteLine($"{store} spill writes, median of {Runs}: clear {Median(rates[false]):F0} events/s, sealed {Median(rates[true]):F0} events/s, " +
                         $"sealed/clear = {Median(rates[true]) / Median(rates[false]):F2}");
    }
}
