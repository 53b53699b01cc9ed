using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using System.Text;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Host.Http;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>A node in this process on a temp data dir and a free port; stopped and deleted on dispose.</summary>
public sealed class InProcessNode : IAsyncDisposable
{
    private readonly Task _shutdown;

    private InProcessNode(WebApplication app, NodeConfig config, Uri http)
    {
        App = app;
        // As 'nwdp run' does: when something stops the application (a signal there; here the cluster removing
        // the node, or DisposeAsync), the host stops in order.
        _shutdown = app.WaitForShutdownAsync();
        Config = config;
        Http = http;
        Client = new HttpClient { BaseAddress = http, Timeout = TimeSpan.FromSeconds(120) };
    }

    public WebApplication App { get; }
    public NodeConfig Config { get; }
    public Uri Http { get; }
    public HttpClient Client { get; }
    public string FilesDir => Config.FilesSinkDirectory;
    /// <summary>The sink writers running in this node now.</summary>
    public IReadOnlyList<NeverwinterDP.Actors.Pump.DataPump> Pumps => App.Services.GetRequiredService<NeverwinterDP.Actors.Pump.LocalPumps>().All;

    /// <summary>The bus writer every way into Kafka goes through.</summary>
    public NeverwinterDP.Actors.Bus.BusWriter BusWriter => App.Services.GetRequiredService<NeverwinterDP.Actors.Bus.BusWriter>();

    /// <summary>This node's id in lineage and stats (<c>MACHINE-PORT</c>).</summary>
    public string NodeId => App.Services.GetRequiredService<NodeIdentity>().Id;
    public KafkaBus Bus => App.Services.GetRequiredService<KafkaBus>();
    public Akka.Actor.ActorSystem System => App.Services.GetRequiredService<Akka.Actor.ActorSystem>();
    public Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(System);
    public NeverwinterDP.Actors.Emitter.EmitterRegistry Registry => App.Services.GetRequiredService<NeverwinterDP.Actors.Emitter.EmitterRegistry>();

    /// <summary>This node's cluster address (<c>akka.tcp://nwdp@127.0.0.1:PORT</c>).</summary>
    public string ClusterAddress => App.ClusterAddress().ToString();

    /// <summary>HOST:PORT of the admin API (what <c>--node</c> takes).</summary>
    public string AdminNode => App.AdminAddress() is { } a ? $"{a.Host}:{a.Port}" : throw new InvalidOperationException("the admin API is off");

    /// <summary>An HTTP client of the admin API with the node's token (from its <c>admin.token</c>, as the CLI reads it).</summary>
    public HttpClient AdminClient(TimeSpan? timeout = null) => LocalAdmins.Client(AdminNode, Config.DataDir, timeout);

    /// <summary>The opt-out of the journal rule (docs/cluster.md#one-journal-for-the-cluster), on for test nodes by default.</summary>
    public const string PrivateJournalKey = "nwdp.persistence.allow-private-journal";

    public static async Task<InProcessNode> StartAsync(string dataDir, TimeProvider? clock = null, Dictionary<string, string>? overrides = null,
        Action<IServiceCollection>? configureServices = null, string? extraHocon = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["nwdp.node.data-dir"] = dataDir,
            ["nwdp.http.endpoint"] = "127.0.0.1:0",
            ["nwdp.admin.endpoint"] = "127.0.0.1:0",
            ["nwdp.pump.flush-interval"] = "300ms",
            ["nwdp.pump.batch-interval"] = "50ms",
            // Test nodes each keep their journal in their own temp dir; the multi-node specs test membership, sharding
            // and the data path, not shared state. JournalGuardSpecs turns this off to test the refusal itself.
            [PrivateJournalKey] = "on",
        };
        foreach (var (k, v) in overrides ?? new()) settings[k] = v;
        var config = NodeConfig.Load(null, settings, extraHocon);
        var app = NodeHost.Build(config, clock, configureServices);
        await app.StartAsync();
        var http = app.HttpAddress();
        var node = new InProcessNode(app, config, http);
        if (config.Admin.Enabled) LocalAdmins.Register(node.AdminNode, config.DataDir);
        return node;
    }

    public Task<HttpResponseMessage> PostNdjsonAsync(IEnumerable<string> lines, string? type = null)
    {
        var content = new StringContent(string.Join('\n', lines) + "\n", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        return Client.PostAsync("/v1/events" + (type is null ? "" : "?type=" + type), content);
    }

    /// <summary>Every NDJSON line published under the files sink for <paramref name="topic"/> (temp files excluded).</summary>
    public IReadOnlyList<string> PublishedLines(string topic)
    {
        var dir = Path.Combine(FilesDir, topic);
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*.ndjson", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .SelectMany(File.ReadLines)
            .Where(l => l.Length > 0)
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        App.Lifetime.StopApplication();
        await _shutdown;
        await App.DisposeAsync();
    }
}
