using System.Net;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Catalog;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Node;

[Trait("Category", TestCategories.Integration)]
public sealed class SinkHealthSpecs
{
    /// <summary>Takes every record, but its store is "unreachable" as far as its health check can tell.</summary>
    private sealed class UnhealthySink(string name) : ISink
    {
        public string Name => name;
        public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;
        public Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation) => Task.FromResult(SinkWriteResult.AllDelivered(batch.Count));
        public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;
        public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => Task.FromResult(new SinkHealth(false, "store at 10.0.0.9 refuses connections"));
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Healthz_reports_each_sinks_health_and_an_unhealthy_sink_makes_the_node_degraded_but_200()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.sinks.sick.kind"] = "unhealthy",
            ["nwdp.pump.writers-per-sink"] = "1",
        }, configureServices: s => s.AddSinkKind("unhealthy", section => new UnhealthySink(section.Name)));

        // The sink writers start and join their consumer groups a few seconds after start; a pump is listed once it runs.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        HttpStatusCode status;
        JsonElement body;
        while (true)
        {
            using var response = await node.Client.GetAsync("/healthz");
            status = response.StatusCode;
            body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            var bothListed = body.GetProperty("sinks").TryGetProperty("sick", out _) && body.GetProperty("sinks").TryGetProperty("files", out _);
            if ((bothListed && body.GetProperty("status").GetString() != "not ready") || DateTime.UtcNow > deadline) break;
            await Task.Delay(200);
        }

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("degraded", body.GetProperty("status").GetString());
        var sinks = body.GetProperty("sinks");
        Assert.Equal("unhealthy", sinks.GetProperty("sick").GetProperty("status").GetString());
        Assert.Equal("store at 10.0.0.9 refuses connections", sinks.GetProperty("sick").GetProperty("reason").GetString());
        Assert.Equal("healthy", sinks.GetProperty("files").GetProperty("status").GetString());
        Assert.Contains("writable", sinks.GetProperty("files").GetProperty("reason").GetString());
        // The existing fields stay.
        Assert.True(body.GetProperty("ingress").GetProperty("running").GetBoolean());
        Assert.Equal(2, body.GetProperty("pumps").GetArrayLength());
    }
}
