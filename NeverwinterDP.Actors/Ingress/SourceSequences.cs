namespace NeverwinterDP.Actors.Ingress;

/// <summary>Per-source (host, process) sequence numbers stamped on events' lineage, shared by every way into the bus.</summary>
public sealed class SourceSequences
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), StrongBox> _next = new();

    public long Next(string host, string process) => Interlocked.Increment(ref _next.GetOrAdd((host, process), _ => new StrongBox()).Value);

    private sealed class StrongBox
    {
        public long Value;
    }
}
