using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Sharding;

/// <summary>
/// What this machine can show of a larger cluster (docs/scaling.md): N actor systems in one process, each a cluster
/// member on loopback with one shard region (100 shards, 1,000 entities), as the node's regions are. Measures the time
/// until every member is Up, until every entity answers, and, after one member crashes and is downed, until every
/// entity answers again from the survivors (the shard hand-over). Not a test: run it on purpose
/// (<c>--filter "FullyQualifiedName~ClusterScalingBenchmarks"</c>), with the machine's load noted.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class ClusterScalingBenchmarks(ITestOutputHelper output)
{
    private const int Shards = 100;
    private const int Entities = 1_000;

    private sealed record Ping(int Entity);

    private sealed record Pong(int Entity, Address From);

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<Ping>(p => Sender.Tell(new Pong(p.Entity, Cluster.Get(Context.System).SelfAddress)));
    }

    private sealed class Extractor : HashCodeMessageExtractor
    {
        public Extractor() : base(Shards)
        {
        }

        public override string EntityId(object message) => message is Ping p ? p.Entity.ToString(System.Globalization.CultureInfo.InvariantCulture) : null!;
    }

    private static Config Config(string? seed) => ConfigurationFactory.ParseString($$"""
        akka.loglevel = WARNING
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.cluster.seed-nodes = [{{(seed is null ? "" : "\"" + seed + "\"")}}]
        akka.cluster.sharding.state-store-mode = ddata
        akka.cluster.sharding.remember-entities = off
        # a crashed member is downed by the benchmark at once: the split-brain resolver's stable-after (20 s in the node)
        # is added to what is measured here, see docs/scaling.md
        akka.cluster.downing-provider-class = ""
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """).WithFallback(ClusterSharding.DefaultConfig());

    [Theory]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(20)]
    public async Task Join_first_answers_and_hand_over_after_a_crash(int members)
    {
        var systems = new List<ActorSystem>();
        try
        {
            var clock = Stopwatch.StartNew();
            var first = ActorSystem.Create("scale", Config(null));
            systems.Add(first);
            var seed = Cluster.Get(first).SelfAddress.ToString();
            Cluster.Get(first).Join(Cluster.Get(first).SelfAddress);
            for (var i = 1; i < members; i++) systems.Add(ActorSystem.Create("scale", Config(seed)));
            await Wait.UntilAsync(() => systems.All(s => Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == members),
                TimeSpan.FromMinutes(5), () => string.Join(", ", systems.Select(s => Cluster.Get(s).State.Members.Count)));
            var joined = clock.Elapsed;

            var regions = new List<IActorRef>();
            foreach (var s in systems)
                regions.Add(await ClusterSharding.Get(s).StartAsync("probe", Props.Create<Echo>(), ClusterShardingSettings.Create(s), new Extractor()));
            clock.Restart();
            var homes = await PingAll(regions[0]);
            var firstAnswers = clock.Elapsed;
            var spread = homes.GroupBy(h => h.Value).Select(g => g.Count()).ToList();

            // The member holding the most entities (never the first, whose region we ask) crashes: terminated without
            // leaving, then downed by the first, as the split-brain resolver would after stable-after.
            var victimAddress = homes.Values.Where(a => a != Cluster.Get(first).SelfAddress).GroupBy(a => a).OrderByDescending(g => g.Count()).First().Key;
            var victim = systems.Single(s => Cluster.Get(s).SelfAddress == victimAddress);
            var moved = homes.Count(h => h.Value == victimAddress);
            clock.Restart();
            await victim.Terminate();
            systems.Remove(victim);
            Cluster.Get(first).Down(victimAddress);
            await Wait.UntilAsync(() => systems.All(s => Cluster.Get(s).State.Members.All(m => m.Address != victimAddress)), TimeSpan.FromMinutes(2));
            var removed = clock.Elapsed;
            var after = await PingAll(regions[0], until: TimeSpan.FromMinutes(3));
            var handedOver = clock.Elapsed;
            Assert.DoesNotContain(victimAddress, after.Values);

            output.WriteLine($"members {members}: all Up in {joined.TotalSeconds:0.00} s; {Entities} entities in {Shards} shards first answered in " +
                             $"{firstAnswers.TotalSeconds:0.00} s (entities per member {spread.Min()}-{spread.Max()}); crash of a member with {moved} entities: " +
                             $"removed everywhere {removed.TotalSeconds:0.00} s after the down, every entity answering again after {handedOver.TotalSeconds:0.00} s; " +
                             $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        }
        finally
        {
            await Task.WhenAll(systems.Select(s => s.Terminate()));
        }
    }

    /// <summary>Asks every entity once (retrying those that do not answer in 3 s) and returns where each lives.</summary>
    private static async Task<Dictionary<int, Address>> PingAll(IActorRef region, TimeSpan? until = null)
    {
        var homes = new Dictionary<int, Address>();
        var deadline = DateTime.UtcNow + (until ?? TimeSpan.FromMinutes(2));
        while (homes.Count < Entities)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Entities - homes.Count} entities did not answer");
            var asks = Enumerable.Range(0, Entities).Where(e => !homes.ContainsKey(e))
                .Select(async e =>
                {
                    try
                    {
                        return await region.Ask<Pong>(new Ping(e), TimeSpan.FromSeconds(3));
                    }
                    catch (AskTimeoutException)
                    {
                        return null;
                    }
                }).ToList();
            foreach (var pong in await Task.WhenAll(asks))
                if (pong is not null) homes[pong.Entity] = pong.From;
        }
        return homes;
    }
}
