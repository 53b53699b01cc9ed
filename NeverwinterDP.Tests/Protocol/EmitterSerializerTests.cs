using Akka.Actor;
using Akka.Serialization;
using NeverwinterDP.Client;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.Remote;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

public sealed class EmitterSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test", EmitterClient.RequiredConfig);

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private object RoundTrip(object message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<EmitterSerializer>(serializer); // bound by the HOCON both ends use
        var manifest = Serialization.ManifestFor(serializer, message);
        return _system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
    }

    [Fact]
    public void A_batch_round_trips_with_every_field_of_every_event()
    {
        var events = new[]
        {
            new LogEvent
            {
                Ts = 1_780_000_000_123, SystemTs = 1_780_000_000_456, Host = "web-1", Ip = "10.1.2.3", Process = "nginx", Type = "access",
                Version = "1.25", Level = "warn", Message = "GET /ünïcode \"q\" \n 200",
                Attributes = new Dictionary<string, string> { ["status"] = "200", ["path"] = "/a", ["empty"] = "" },
                Lineage = new Lineage("node-7", 42),
            },
            new LogEvent { Message = "defaults only", Lineage = new Lineage("", 0) }, // default(Lineage) has a null node; the wire has ""
            new LogEvent { Host = "h", Message = new string('x', 20_000), Lineage = new Lineage("", long.MaxValue) },
        };
        var batch = new EmitBatch("client-1", "web-1/nginx", 7, 5, events, Key: "tenant-9");

        var back = Assert.IsType<EmitBatch>(RoundTrip(batch));

        Assert.Equal((batch.ClientId, batch.SourceId, batch.BatchSeq, batch.FirstUnacked, batch.Key), (back.ClientId, back.SourceId, back.BatchSeq, back.FirstUnacked, back.Key));
        Assert.Equal(events, back.Events); // LogEvent equality covers attributes and lineage
        Assert.True(back.WireBytes > 20_000);
        Assert.Null(Assert.IsType<EmitBatch>(RoundTrip(batch with { Key = null })).Key);
    }

    [Fact]
    public void Acks_refusals_and_heartbeats_round_trip()
    {
        object[] messages =
        [
            new EmitAck("web-1/nginx", 9, 1000),
            new EmitRefused("web-1/nginx", 10, "the bus is saturated; retry later", TimeSpan.FromMilliseconds(1500), Permanent: false),
            new EmitRefused("db/pg", 1, "empty batch", TimeSpan.Zero, Permanent: true),
            new Heartbeat("web-1", "nginx", 1_780_000_000_000, 10_000),
        ];
        foreach (var m in messages) Assert.Equal(m, RoundTrip(m));
    }

    [Fact]
    public void Bytes_that_are_not_a_message_are_refused_with_a_clear_error()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(EmitBatch));
        var good = serializer.ToBinary(new EmitBatch("c", "s", 1, 1, [new LogEvent { Message = "m" }]));
        Assert.Throws<MalformedRecordException>(() => serializer.FromBinary(good[..^3], "B"));
        Assert.Contains("format", Assert.Throws<MalformedRecordException>(() => serializer.FromBinary([0x04, 0, 0], "A")).Message);
        Assert.Throws<MalformedRecordException>(() => serializer.FromBinary(good, "Z"));
        var lying = serializer.ToBinary(new EmitBatch("c", "s", 1, 1, [new LogEvent { Message = "m" }]));
        Assert.Throws<MalformedRecordException>(() => serializer.FromBinary([.. lying, 0x01], "B"));
    }
}
