namespace NeverwinterDP.Actors.Sinks.Catalog;

/// <summary>
/// <see cref="ISink.CheckHealthAsync"/> of sink instances, for <c>/healthz</c>: each instance is checked through a
/// probe of its own (built from the <see cref="SinkCatalog"/>, never opened, never handed a batch, so the check
/// cannot run concurrently with a writer's calls), at most once per <see cref="CacheFor"/>; callers within that
/// time get the last answer, and concurrent callers share one check in flight. A check that throws or takes
/// longer than <see cref="Timeout"/> is unhealthy with the reason.
/// </summary>
public sealed class SinkHealthChecks(SinkCatalog catalog, TimeProvider clock) : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, ISink> _probes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Task<SinkHealth> Check, long StartedAt)> _last = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>How long an answer is reused (keeps <c>/healthz</c> cheap when it is polled).</summary>
    public TimeSpan CacheFor { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The most one check may take; sinks bound their own checks below this.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The health of the named instances (in the order given; unknown names are reported unhealthy).</summary>
    public async Task<IReadOnlyList<(string Sink, SinkHealth Health)>> CheckAsync(IEnumerable<string> sinkNames)
    {
        var checks = sinkNames.Distinct(StringComparer.Ordinal).Select(name => (name, Check(name))).ToList();
        var result = new List<(string, SinkHealth)>(checks.Count);
        foreach (var (name, check) in checks) result.Add((name, await check.ConfigureAwait(false)));
        return result;
    }

    private Task<SinkHealth> Check(string name)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = clock.GetTimestamp();
            if (_last.TryGetValue(name, out var last) && (!last.Check.IsCompleted || clock.GetElapsedTime(last.StartedAt, now) < CacheFor))
                return last.Check;
            ISink probe;
            try
            {
                if (!_probes.TryGetValue(name, out probe!)) _probes[name] = probe = catalog.Create(name);
            }
            catch (Exception e)
            {
                return Task.FromResult(new SinkHealth(false, e.Message));
            }
            var check = RunAsync(probe);
            _last[name] = (check, now);
            return check;
        }
    }

    private async Task<SinkHealth> RunAsync(ISink probe)
    {
        using var timeout = new CancellationTokenSource(Timeout, clock);
        try
        {
            return await probe.CheckHealthAsync(timeout.Token).WaitAsync(Timeout, clock).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return new SinkHealth(false, $"the health check did not answer within {Timeout.TotalSeconds:0.#} s");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new SinkHealth(false, $"the health check did not answer within {Timeout.TotalSeconds:0.#} s");
        }
        catch (Exception e)
        {
            return new SinkHealth(false, $"the health check failed: {e.GetType().Name}: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<ISink> probes;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            probes = _probes.Values.ToList();
            _probes.Clear();
        }
        foreach (var probe in probes) await probe.DisposeAsync().ConfigureAwait(false);
    }
}
