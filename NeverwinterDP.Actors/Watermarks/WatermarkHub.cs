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
    private ITimer? _timer;

    /// <param name="stateDirectory">Where each sink's tracker keeps its state across restarts (<c>&lt;data&gt;/watermarks</c>); null: in memory.</param>
    public WatermarkHub(WatermarkOptions options, TimeProvider clock, IPartitionCounts partitions, IWatermarkPublisher? publisher = null,
        Func<IReadOnlyCollection<string>>? goneNodes = null, Action<string>? warn = null, string? stateDirectory = null)
    {
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
        _trackers.GetOrAdd(sink, s => new WatermarkTracker(s, _options, _clock, _partitions, _goneNodes,
            _stateDirectory is null ? null : Path.Combine(_stateDirectory, FileNameOf(s) + ".json")));

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
            _checking.Release();
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
