using Confluent.Kafka;
using NeverwinterDP.Actors.Bus;
using NeverwinterDP.Actors.Coverage;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Node;

/// <summary>The coverage and summary reports (<c>nwdp.coverage</c>): the collector on ingress, its publisher, the cluster-wide store and the reporter.</summary>
public static class CoverageHosting
{
    public static IServiceCollection AddNodeCoverage(this IServiceCollection services, NodeConfig config) => services
        .AddSingleton(config.Coverage)
        .AddSingleton(sp => new CoverageCollector(sp.GetRequiredService<CoverageOptions>(), sp.GetRequiredService<TimeProvider>()))
        .AddSingleton<IIngressObserver>(sp => sp.GetRequiredService<CoverageCollector>())
        .AddSingleton(sp => new CoverageStore(sp.GetRequiredService<CoverageOptions>(), sp.GetRequiredService<TimeProvider>()))
        .AddSingleton(sp => new CoverageReporter(sp.GetRequiredService<CoverageCollector>(), sp.GetRequiredService<CoverageStore>(),
            sp.GetRequiredService<CoverageOptions>(), sp.GetRequiredService<TimeProvider>(), () => sp.GetRequiredService<NodeIdentity>().Id))
        .AddHostedService<CoverageService>();
}

/// <summary>Publishes this node's sketches to <c>nwdp.coverage</c> and reads every node's into the store (nothing when coverage is off).</summary>
public sealed class CoverageService(CoverageCollector collector, CoverageStore store, CoverageOptions options, KafkaBus bus, NodeIdentity identity, ILogger<CoverageService> log)
    : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private Task _starting = Task.CompletedTask;
    private CoveragePublisher? _publisher;
    private CoverageFeed? _feed;

    public CoveragePublisher Publisher => _publisher ?? throw new InvalidOperationException("coverage is not started");

    /// <summary>In the background, once the topic exists: a node must come up while Kafka is down (its sketches wait).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Enabled) _starting = Task.Run(() => StartWhenBusAnswersAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StartWhenBusAnswersAsync(CancellationToken stop)
    {
        if (!await ControlTopics.EnsureAsync(bus, TopicNames.Coverage, "sketches are kept", log, stop)) return;
        var producer = ControlTopics.Producer(bus);
        void Warn(string m) => log.LogWarning("{Message}", m);
        lock (_stop)
        {
            if (stop.IsCancellationRequested)
            {
                producer.Dispose();
                return;
            }
            _publisher = new CoveragePublisher(collector, producer, () => identity.Id, Warn);
            _feed = new CoverageFeed(bus.Clients, store, options, Warn);
            _publisher.Start();
            _feed.Start();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_stop) _stop.Cancel();
        await _starting;
        if (_publisher is not null) await _publisher.DisposeAsync();
        if (_feed is not null) await _feed.DisposeAsync();
    }
}
