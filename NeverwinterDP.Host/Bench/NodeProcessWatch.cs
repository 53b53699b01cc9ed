using System.Diagnostics;

namespace NeverwinterDP.Host.Bench;

/// <summary>One reading of the node's process: CPU time used since it started and resident memory.</summary>
public readonly record struct ProcessSample(TimeSpan At, TimeSpan Cpu, long RssBytes);

/// <summary>The node's process over the run (<c>--pid</c>): CPU in percent of one core (as <c>top</c> shows it) and resident memory.</summary>
/// <param name="Pid">The process watched.</param>
/// <param name="CpuPercent">CPU over the whole load (start to load end), percent of one core.</param>
/// <param name="SteadyCpuPercent">CPU over the steady-state window; null without one.</param>
/// <param name="CpuMicrosPerEvent">CPU time per event accepted in the steady-state window; null without one.</param>
/// <param name="RssMaxBytes">Largest resident memory sampled during the run.</param>
/// <param name="RssEndBytes">Resident memory at the last sample.</param>
/// <param name="RssPeakBytes">The process's lifetime peak (Linux <c>VmHWM</c>), when the system reports one.</param>
/// <param name="Note">Why some figures are missing (the process ended, no permission), or null.</param>
public sealed record NodeProcessReport(
    int Pid,
    double CpuPercent,
    double? SteadyCpuPercent,
    double? CpuMicrosPerEvent,
    long RssMaxBytes,
    long RssEndBytes,
    long? RssPeakBytes,
    string? Note)
{
    /// <summary>The figures for samples taken from the start of the load; null when there are fewer than two.</summary>
    public static NodeProcessReport? From(int pid, IReadOnlyList<ProcessSample> samples, TimeSpan warmup, TimeSpan loadEnd, SteadyWindow? events,
        long? rssPeakBytes, string? note)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count < 2) return null;
        samples = samples.OrderBy(s => s.At).ToArray(); // the sampler and the end of the load sample from different threads
        var first = samples[0];
        // CPU as a total growing from the first sample, so the steady-state maths applies to it as to events.
        var cpu = samples.Select(s => new RateSample(s.At, (s.Cpu - first.Cpu).TotalMilliseconds)).ToList();
        var end = samples[^1].At < loadEnd ? samples[^1].At : loadEnd;
        var whole = SteadyState.Compute(cpu, first.At, end);
        var steady = SteadyState.Compute(cpu, warmup > first.At ? warmup : first.At, loadEnd);
        double? steadyPercent = steady is null ? null : steady.PerSecond / 10.0; // ms of CPU per second = 0.1 %
        double? perEvent = steady is not null && events is { Growth: > 0 } ? steady.Growth * 1000.0 / events.Growth : null;
        return new NodeProcessReport(pid, whole is null ? 0 : whole.PerSecond / 10.0, steadyPercent, perEvent,
            samples.Max(s => s.RssBytes), samples[^1].RssBytes, rssPeakBytes, note);
    }
}

/// <summary>
/// Reads a local process's CPU time and resident memory (on Linux from <c>/proc/PID/stat</c> and
/// <c>/proc/PID/status</c>, through <see cref="Process"/>), so the bench can report what the node under test
/// used. A process that ends or cannot be read stops the sampling; the report says why.
/// </summary>
public sealed class NodeProcessWatch : IDisposable
{
    private readonly Process _process;
    private readonly List<ProcessSample> _samples = [];
    private readonly Lock _gate = new();

    private NodeProcessWatch(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>Why sampling stopped early, or null.</summary>
    public string? Note { get; private set; }

    /// <summary>Opens the process; a usage error message when there is none of that id.</summary>
    public static NodeProcessWatch Open(int pid)
    {
        try
        {
            var process = Process.GetProcessById(pid);
            _ = process.TotalProcessorTime; // fails now, not mid-run, when it cannot be read
            return new NodeProcessWatch(process);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            throw new ArgumentException($"cannot read process {pid}: {e.Message}", nameof(pid), e);
        }
    }

    /// <summary>Takes one sample at <paramref name="at"/> (time since the run started).</summary>
    public void Sample(TimeSpan at)
    {
        lock (_gate)
        {
            if (Note is not null) return;
            try
            {
                _process.Refresh();
                if (_process.HasExited)
                {
                    Note = $"process {Pid} exited during the run";
                    return;
                }
                _samples.Add(new ProcessSample(at, _process.TotalProcessorTime, _process.WorkingSet64));
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                Note = $"process {Pid} could not be read: {e.Message}";
            }
        }
    }

    /// <summary>The process's figures for the run so far.</summary>
    public NodeProcessReport? Report(TimeSpan warmup, TimeSpan loadEnd, SteadyWindow? events)
    {
        lock (_gate)
        {
            long? peak = null;
            try
            {
                if (!_process.HasExited && _process.PeakWorkingSet64 > 0) peak = _process.PeakWorkingSet64;
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
            }
            return NodeProcessReport.From(Pid, _samples.ToArray(), warmup, loadEnd, events, peak, Note);
        }
    }

    public void Dispose() => _process.Dispose();
}
