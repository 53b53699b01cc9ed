using Akka.Actor;
using Akka.Configuration;
using NeverwinterDP.Actors.Alerts;
using NeverwinterDP.Actors.Journal;
using NeverwinterDP.Actors.Mirror;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Actors.Spillover;
using Xunit;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Watchdog;

namespace NeverwinterDP.Tests.Sharding;

/// <summary>Every message that is journaled or crosses nodes has a stable manifest, is bound to its serializer, and round-trips.</summary>
public sealed class NodeMessageSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("node-messages", ConfigurationFactory.ParseString(NodeMessageSerializer.Hocon)
        .WithFallback(ConfigurationFactory.ParseString(SpillSerializer.Hocon)));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    /// <summary>The stored contract: changing one of these breaks every journal that holds it (add a new manifest instead).</summary>
    private static readonly Dictionary<string, Type> Contract = new()
    {
        ["E1"] = typeof(SourceActivity),
        ["E2"] = typeof(EmitterState),
        ["E3"] = typeof(GetSource),
        ["E4"] = typeof(SourceInfo),
        ["E5"] = typeof(SourceUnknown),
        ["E6"] = typeof(SourceActivityAck),
        ["W1"] = typeof(HostBeat),
        ["W2"] = typeof(HostBeatRecorded),
        ["W3"] = typeof(HostWentOnline),
        ["W4"] = typeof(HostWentOffline),
        ["W5"] = typeof(GetHostStatus),
        ["W6"] = typeof(HostStatus),
        ["W7"] = typeof(HostUnknown),
        ["M1"] = typeof(EnsureMirror),
        ["M2"] = typeof(StopMirror),
        ["M3"] = typeof(PauseMirror),
        ["M4"] = typeof(ResumeMirror),
        ["M5"] = typeof(GetMirrorState),
        ["M6"] = typeof(MirrorState),
        ["M7"] = typeof(MirrorCommandFailed),
        ["P1"] = typeof(EnsureSinkWriter),
        ["P2"] = typeof(StopSinkWriter),
        ["O1"] = typeof(GetSpillStatus),
        ["O2"] = typeof(SpillStatus),
        ["A1"] = typeof(AlertFired),
        ["A2"] = typeof(AlertResolved),
        ["A3"] = typeof(AlertNotified),
        ["A4"] = typeof(AlertsSnapshot),
        ["A5"] = typeof(AlertNotification),
        ["A6"] = typeof(GetAlerts),
        ["A7"] = typeof(AlertsView),
        ["A8"] = typeof(ReloadAlerts),
        ["A9"] = typeof(AlertsReloaded),
        ["J1"] = typeof(GetJournalIdentity),
        ["J2"] = typeof(JournalIdentityAnswer),
    };

    private static readonly AlertNotification Alert = new("lag{sink=es}@1", AlertStatus.Firing, "lag{sink=es}", "lag", "critical",
        new Dictionary<string, string> { ["alertname"] = "lag", ["sink"] = "es" }, 42.5, "lag of sink es > 30s", 1, 2, 3, "akka.tcp://nwdp@h:1");

    /// <summary>One instance of every message type under the marker, every member set.</summary>
    private static readonly object[] SampleMessages =
    [
        new SourceActivity("web-1/nginx", "web-1", "nginx", 1, 2, "1.25", new Dictionary<string, long> { ["access"] = 3, ["error"] = 1 }, 4, 400, 9, "a1b2", 17),
        new EmitterState("web-1/nginx", "web-1", "nginx", 1, 2, "1.25", new Dictionary<string, long> { ["access"] = 3 }, 3, 300, 8)
            { Reported = new Dictionary<string, ReportMark> { ["a1b2"] = new(17, 2) } },
        new SourceActivityAck("web-1/nginx", "a1b2", 17),
        new GetSource("web-1/nginx"),
        new SourceInfo("web-1/nginx", "web-1", "nginx", 1, 2, "1.25", new Dictionary<string, long> { ["access"] = 3 }, 3, 300, 8),
        new SourceUnknown("web-9/x"),
        new HostBeat("web-1", "nginx", 1_700_000_000_000, 5_000, IsHeartbeat: true),
        new HostBeatRecorded("nginx", 1_700_000_000_000, 5_000),
        new HostWentOnline(1_700_000_000_001),
        new HostWentOffline(1_700_000_000_002, 1_700_000_000_000),
        new GetHostStatus("web-1"),
        new HostStatus("web-1", true, 10, 20, 5, ["agent", "nginx"]),
        new HostUnknown("web-9"),
        new EnsureMirror("dc1-to-dc2"),
        StopMirror.Instance,
        new PauseMirror("dc1-to-dc2"),
        new ResumeMirror("dc1-to-dc2"),
        new GetMirrorState("dc1-to-dc2"),
        new MirrorState("dc1-to-dc2", "akka.tcp://nwdp@h:1", "running", false, 10, 2, 3, 1, "timed out"),
        new MirrorCommandFailed("dc1-to-dc2", "the pause flag could not be written"),
        new EnsureSinkWriter("files/2"),
        StopSinkWriter.Instance,
        new GetSpillStatus("nwdp.logs.app"),
        new SpillStatus("nwdp.logs.app", 2, 30, 4_000, 1_700_000_000_000, 1, 10, 1, "waiting"),
        new AlertFired(Alert),
        new AlertResolved(Alert with { Status = AlertStatus.Resolved }),
        new AlertNotified("lag{sink=es}@1"),
        new AlertsSnapshot([Alert], [Alert]),
        Alert,
        GetAlerts.Instance,
        new AlertsView("akka.tcp://nwdp@h:1", 5, 6, [new AlertRuleView("lag", "sink-lag", "lag of sinks > 30s", 60, "critical", new Dictionary<string, string> { ["team"] = "data" })],
            [new AlertView("lag{sink=es}", "lag", AlertStatus.Firing, "critical", new Dictionary<string, string> { ["sink"] = "es" }, 42.5, 1, 2)], ["ops (json)"], 1,
            new Dictionary<string, string> { ["x"] = "kafka down" }),
        ReloadAlerts.Instance,
        new AlertsReloaded(false, "nwdp.alerts.rules.x.kind must be one of ...", 1, 0, "akka.tcp://nwdp@h:1"),
        GetJournalIdentity.Instance,
        new JournalIdentityAnswer("5c1f0e", "sqlite file /srv/cluster-state.db on box"),
    ];

    public static IEnumerable<object[]> Samples() => SampleMessages.Select(m => new[] { m });

    [Fact]
    public void Every_message_type_under_the_marker_has_the_manifest_of_the_contract()
    {
        // A new INodeMessage type fails here until it is added to the contract (and to the samples).
        Assert.Equal(Contract.OrderBy(kv => kv.Key), NodeMessageSerializer.Types.OrderBy(kv => kv.Key));
        Assert.Equal(Contract.Values.ToHashSet(), SampleMessages.Select(m => m.GetType()).ToHashSet());
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void A_message_round_trips_through_the_serializer_bound_to_it(object message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<NodeMessageSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        Assert.Equal(Contract.Single(kv => kv.Value == message.GetType()).Key, manifest);

        var back = _system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);

        Assert.IsType(message.GetType(), back);
        Assert.Equivalent(message, back, strict: true);
    }

    [Fact]
    public void A_singleton_message_comes_back_as_its_instance()
    {
        var serializer = _system.Serialization.FindSerializerFor(StopSinkWriter.Instance);
        Assert.Same(StopSinkWriter.Instance, _system.Serialization.Deserialize(serializer.ToBinary(StopSinkWriter.Instance), serializer.Identifier, "P2"));
    }

    [Fact]
    public void The_body_names_members_not_types()
    {
        var json = System.Text.Encoding.UTF8.GetString(_system.Serialization.FindSerializerFor(new HostWentOnline(5)).ToBinary(new HostWentOnline(5)));
        Assert.Equal("""{"atMs":5}""", json);
    }

    [Fact]
    public void The_spill_messages_stay_on_the_spill_serializer()
    {
        object[] spill =
        [
            new SpilledBatch("t", 1, [new SpilledRecord(null, [1])]), new SpillBatch("t", []), new SpillReplayed(1),
            new SpillReplayStarting(1, new Dictionary<int, long>()), new SpillQuarantined(1, "x"), new SpillAccepted("t", 1), new SpillRefused("t", "x"),
        ];
        Assert.All(spill, m => Assert.IsType<SpillSerializer>(_system.Serialization.FindSerializerFor(m)));
    }

    [Fact]
    public void A_moved_type_name_in_an_old_json_row_binds_to_the_type_by_its_simple_name()
    {
        var binder = new LegacyTypeNames();
        Assert.Equal(typeof(SourceActivity), binder.BindToType("NeverwinterDP.Actors", "NeverwinterDP.Actors.Registry.SourceActivity"));
        Assert.Equal(typeof(HostWentOffline), binder.BindToType("NeverwinterDP.Actors", "NeverwinterDP.Actors.Gone.HostWentOffline"));
        Assert.Equal(typeof(Dictionary<string, long>), binder.BindToType("System.Private.CoreLib", typeof(Dictionary<string, long>).FullName!));
        Assert.ThrowsAny<Exception>(() => binder.BindToType("NeverwinterDP.Actors", "NeverwinterDP.Actors.Gone.NoSuchType"));
    }
}
