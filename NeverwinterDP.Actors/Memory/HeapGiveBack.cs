namespace NeverwinterDP.Actors.Memory;

/// <summary>
/// Gives the heap back to the OS after bursts, in one place for the whole process (the GC heap is the process's): the
/// holders of large transient memory (HTTP ingress, each data pump) register how many bytes they hold now and report,
/// when work that held a lot at once ends, how much that was (<see cref="Held"/>). After a report of at least
/// <see cref="After"/> bytes, once every holder holds nothing for a moment (twice, <see cref="Idle"/>/8 apart, so not
/// a gap between two requests or batches of a running load): one full, compacting collection that hands the freed
/// memory back. Without it the GC keeps the heap it grew to for the burst (the process's RSS stays there) until memory
/// runs short. One check is pending at a time; it looks again every <see cref="Idle"/> while a holder is busy, so the
/// last burst is always followed by one, and it runs at most once per <see cref="Interval"/>: a pause of the process's
/// few milliseconds when it is idle.
/// </summary>
public sealed class HeapGiveBack
{
    /// <summary>The process's: ingress and the pumps of every node in it report here.</summary>
    public static HeapGiveBack Shared { get; } = new(16L << 20, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2));

    private readonly object _lock = new();
    private Holder[] _holders = [];
    private int _pending;
    private int _requested;
    private long _last;
    private long _count;

    public HeapGiveBack(long after, TimeSpan interval, TimeSpan idle)
    {
        After = after;
        Interval = interval;
        Idle = idle;
        _last = Environment.TickCount64 - (long)interval.TotalMilliseconds;
    }

    /// <summary>Reports of fewer bytes than this are not followed by a give-back.</summary>
    public long After { get; }

    /// <summary>At most one give-back per this long.</summary>
    public TimeSpan Interval { get; }

    /// <summary>How long every holder must hold nothing (checked twice, this/8 apart).</summary>
    public TimeSpan Idle { get; }

    /// <summary>Give-backs done so far (for tests and diagnostics).</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>
    /// Registers a holder: <paramref name="inFlight"/> tells how many bytes it holds now (0 = idle), <paramref name="givenBack"/>
    /// (optional) is called just before each give-back (e.g. to reset a peak). Dispose to unregister.
    /// </summary>
    public IDisposable Register(Func<long> inFlight, Action? givenBack = null)
    {
        var holder = new Holder(this, inFlight, givenBack);
        lock (_lock) _holders = [.. _holders, holder];
        return holder;
    }

    /// <summary>Work that held <paramref name="bytes"/> at once ended: at least <see cref="After"/>, a give-back follows once all are idle.</summary>
    public void Held(long bytes)
    {
        if (bytes < After) return;
        Volatile.Write(ref _requested, 1);
        if (Interlocked.Exchange(ref _pending, 1) == 1) return;
        _ = Task.Run(GiveBackWhenIdleAsync);
    }

    private async Task GiveBackWhenIdleAsync()
    {
        try
        {
            var sinceLast = Environment.TickCount64 - Interlocked.Read(ref _last);
            var wait = TimeSpan.FromMilliseconds(Math.Max(Idle.TotalMilliseconds, Interval.TotalMilliseconds - sinceLast));
            while (true)
            {
                await Task.Delay(wait).ConfigureAwait(false);
                if (AllIdle())
                {
                    await Task.Delay(Idle / 8).ConfigureAwait(false);
                    if (AllIdle()) break;
                }
                wait = Idle;
            }
            Volatile.Write(ref _requested, 0);
            foreach (var holder in Volatile.Read(ref _holders))
            {
                try { holder.GivenBack?.Invoke(); } catch (Exception) { /* a holder's reset must not stop the give-back */ }
            }
            Interlocked.Exchange(ref _last, Environment.TickCount64);
            CompactHeap(GCCollectionMode.Aggressive);
            Interlocked.Increment(ref _count);
        }
        finally
        {
            Volatile.Write(ref _pending, 0);
        }
        // A report that came in while the collection ran (after the last idle check) gets a give-back of its own.
        if (Volatile.Read(ref _requested) == 1 && Interlocked.Exchange(ref _pending, 1) == 0) _ = Task.Run(GiveBackWhenIdleAsync);
    }

    private bool AllIdle()
    {
        foreach (var holder in Volatile.Read(ref _holders))
        {
            try
            {
                if (holder.InFlight() > 0) return false;
            }
            catch (Exception)
            {
                // A holder that cannot say (being torn down) is taken as idle.
            }
        }
        return true;
    }

    /// <summary>One full, blocking collection that compacts the large-object heap too (where large buffers were).</summary>
    public static void CompactHeap(GCCollectionMode mode)
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, mode, blocking: true, compacting: true);
        TrimNativeHeap();
    }

    private static int _trimUnavailable;

    /// <summary>
    /// Hands the native heap's free memory back too (glibc's <c>malloc_trim</c>): librdkafka's fetch buffers and queued
    /// records of large events are native, and glibc keeps what they freed in its arenas (its mmap threshold grows with
    /// the sizes freed, so later large blocks come from the arenas) until trimmed. Nothing where glibc is not the C library.
    /// </summary>
    private static void TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref _trimUnavailable) == 1) return;
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref _trimUnavailable, 1); // musl and others: nothing to trim this way
        }
    }

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private sealed class Holder(HeapGiveBack owner, Func<long> inFlight, Action? givenBack) : IDisposable
    {
        public Func<long> InFlight { get; } = inFlight;
        public Action? GivenBack { get; } = givenBack;

        public void Dispose()
        {
            lock (owner._lock) owner._holders = owner._holders.Where(h => !ReferenceEquals(h, this)).ToArray();
        }
    }
}
