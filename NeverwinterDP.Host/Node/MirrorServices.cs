using Akka.Hosting;
using NeverwinterDP.Actors.Mirror;
using NeverwinterDP.Host.Admin;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Http;

namespace NeverwinterDP.Host.Node;

/// <summary>The mirrors of <c>nwdp.mirrors</c>: what their entities share, their lag, the board the admin API and dashboard read, their metrics.</summary>
public static class MirrorServices
{
    /// <summary>How long a mirror entity waits before it starts again after its mirror failed (or its pause flag could not be read).</summary>
    private static readonly TimeSpan RestartAfter = TimeSpan.FromSeconds(10);

    public static IServiceCollection AddMirrors(this IServiceCollection services, NodeConfig config) => services
        .AddSingleton(sp => new MirrorCatalog(config.Mirrors.Select(m => m.Resolve(sp.GetRequiredService<KafkaBus>().Clients))))
        .AddSingleton<LocalMirrors>()
        .AddSingleton(sp => new MirrorContext(sp.GetRequiredService<MirrorCatalog>(), sp.GetRequiredService<LocalMirrors>(), RestartAfter))
        .AddSingleton(sp => new MirrorLag(sp.GetRequiredService<MirrorCatalog>(), config.MirrorLagInterval, config.MirrorLagTimeout, sp.GetService<TimeProvider>()))
        .AddSingleton(sp => new MirrorsAdmin.MirrorBoard(sp.GetRequiredService<MirrorCatalog>(), sp.GetRequiredService<MirrorLag>(), sp.GetRequiredService<ActorRegistry>()))
        .AddSingleton(sp => new MirrorMetrics(sp.GetRequiredService<NodeMetrics>(), sp.GetRequiredService<MirrorLag>(), sp.GetRequiredService<LocalMirrors>(),
            sp.GetRequiredService<MirrorCatalog>()));
}
