using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Client;
using NeverwinterDP.Host.ZeroMq;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;
using static NeverwinterDP.Tests.TestKit.ClientTestKit;

namespace NeverwinterDP.Tests.Integration.ZeroMq;

/// <summary>
/// The ZeroMQ input with NeverwinterDP.Client's <see cref="ZeroMqEmitter"/> (NetMQ DEALER) sending to a real node that
/// stops while batches are in flight and starts again on the same port: every batch is acknowledged in the end and
/// every event lands in the files sink exactly once. The broker lives outside the node (it survives the restart).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ZeroMqInputSpecs(ITestOutputHelper output)
{
    private const string Type = "zmq";

    [Fact]
    public async Task Batches_sent_across_a_node_restart_are_all_acknowledged_and_land_exactly_once()
    {
        const int batches = 60, perBatch = 50;
        using var kafka = new EmbeddedKafka();
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "node");
        Dictionary<string, string> Settings(int port) => new()
        {
            ["nwdp.kafka.bootstrap-servers"] = kafka.BootstrapServers,
            ["nwdp.inputs.zeromq.port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["nwdp.sinks.files.fsync"] = "off",
            // A lone node's shard regions wait out this phase's 10 s on the way down (buffered keep-alives, no
            // coordinator left); what this spec checks is the ZeroMQ input, which stops before them.
            ["akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout"] = "5s",
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var node = await InProcessNode.StartAsync(data, overrides: Settings(0));
        output.WriteLine($"{clock.Elapsed}: started");
        InProcessNode? restarted = null;
        var stopped = false;
        try
        {
            var endpoint = node.App.Services.GetRequiredService<ZeroMqService>().Endpoint!;
            var port = new Uri(endpoint).Port;
            await using var emitter = new ZeroMqEmitter(new ZeroMqEmitterOptions
            {
                Endpoint = endpoint,
                Type = Type,
                Host = "zmq-host",
                Process = "zmq-test",
                AckTimeout = TimeSpan.FromSeconds(2),
                MaxPendingBatches = 8,
            });

            // A malformed batch is refused whole, naming the line; nothing of it lands.
            var refused = await Assert.ThrowsAsync<ZeroMqRefusedException>(() => emitter.SendAsync("{\"msg\":\"refused-1\"}\n{\"msg\":\"refused-2\",\"ts\":true}\n"u8.ToArray()));
            Assert.Equal((400, "malformed", 2), (refused.Answer.Status, refused.Answer.Reason, refused.Answer.Line));

            Task<int> Send(int b) =>
                emitter.SendAsync(Enumerable.Range(0, perBatch).Select(i => new LogEvent { Message = $"b{b}-e{i}", Level = "warn" }).ToList());
            // Half before the stop (some may be in flight when it comes), half while the node is down: on a fast
            // machine the node can drain every batch sent before it stops, so only the second half is sure to wait.
            var sends = Enumerable.Range(0, batches / 2).Select(Send).ToList();
            await Eventually(() => emitter.Metrics.BatchesAcked >= 10, TimeSpan.FromSeconds(30));
            output.WriteLine($"{clock.Elapsed}: stopping the node: {emitter.Metrics.BatchesAcked} acknowledged, {emitter.Metrics.PendingBatches} pending");
            stopped = true;
            await node.DisposeAsync();
            output.WriteLine($"{clock.Elapsed}: stopped");
            var whileDown = Enumerable.Range(batches / 2, batches - batches / 2).Select(Send).ToList();
            await Task.Delay(TimeSpan.FromSeconds(3)); // past the ack timeout: the emitter resends into the void
            Assert.All(whileDown, s => Assert.False(s.IsCompleted)); // they wait for the node
            sends.AddRange(whileDown);

            restarted = await InProcessNode.StartAsync(data, overrides: Settings(port));
            Assert.Equal(endpoint, restarted.App.Services.GetRequiredService<ZeroMqService>().Endpoint);
            output.WriteLine($"{clock.Elapsed}: started again");
            var accepted = await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.All(accepted, count => Assert.Equal(perBatch, count));
            output.WriteLine($"{clock.Elapsed}: sent {emitter.Metrics.BatchesSent}, resent {emitter.Metrics.Resends}, reconnects {emitter.Metrics.Reconnects}, refusals {emitter.Metrics.Refusals}");

            var expected = Enumerable.Range(0, batches).SelectMany(b => Enumerable.Range(0, perBatch).Select(i => $"b{b}-e{i}")).Order(StringComparer.Ordinal).ToList();
            await Eventually(() => restarted.Published(TopicNames.ForType(Type)).Count >= expected.Count, TimeSpan.FromSeconds(60),
                () => $"{restarted.Published(TopicNames.ForType(Type)).Count} of {expected.Count} landed");
            output.WriteLine($"{clock.Elapsed}: landed");
            await Task.Delay(500); // a duplicate would arrive with the others
            var published = restarted.Published(TopicNames.ForType(Type));
            Assert.Equal(expected, published.Select(e => e.Message).Order(StringComparer.Ordinal));
            var first = published[0];
            Assert.Equal(("zmq-host", "zmq-test", Type, "warn"), (first.Host, first.Process, first.Type, first.Level));
        }
        finally
        {
            if (!stopped) await node.DisposeAsync();
            if (restarted is not null) await restarted.DisposeAsync();
        }
    }
}
