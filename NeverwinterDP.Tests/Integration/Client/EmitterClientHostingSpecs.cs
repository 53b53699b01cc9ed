using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NeverwinterDP.Client;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.TestKit;
using GenericHost = Microsoft.Extensions.Hosting.Host;

namespace NeverwinterDP.Tests.Integration.Client;

/// <summary>A service embeds the client with Akka.Hosting: one line, the client a singleton on the service's actor system.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class EmitterClientHostingSpecs
{
    [Fact]
    public async Task A_host_built_with_AddEmitterClient_delivers_events_and_flushes_what_was_posted_when_it_stops()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var run = Guid.NewGuid().ToString("N")[..8];
        var builder = GenericHost.CreateApplicationBuilder();
        builder.Services.AddEmitterClient("hosted-service", ClientTestKit.Options(node) with { AkkaConfig = null });
        using var host = builder.Build();
        await host.StartAsync();

        var client = host.Services.GetRequiredService<EmitterClient>();
        Assert.Same(client, host.Services.GetRequiredService<EmitterClient>());
        Assert.Same(host.Services.GetRequiredService<ActorSystem>(), client.System);
        await client.EmitAsync([ClientTestKit.Event(run, "svc-1", 0, "hosted")]).WaitAsync(TimeSpan.FromSeconds(30));
        for (var i = 1; i <= 100; i++) Assert.True(client.Post(ClientTestKit.Event(run, "svc-1", i, "hosted")));

        // Stopping the host stops the client first (CoordinatedShutdown, before-service-unbind): what was posted is sent.
        await host.StopAsync();
        Assert.Equal(101, client.Metrics.EventsAcked);
        Assert.Equal(0, client.Metrics.EventsFailed);
        Assert.False(client.Post(ClientTestKit.Event(run, "svc-1", 101, "hosted")));

        var topic = TopicNames.ForType("hosted");
        await ClientTestKit.Eventually(() => node.Published(topic).Count >= 101, TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, 101).Select(i => $"{run}-svc-1-{i}"), node.Published(topic).Select(p => p.Message));
    }

    [Fact]
    public async Task A_service_with_its_own_actor_system_adds_WithEmitterClient_to_its_chain_and_resolves_the_client()
    {
        var options = new EmitterClientOptions { ContactPoints = ["akka.tcp://nwdp@127.0.0.1:1/system/receptionist"], Hostname = "127.0.0.1" };
        var builder = GenericHost.CreateApplicationBuilder();
        builder.Services.AddAkka("own-system", akka => akka.WithEmitterClient(options));
        builder.Services.AddEmitterClient(options);
        using var host = builder.Build();
        await host.StartAsync();

        var client = host.Services.GetRequiredService<EmitterClient>();
        var system = host.Services.GetRequiredService<ActorSystem>();
        Assert.Same(system, client.System);
        Assert.Equal("own-system", system.Name);
        Assert.Contains("Remote", system.Settings.ProviderClass, StringComparison.Ordinal);
        Assert.True(((ExtendedActorSystem)system).Provider.DefaultAddress.Port > 0, "remoting bound to a free port");
        await host.StopAsync();
        Assert.False(client.Post(new LogEvent { Message = "after stop" }));
    }

    [Fact]
    public async Task A_hosted_system_without_WithEmitterClient_gives_no_client_and_says_what_is_missing()
    {
        var options = new EmitterClientOptions { ContactPoints = ["akka.tcp://nwdp@127.0.0.1:1/system/receptionist"] };
        var builder = GenericHost.CreateApplicationBuilder();
        builder.Services.AddAkka("bare", _ => { });
        builder.Services.AddEmitterClient(options);
        using var host = builder.Build();
        await host.StartAsync();

        var error = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<EmitterClient>());
        Assert.Contains("WithEmitterClient", error.Message);
        await host.StopAsync();
    }
}
