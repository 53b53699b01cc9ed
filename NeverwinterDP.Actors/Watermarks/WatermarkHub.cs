using System.Collections.Concurrent;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Watermarks;

/// <summary>Where announced hour completions go besides the sinks: the <c>nwdp.watermarks</c> topic.</summary>
public interface IWatermarkPublisher
{
    Task PublishAsync(HourCompletion completion, CancellationToken cancellation);
}

/// <summary>
/// The node's watermark trackers, one per sink instance its pumps run, checked every
/// <see cref="WatermarkOptions.CheckInterval"/>: each completion is handed to one of the sink's listeners (the files sink
/// writes <c>_SUCCESS</c>), published (<see cref="IWatermarkPublisher"/>) and kept for the admin API.
/// </summary>
public sealed class WatermarkHub : IAsyncDisposable
{
    private readonly WatermarkOptions _options;
    private readonly TimeProvider _clock;
    private readonly IPartitionCounts _partitions;
    private readonly IWatermarkPublisher? _publisher;
    private readonly Func<IReadOnlyCollection<string>>? _goneNodes;
    private readonly Action<string>? _warn;
    private readonly ConcurrentDictionary<string, WatermarkTracker> _trackers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ImmutableListeners> _listeners = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _checking = new(1, 1);
    private readonly object _keptGate = new();
    private readonly LinkedList<HourCompletion> _kept = new();
    private readonly string? _stateDirectory;
    private readonly IWatermarkExchange? _exchange;
    private readonly Func<string> _self;
    private readonly Dictionary<(string Sink, string Topic, long Hour), (int Version, long AtMs)> _pending = new();
    private long _checks;
    private ITimer? _timer;

    /// <param name="stateDirectory">Where each sink's tracker keeps its state across restarts (<c>&lt;data&gt;/watermarks</c>); null: in memory.</param>
    /// <param name="exchange">Cluster-wide (<see cref="WatermarkOptions.Share"/>): where the pump nodes share their observations and
    /// announce completions; each hour is then decided from every node's observations, announced there (not by
    /// <paramref name="publisher"/>), and acted on by this node's sink when read back. Null: this node decides alone.</param>
    /// <param name="self">This node's id (the observer its shared observations carry).</param>
    public WatermarkHub(WatermarkOptions options, TimeProvider clock, IPartitionCounts partitions, IWatermarkPublisher? publisher = null,
        Func<IReadOnlyCollection<string>>? goneNodes = null, Action<string>? warn = null, string? stateDirectory = null,
        IWatermarkExchange? exchange = null, Func<string>? self = null)
    {
        _exchange = exchange;
        _self = self ?? (() => Environment.MachineName);
        _stateDirectory = stateDirectory;
        if (stateDirectory is not null) Directory.CreateDirectory(stateDirectory);
        _options = options;
        _clock = clock;
        _partitions = partitions;
        _publisher = publisher;
        _goneNodes = goneNodes;
        _warn = warn;
    }

    public WatermarkOptions Options => _options;

    /// <summary>The tracker of sink instance <paramref name="sink"/> (made on first use).</summary>
    public WatermarkTracker For(string sink) =>
        _trackers.GetOrAdd(sink, s =>
        {
            var tracker = new WatermarkTracker(s, _options, _clock, _partitions, _goneNodes,
                _stateDirectory is null ? null : Path.Combine(_stateDirectory, FileNameOf(s) + ".json"));
            if (_exchange is { } exchange) tracker.MarkedElsewhere = (topic, hour, node, partition) => exchange.View.Marked(s, topic, hour, node, partition);
            return tracker;
        });

    /// <summary>Checks completed so far (a test waits for one that ran after what it arranged).</summary>
    public long Checks => Interlocked.Read(ref _checks);

    /// <summary>The shared view of every pump node's observations; null when this node decides alone.</summary>
    public SharedHours? Shared => _exchange?.View;

    // Sink names are HOCON keys; anything a file name should not hold becomes '_'.
    private static string FileNameOf(string sink) =>
        string.Concat(sink.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    private sealed record ImmutableListeners(IReadOnlyList<IHourCompletionListener> All);

    /// <summary>Registers a sink that acts on completions of its instance; the first one registered is told. Dispose to unregister.</summary>
    public IDisposable Listen(string sink, IHourCompletionListener listener)
    {
        _listeners.AddOrUpdate(sink, _ => new ImmutableListeners([listener]), (_, l) => new ImmutableListeners([.. l.All, listener]));
        return new Registration(() => _listeners.AddOrUpdate(sink, _ => new ImmutableListeners([]), (_, l) => new ImmutableListeners(l.All.Where(x => !ReferenceEquals(x, listener)).ToList())));
    }

    private sealed class Registration(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose();
        }
    }

    /// <summary>The completions kept (newest last), optionally of one sink or topic.</summary>
    public IReadOnlyList<HourCompletion> Completions(string? sink = null, string? topic = null)
    {
        lock (_keptGate) return _kept.Where(c => (sink is null || c.Sink == sink) && (topic is null || c.Topic == topic)).ToList();
    }

    public void Start() =>
        _timer ??= _clock.CreateTimer(_ => _ = CheckSafelyAsync(), null, _options.CheckInterval, _options.CheckInterval);

    private async Task CheckSafelyAsync()
    {
        try
        {
            await CheckAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _warn?.Invoke($"watermarks: {e.GetBaseException().Message}");
        }
    }

    /// <summary>Checks every tracker now; answers the completions announced. One check at a time (a tick during one is skipped).</summary>
    public async Task<IReadOnlyList<HourCompletion>> CheckAsync(CancellationToken cancellation)
    {
        if (!await _checking.WaitAsync(0, cancellation).ConfigureAwait(false)) return [];
        try
        {
            var announced = new List<HourCompletion>();
            if (_exchange is { } exchange)
            {
                await CheckSharedAsync(exchange, announced, cancellation).ConfigureAwait(false);
                return announced;
            }
            foreach (var tracker in _trackers.Values)
            {
                await AnnounceAsync(tracker, tracker.Check(), announced, cancellation).ConfigureAwait(false);
                try
                {
                    tracker.Save(); // only now: a crash before the sink acted announces the same versions again
                }
                catch (IOException e)
                {
                    _warn?.Invoke($"watermarks: saving the state of sink {tracker.Sink} failed: {e.Message}; trying again at the next check");
                }
            }
            return announced;
        }
        finally
        {
            Interlocked.Increment(ref _checks);
            _checking.Release();
        }
    }

    /// <summary>
    /// Cluster-wide: shares what this node's trackers read since the last check, decides the hours due from every node's
    /// observations (any pump node may; the first record of a version on the topic is that version), and lets this node's
    /// sink act once on each new version of an hour it read something of.
    /// </summary>
    private async Task CheckSharedAsync(IWatermarkExchange exchange, List<HourCompletion> announced, CancellationToken cancellation)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var horizon = UtcHours.Of(now - (long)_options.Keep.TotalMilliseconds);
        var self = _self();
        foreach (var tracker in _trackers.Values)
        {
            var forgotten = tracker.Prune(horizon);
            if (forgotten.Count > 0)
            {
                try
                {
                    await exchange.RetractAsync(forgotten.Select(f => ObservedHour.KeyOf(tracker.Sink, f.Topic, f.Hour, self)).ToList(), cancellation).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _warn?.Invoke($"watermarks: forgetting {forgotten.Count} hour(s) of sink {tracker.Sink} on {TopicNames.WatermarkObservations} failed: {e.GetBaseException().Message}");
                }
            }
            var changed = tracker.TakeUnshared(self);
            if (changed.Count == 0) continue;
            try
            {
                await exchange.ShareAsync(changed, cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                tracker.ShareFailed(changed);
                _warn?.Invoke($"watermarks: sharing {changed.Count} hour(s) of sink {tracker.Sink} failed: {e.GetBaseException().Message}; trying again");
            }
        }
        exchange.View.Prune(horizon);
        var arrived = exchange.View.TakeArrived();
        lock (_keptGate)
        {
            foreach (var completion in arrived) _kept.AddLast(completion);
            while (_kept.Count > _options.MaxKept) _kept.RemoveFirst();
        }
        foreach (var key in _pending.Keys.Where(k => k.Hour < horizon).ToList()) _pending.Remove(key);
        if (!exchange.CaughtUp) return; // what this node knows may be behind what was announced: it waits

        var gone = _goneNodes?.Invoke() ?? [];
        foreach (var tracker in _trackers.Values)
        {
            var sink = tracker.Sink;
            foreach (var (topic, hour) in exchange.View.Hours(sink).OrderBy(h => h.Hour).ThenBy(h => h.Topic, StringComparer.Ordinal))
            {
                var merged = exchange.View.Merged(sink, topic, hour);
                if (merged is null) continue;
                var last = exchange.View.Last(sink, topic, hour);
                // A version this node announced and has not read back yet: not announced again for a while.
                if (_pending.TryGetValue((sink, topic, hour), out var pending) && (last?.Version ?? 0) < pending.Version
                    && now - pending.AtMs < Math.Max(10 * (long)_options.CheckInterval.TotalMilliseconds, 10_000)) continue;
                var decided = HourRules.Decide(sink, topic, hour, merged, exchange.View.Merged(sink, topic, hour - UtcHours.Ms), gone,
                    _partitions.Of(topic), now, _options.Grace, last);
                if (decided is null) continue;
                try
                {
                    await exchange.PublishAsync(decided, cancellation).ConfigureAwait(false);
                    _pending[(sink, topic, hour)] = (decided.Version, now);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _warn?.Invoke($"watermarks: announcing {topic} {decided.HourText} v{decided.Version} failed: {e.GetBaseException().Message}; trying again");
                }
            }

            // This node's sink acts on each hour's newest version once (its _SUCCESS, its ADD PARTITION lines).
            foreach (var completion in exchange.View.Latest(sink).OrderBy(c => c.HourMs))
            {
                if (!tracker.TryGetActed(completion.Topic, completion.HourMs, out var acted) || acted >= completion.Version) continue;
                if (_listeners.TryGetValue(sink, out var l) && l.All.Count > 0)
                {
                    try
                    {
                        await l.All[0].HourCompletedAsync(completion, cancellation).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        _warn?.Invoke($"watermarks: sink {sink} failed on {completion.Topic} {completion.HourText} v{completion.Version}: {e.GetBaseException().Message}; trying again");
                        continue;
                    }
                }
                tracker.Acted(completion.Topic, completion.HourMs, completion.Version);
                announced.Add(completion);
            }
            try
            {
                tracker.Save(); // only now: a crash before the sink acted acts on the same version again after the restart
            }
            catch (IOException e)
            {
                _warn?.Invoke($"watermarks: saving the state of sink {sink} failed: {e.Message}; trying again at the next check");
            }
        }
    }

    private async Task AnnounceAsync(WatermarkTracker tracker, IReadOnlyList<HourCompletion> due, List<HourCompletion> announced, CancellationToken cancellation)
    {
        foreach (var completion in due)
        {
            // The sink acts first (a _SUCCESS): a completion is announced only once the sink acted on it.
            if (_listeners.TryGetValue(completion.Sink, out var l) && l.All.Count > 0)
            {
                try
                {
                    await l.All[0].HourCompletedAsync(completion, cancellation).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _warn?.Invoke($"watermarks: sink {completion.Sink} failed on {completion.Topic} {completion.HourText} v{completion.Version}: {e.GetBaseException().Message}; trying again");
                    tracker.Retry(completion);
                    continue;
                }
            }
            if (_publisher is not null)
            {
                try
                {
                    await _publisher.PublishAsync(completion, cancellation).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _warn?.Invoke($"watermarks: publishing {completion.Topic} {completion.HourText} v{completion.Version} failed: {e.GetBaseException().Message}");
                }
            }
            lock (_keptGate)
            {
                _kept.AddLast(completion);
                while (_kept.Count > _options.MaxKept) _kept.RemoveFirst();
            }
            announced.Add(completion);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_timer is { } timer) await timer.DisposeAsync().ConfigureAwait(false);
        await _checking.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var tracker in _trackers.Values)
            {
                try
                {
                    tracker.Save(); // the counts observed since the last check
                }
                catch (IOException e)
                {
                    _warn?.Invoke($"watermarks: saving the state of sink {tracker.Sink} failed: {e.Message}");
                }
            }
        }
        finally
        {
            _checking.Release();
        }
    }
}
