using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace NeverwinterDP.Client;

/// <summary>
/// Embeds an <see cref="EmitterClient"/> in a service built with Akka.Hosting: the client runs in the service's
/// actor system and is a singleton of its container.
/// <code>
/// builder.Services.AddEmitterClient("orders", new EmitterClientOptions { ContactPoints = ["akka.tcp://nwdp@node-1:4053/system/receptionist"] });
/// // then inject EmitterClient where events are sent
/// </code>
/// A service that has an actor system of its own adds <see cref="WithEmitterClient"/> to its <c>AddAkka</c> chain
/// and calls <see cref="AddEmitterClient(IServiceCollection, EmitterClientOptions)"/>.
/// </summary>
public static class EmitterClientHosting
{
    // DisposeAsync waits FlushTimeout for acknowledgements, then spills or fails the rest and stops two actors.
    private static readonly TimeSpan FlushSlack = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gives the actor system what a client needs: the emitter protocol's serializer and frame size
    /// (<see cref="EmitterClient.RequiredConfig"/>) and, unless the service configures its own remoting or
    /// clustering, <c>akka.actor.provider = remote</c> on port 0 (bound as <see cref="EmitterClientOptions.Hostname"/>
    /// says). Also lets the <c>before-service-unbind</c> phase of CoordinatedShutdown, where the client flushes,
    /// run for <see cref="EmitterClientOptions.FlushTimeout"/> and a little more, unless the service set that phase's timeout.
    /// With <see cref="EmitterClientOptions.Tls"/> on, the system's remoting runs over TLS with the client's certificate.
    /// </summary>
    /// <exception cref="ArgumentException">A file of <see cref="EmitterClientOptions.Tls"/> does not load (named).</exception>
    public static AkkaConfigurationBuilder WithEmitterClient(this AkkaConfigurationBuilder builder, EmitterClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        // Appended: a fallback under the service's own configuration, above Akka's defaults.
        var fallback = ConfigurationFactory.ParseString(
                $"akka.coordinated-shutdown.phases.before-service-unbind.timeout = {(long)(options.FlushTimeout + FlushSlack).TotalMilliseconds}ms")
            .WithFallback(EmitterClient.RemotingFallback(options));
        builder.AddHocon(EmitterClient.RequiredConfig.WithFallback(fallback), HoconAddMode.Append);
        // TLS: the certificate and the check of the nodes' certificates go to the transport as a setup.
        return EmitterClientTls.Setup(options) is { } tls ? builder.AddSetup(tls) : builder;
    }

    /// <summary>
    /// Registers <see cref="EmitterClient"/> as a singleton started on the container's <see cref="ActorSystem"/>
    /// (from <c>AddAkka</c>, whose chain must include <see cref="WithEmitterClient"/>). The client is stopped, and
    /// what it holds flushed, in the <c>before-service-unbind</c> phase of the system's CoordinatedShutdown, so
    /// while the system still runs whatever order the hosted services stop in.
    /// </summary>
    public static IServiceCollection AddEmitterClient(this IServiceCollection services, EmitterClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton(sp =>
        {
            var system = sp.GetRequiredService<ActorSystem>();
            var client = EmitterClient.Start(sp.GetRequiredService<EmitterClientOptions>(), system);
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "nwdp-emitter-client-flush", async () =>
            {
                await client.DisposeAsync().ConfigureAwait(false);
                return Done.Instance;
            });
            return client;
        });
        return services;
    }

    /// <summary>
    /// For a service without an actor system of its own: <c>AddAkka(<paramref name="actorSystemName"/>)</c> with
    /// <see cref="WithEmitterClient"/>, and the client as a singleton (<see cref="AddEmitterClient(IServiceCollection, EmitterClientOptions)"/>).
    /// </summary>
    public static IServiceCollection AddEmitterClient(this IServiceCollection services, string actorSystemName, EmitterClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(actorSystemName);
        ArgumentNullException.ThrowIfNull(options);
        services.AddAkka(actorSystemName, builder => builder.WithEmitterClient(options));
        return services.AddEmitterClient(options);
    }
}
