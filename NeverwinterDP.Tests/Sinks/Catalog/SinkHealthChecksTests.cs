using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Catalog;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Catalog;

public sealed class SinkHealthChecksTests
{
    /// <summary>A clock the test moves (only timestamps; timers stay real).</summary>
    private sealed class SteppedClock : TimeProvider
    {
        public long Ticks { get; set; }
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
    }

    /// <summary>A sink whose health the test sets, counting checks.</summary>
    private sealed class ProbedSink(string name, Func<SinkHealth> health) : ISink
    {
        public static int Checks;
        public string Name => name;
        public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;
        public Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation) => Task.FromResult(SinkWriteResult.AllDelivered(batch.Count));
        public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;

        public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation)
        {
            Interlocked.Increment(ref Checks);
            return Task.FromResult(health());
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static SinkCatalog Catalog(Func<SinkHealth> health, Func<ISink>? hang = null) => new(
        new SinkCatalogSettings(Akka.Configuration.ConfigurationFactory.ParseString("a { kind = probed }\nb { kind = probed }\nslow { kind = hanging }"), Path.GetTempPath()),
        [new SinkKind("probed", s => new ProbedSink(s.Name, health)), new SinkKind("hanging", s => hang?.Invoke() ?? new ProbedSink(s.Name, health))]);

    [Fact]
    public async Task Each_instance_is_checked_once_per_cache_period_and_again_after_it()
    {
        var healthy = true;
        var clock = new SteppedClock();
        await using var checks = new SinkHealthChecks(Catalog(() => new SinkHealth(healthy, healthy ? "fine" : "store down")), clock) { CacheFor = TimeSpan.FromSeconds(5) };
        var before = ProbedSink.Checks;

        var first = await checks.CheckAsync(["a", "b", "a"]);
        healthy = false;
        var cached = await checks.CheckAsync(["a", "b"]);
        clock.Ticks += TimeSpan.FromSeconds(6).Ticks;
        var fresh = await checks.CheckAsync(["b", "a"]);

        Assert.Equal([("a", new SinkHealth(true, "fine")), ("b", new SinkHealth(true, "fine"))], first);
        Assert.Equal(first, cached);
        Assert.Equal([("b", new SinkHealth(false, "store down")), ("a", new SinkHealth(false, "store down"))], fresh);
        Assert.Equal(4, ProbedSink.Checks - before);
    }

    [Fact]
    public async Task A_check_that_throws_or_hangs_or_names_no_sink_is_unhealthy_with_the_reason()
    {
        await using var throwing = new SinkHealthChecks(Catalog(() => throw new IOException("disk gone")), TimeProvider.System);
        var (_, thrown) = Assert.Single(await throwing.CheckAsync(["a"]));
        Assert.False(thrown.Healthy);
        Assert.Contains("disk gone", thrown.Detail);

        var never = new TaskCompletionSource<SinkHealth>();
        await using var hanging = new SinkHealthChecks(Catalog(() => never.Task.Result, () => new HangingSink(never.Task)), TimeProvider.System) { Timeout = TimeSpan.FromMilliseconds(200) };
        var (_, hung) = Assert.Single(await hanging.CheckAsync(["slow"]));
        Assert.False(hung.Healthy);
        Assert.Contains("did not answer", hung.Detail);

        var (_, unknown) = Assert.Single(await hanging.CheckAsync(["nobody"]));
        Assert.False(unknown.Healthy);
        Assert.Contains("nobody", unknown.Detail);
    }

    private sealed class HangingSink(Task<SinkHealth> never) : ISink
    {
        public string Name => "slow";
        public Task OpenAsync(CancellationToken cancellation) => Task.CompletedTask;
        public Task<SinkWriteResult> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellation) => Task.FromResult(SinkWriteResult.AllDelivered(batch.Count));
        public Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;
        public Task<SinkHealth> CheckHealthAsync(CancellationToken cancellation) => never;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
