using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Cluster.Sharding;
using NeverwinterDP.Host.Cli;
using NeverwinterDP.Actors.Emitter;
using NeverwinterDP.Actors.Watchdog;

namespace NeverwinterDP.Tests.Ops;

/// <summary>What one <c>nwdp</c> command printed and returned.</summary>
public sealed record CliOutcome(int ExitCode, string Stdout, string Stderr)
{
    public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout:\n{Stdout}--- stderr:\n{Stderr}";
}

/// <summary>Runs <c>nwdp</c> verbs through <see cref="CliApp.RunAsync"/> (the code path of the executable) in this process.</summary>
public static class Nwdp
{
    public static async Task<CliOutcome> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        return new CliOutcome(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A verb that runs until cancelled (<c>cluster tail</c>); its output can be read while it runs.</summary>
    public sealed class Running(Task<int> exit, StringBuilder stdout, StringBuilder stderr, CancellationTokenSource stop) : IAsyncDisposable
    {
        public Task<int> Exit { get; } = exit;

        public string Stdout
        {
            get
            {
                lock (stdout) return stdout.ToString();
            }
        }

        public string Stderr
        {
            get
            {
                lock (stderr) return stderr.ToString();
            }
        }

        public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        /// <summary>Ctrl-C: cancels the verb and returns its exit code.</summary>
        public async Task<int> StopAsync()
        {
            await stop.CancelAsync();
            return await Exit.WaitAsync(TimeSpan.FromSeconds(20));
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await Exit.WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
            }
            stop.Dispose();
        }
    }

    public static Running Start(params string[] args)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var stop = new CancellationTokenSource();
        var exit = Task.Run(() => CliApp.RunAsync(args, new LockedWriter(stdout), new LockedWriter(stderr), stop.Token));
        return new Running(exit, stdout, stderr, stop);
    }

    /// <summary>A writer another thread may read (under the same lock) while the verb writes.</summary>
    private sealed class LockedWriter(StringBuilder target) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (target) target.Append(value);
        }

        public override void Write(string? value)
        {
            lock (target) target.Append(value);
        }

        public override void WriteLine(string? value)
        {
            lock (target) target.Append(value).Append('\n');
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }
    }
}

/// <summary>A message for the test's sharded entities: the entity answers with its id.</summary>
public sealed record Touch(string EntityId);

/// <summary>
/// A small sharded entity type started by the tests (the product's own entity types are not needed to test
/// the sharding verbs): 10 shards, the entity answers every message with its name.
/// </summary>
public static class TestShards
{
    public const string TypeName = "test-touch";

    public static Task<IActorRef> StartAsync(ActorSystem system) =>
        ClusterSharding.Get(system).StartAsync(TypeName, _ => Props.Create(() => new Entity()), ClusterShardingSettings.Create(system), new Extractor(),
            new NoRebalance(), PoisonPill.Instance);

    /// <summary>New shards go to the region with the fewest; none ever moves, so counts read at different moments agree.</summary>
    private sealed class NoRebalance : IShardAllocationStrategy
    {
        public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations) =>
            Task.FromResult(currentShardAllocations.OrderBy(kv => kv.Value.Count).ThenBy(kv => kv.Key.Path.ToString(), StringComparer.Ordinal).First().Key);

        public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress) =>
            Task.FromResult<IImmutableSet<string>>(ImmutableHashSet<string>.Empty);
    }

    private sealed class Extractor() : HashCodeMessageExtractor(10)
    {
        public override string EntityId(object message) => ((Touch)message).EntityId;
    }

    private sealed class Entity : ReceiveActor
    {
        public Entity() => ReceiveAny(_ => Sender.Tell(Self.Path.Name));
    }
}

/// <summary>An emitter registry that knows one source and one (offline) host.</summary>
public sealed class FixedRegistry : IRegistryQueries
{
    public static readonly SourceInfo Source = new("web-1/nginx", "web-1", "nginx", 1_700_000_000_000, 1_700_000_060_000, "1.2.3",
        new Dictionary<string, long> { ["access"] = 40, ["error"] = 2 }, 42, 4200, 41);

    public static readonly HostStatus Host = new("web-1", false, 1_700_000_060_000, 1_700_000_090_000, 1_700_000_090_000, ["nginx"]);

    public Task<IReadOnlyList<SourceInfo>> SourcesAsync(CancellationToken cancellation) => Task.FromResult<IReadOnlyList<SourceInfo>>([Source]);

    public Task<IReadOnlyList<HostStatus>> HostsAsync(CancellationToken cancellation) => Task.FromResult<IReadOnlyList<HostStatus>>([Host]);
}
