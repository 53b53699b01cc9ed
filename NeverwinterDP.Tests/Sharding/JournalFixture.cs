using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql;
using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Host.Node;
using Xunit;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Watchdog;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Tests.TestKit;
using NeverwinterDP.Protocol.AtRest;

namespace NeverwinterDP.Tests.Sharding;

/// <summary>
/// A small journal of every persistent entity kind (emitter with events and with a snapshot, watchdog online and
/// offline, spillover with two batches), written with the entities themselves on SQLite, and what each entity
/// must say once it recovered from it. The committed fixtures under <c>Fixtures/</c> were written by
/// <see cref="WriteAsync"/> (see <see cref="JournalSerializationSpecs"/>).
/// </summary>
internal static class JournalFixture
{
    public static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    public const string SpillTopic = "nwdp.logs.fixture";

    private static long AtMs => At.ToUnixTimeMilliseconds();

    private static readonly SourceActivity Web1 = new("web-1/nginx", "web-1", "nginx", AtMs - 5_000, AtMs - 4_000, "1.25",
        new Dictionary<string, long> { ["access"] = 3, ["error"] = 1 }, 4, 400, 4);

    private static readonly SourceActivity Web2 = new("web-1/nginx", "web-1", "nginx", AtMs - 3_000, AtMs - 1_000, "1.26",
        new Dictionary<string, long> { ["access"] = 2 }, 2, 250, 6);

    private static readonly SourceActivity Api1 = new("api-1/java", "api-1", "java", AtMs - 9_000, AtMs - 8_000, "",
        new Dictionary<string, long> { ["app"] = 7 }, 7, 700, 7);

    private static readonly SourceActivity Api2 = new("api-1/java", "api-1", "java", AtMs - 7_000, AtMs - 6_000, "17",
        new Dictionary<string, long> { ["app"] = 1, ["gc"] = 2 }, 3, 300, 10);

    private static readonly SpilledRecord[] FirstBatch = [new("k1"u8.ToArray(), [0, 0, 0, 0, 1, 2, 3]), new(null, [0, 0, 0, 0, 1, 4])];
    private static readonly SpilledRecord[] SecondBatch = [new("k2"u8.ToArray(), [0, 0, 0, 0, 1, 9, 9, 9])];

    /// <summary>The actor system the fixtures are written and read with: the node's persistence and serializers (as <c>WithNodeMessages</c> and <c>WithSpillover</c> bind them), nothing else.</summary>
    /// <param name="spillKeys">The spill keys the serializer seals and opens batches with (none: in the clear, as the fixtures are).</param>
    public static ActorSystem StartSystem(string dbPath, string name, SpillKeyRing? spillKeys = null) =>
        ActorSystem.Create(name, BootstrapSetup.Create().WithConfig(StartSystemConfig(dbPath)).And(LegacyTypeNames.JsonSetup).And(new SpillKeysSetup(spillKeys ?? SpillKeyRing.None)));

    /// <summary>The configuration of <see cref="StartSystem"/>: the node's persistence on <paramref name="dbPath"/> and its serializers.</summary>
    public static Config StartSystemConfig(string dbPath)
    {
        var persistence = new PersistenceOptions("sqlite", $"Data Source={dbPath};Pooling=False");
        // On a loaded machine (CI under load) the first query of a fresh process (linq2db compiles it, SQLite opens the
        // file) can pass the journal's default 10 s breaker; recovery then fails and the entity never answers.
        var config = ConfigurationFactory.ParseString("""
                akka.persistence.journal.sql.circuit-breaker.call-timeout = 60s
                akka.persistence.snapshot-store.sql.circuit-breaker.call-timeout = 60s
                akka.persistence.journal-plugin-fallback.recovery-event-timeout = 60s
                """)
            .WithFallback(ConfigurationFactory.ParseString(persistence.ToHocon()))
            .WithFallback(ConfigurationFactory.ParseString(SpillSerializer.Hocon))
            .WithFallback(ConfigurationFactory.ParseString(NodeMessageSerializer.Hocon))
            .WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING"))
            .WithFallback(SqlPersistence.DefaultConfiguration);
        return config;
    }

    public static SpillContext SpillContextFor(TimeProvider clock, string quarantineDir) =>
        new(new SpillOptions
        {
            Enabled = true, After = TimeSpan.FromSeconds(5), QuotaBytes = 1L << 30, ProbeInterval = TimeSpan.FromSeconds(1),
            ReplayRate = 50_000, ReplayInterval = TimeSpan.FromMilliseconds(200),
        }, new SpillQuota(1L << 30), new BusCircuit(TimeSpan.FromSeconds(1), clock), null, [], clock, quarantineDir);

    /// <summary>Writes the journal with the entities as they are (whatever serializers the code binds).</summary>
    public static async Task WriteAsync(string dbPath)
    {
        var clock = new ManualClock(At - TimeSpan.FromMinutes(1));
        var system = StartSystem(dbPath, "fixture-writer");
        try
        {
            var timeout = TimeSpan.FromSeconds(90); // a bound on a hang, not a speed check

            // Emitter web-1/nginx: two events.
            var web = system.ActorOf(EmitterEntity.PropsFor("web-1/nginx"));
            web.Tell(Web1);
            web.Tell(Web2);
            Assert.IsType<SourceInfo>(await web.Ask<object>(new GetSource("web-1/nginx"), timeout));

            // Emitter api-1/java: two events, then a snapshot of its state, then the events deleted: only the snapshot brings it back.
            var api = system.ActorOf(EmitterEntity.PropsFor("api-1/java"));
            api.Tell(Api1);
            api.Tell(Api2);
            Assert.IsType<SourceInfo>(await api.Ask<object>(new GetSource("api-1/java"), timeout));
            await api.GracefulStop(timeout);
            var persistence = Akka.Persistence.Persistence.Instance.Apply(system);
            var state = new EmitterState("api-1/java", "api-1", "java", Api1.FirstSeenMs, Api1.LastSeenMs, Api1.Version,
                new Dictionary<string, long>(Api1.EventsByType), Api1.Events, Api1.Bytes, Api1.LastSourceSeq).Add(Api2);
            var probe = system.ActorOf(Props.Create(() => new Relay()));
            var saved = await probe.Ask<object>(new Relay.Send(persistence.SnapshotStoreFor(null),
                new SaveSnapshot(new SnapshotMetadata(EmitterEntity.TypeName + "|api-1/java", 2, At.UtcDateTime), state)), timeout);
            Assert.IsType<SaveSnapshotSuccess>(saved);
            var deleted = await probe.Ask<object>(new Relay.Send(persistence.JournalFor(null),
                new DeleteMessagesTo(EmitterEntity.TypeName + "|api-1/java", 2, probe)), timeout);
            Assert.IsType<DeleteMessagesSuccess>(deleted);

            // Watchdog: web-1 beats and stays online; db-1 beats, then goes offline when the clock passes its deadline.
            var options = new WatchdogOptions { Clock = clock, CheckInterval = TimeSpan.FromMilliseconds(20), OfflineAfter = TimeSpan.FromSeconds(30), PersistBeatsEvery = TimeSpan.FromSeconds(5) };
            var db1 = system.ActorOf(WatchdogEntity.PropsFor("db-1", options, NoPublisher.Instance));
            db1.Tell(new HostBeat("db-1", "postgres", AtMs - 60_000, 5_000, IsHeartbeat: true));
            Assert.IsType<HostStatus>(await db1.Ask<object>(new GetHostStatus("db-1"), timeout));
            clock.Advance(TimeSpan.FromMinutes(1));
            await Wait.UntilAsync(async () => await db1.Ask<object>(new GetHostStatus("db-1"), timeout) is HostStatus { Online: false }, timeout);
            var web1 = system.ActorOf(WatchdogEntity.PropsFor("web-1", options, NoPublisher.Instance));
            web1.Tell(new HostBeat("web-1", "nginx", AtMs - 2_000, 0, IsHeartbeat: false));
            web1.Tell(new HostBeat("web-1", "agent", AtMs - 1_000, 10_000, IsHeartbeat: true));
            Assert.IsType<HostStatus>(await web1.Ask<object>(new GetHostStatus("web-1"), timeout));

            // Spillover: a batch, and a batch whose produce may have reached the bus.
            var spill = system.ActorOf(SpilloverEntity.PropsFor(SpillTopic, SpillContextFor(clock, Path.Combine(Path.GetDirectoryName(dbPath)!, "quarantine"))));
            Assert.IsType<SpillAccepted>(await spill.Ask<object>(new SpillBatch(SpillTopic, FirstBatch), timeout));
            Assert.IsType<SpillAccepted>(await spill.Ask<object>(new SpillBatch(SpillTopic, SecondBatch, new Dictionary<int, long> { [0] = 41, [2] = 7 }), timeout));
        }
        finally
        {
            await system.Terminate();
        }
        SqliteConnection.ClearAllPools();
        await using var db = new SqliteConnection($"Data Source={dbPath};Pooling=False");
        await db.OpenAsync();
        await using var vacuum = db.CreateCommand();
        vacuum.CommandText = "VACUUM";
        await vacuum.ExecuteNonQueryAsync();
    }

    /// <summary>Starts every entity of the journal at <paramref name="dbPath"/> and checks what each recovered.</summary>
    public static async Task AssertRecoversAsync(string dbPath)
    {
        var clock = new ManualClock(At);
        var system = StartSystem(dbPath, "fixture-reader");
        try
        {
            var timeout = TimeSpan.FromSeconds(90); // a bound on a hang, not a speed check

            var web = await system.ActorOf(EmitterEntity.PropsFor("web-1/nginx")).Ask<object>(new GetSource("web-1/nginx"), timeout);
            var webInfo = Assert.IsType<SourceInfo>(web);
            Assert.Equal(("web-1", "nginx", AtMs - 5_000, AtMs - 1_000, "1.26"), (webInfo.Host, webInfo.Process, webInfo.FirstSeenMs, webInfo.LastSeenMs, webInfo.Version));
            Assert.Equal((6L, 650L, 6L), (webInfo.Events, webInfo.Bytes, webInfo.LastSourceSeq));
            Assert.Equal(new Dictionary<string, long> { ["access"] = 5, ["error"] = 1 }, webInfo.EventsByType.ToDictionary());

            var api = await system.ActorOf(EmitterEntity.PropsFor("api-1/java")).Ask<object>(new GetSource("api-1/java"), timeout);
            var apiInfo = Assert.IsType<SourceInfo>(api);
            Assert.Equal(("api-1", "java", AtMs - 9_000, AtMs - 6_000, "17"), (apiInfo.Host, apiInfo.Process, apiInfo.FirstSeenMs, apiInfo.LastSeenMs, apiInfo.Version));
            Assert.Equal((10L, 1000L, 10L), (apiInfo.Events, apiInfo.Bytes, apiInfo.LastSourceSeq));
            Assert.Equal(new Dictionary<string, long> { ["app"] = 8, ["gc"] = 2 }, apiInfo.EventsByType.ToDictionary());

            // A long check interval: the recovered state is what is asked, not what the clock makes of it later.
            var options = new WatchdogOptions { Clock = clock, CheckInterval = TimeSpan.FromHours(1), OfflineAfter = TimeSpan.FromSeconds(30), PersistBeatsEvery = TimeSpan.FromSeconds(5) };
            var db1 = Assert.IsType<HostStatus>(await system.ActorOf(WatchdogEntity.PropsFor("db-1", options, NoPublisher.Instance))
                .Ask<object>(new GetHostStatus("db-1"), timeout));
            Assert.False(db1.Online);
            Assert.Equal(AtMs - 60_000, db1.LastHeartbeatMs);
            Assert.Equal(["postgres"], db1.Processes);
            Assert.Equal(AtMs, db1.ChangedAtMs);
            var web1 = Assert.IsType<HostStatus>(await system.ActorOf(WatchdogEntity.PropsFor("web-1", options, NoPublisher.Instance))
                .Ask<object>(new GetHostStatus("web-1"), timeout));
            Assert.True(web1.Online);
            Assert.Equal(AtMs - 1_000, web1.LastHeartbeatMs);
            Assert.Equal(["agent", "nginx"], web1.Processes);
            Assert.Equal(AtMs - 1_000 + 30_000, web1.DeadlineMs);

            var spill = system.ActorOf(SpilloverEntity.PropsFor(SpillTopic, SpillContextFor(clock, Path.Combine(Path.GetDirectoryName(dbPath)!, "quarantine"))));
            var status = await spill.Ask<SpillStatus>(new GetSpillStatus(SpillTopic), timeout);
            Assert.Equal((2, 3L, AtMs, 0L), (status.Batches, status.Events, status.OldestSpilledAtMs, status.QuarantinedBatches));
            Assert.Equal(FirstBatch.Concat(SecondBatch).Sum(r => (long)r.Value.Length + (r.Key?.Length ?? 0)), status.Bytes);
        }
        finally
        {
            await system.Terminate();
            SqliteConnection.ClearAllPools();
        }
    }

    private sealed class NoPublisher : IWatchdogPublisher
    {
        public static readonly NoPublisher Instance = new();

        public void Publish(WatchdogTransition transition)
        {
        }
    }

    /// <summary>Sends a message to a persistence plugin and answers the asker with the plugin's reply.</summary>
    private sealed class Relay : ReceiveActor
    {
        public sealed record Send(IActorRef To, object Message);

        private IActorRef? _asker;

        public Relay()
        {
            Receive<Send>(s =>
            {
                _asker = Sender;
                s.To.Tell(s.Message, Self);
            });
            ReceiveAny(m => _asker?.Tell(m));
        }
    }
}
