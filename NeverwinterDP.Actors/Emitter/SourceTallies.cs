using System.Collections.Concurrent;
using System.Text;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Emitter;

/// <summary>
/// What ingress accepted per source (host and process) since the last <see cref="Drain"/>. Requests add on their own
/// threads: one uncontended lock per event and no allocation once a source is known (a message per source and request
/// to an actor cost more than the parse). The registry's aggregator drains it every flush interval.
/// </summary>
internal sealed class SourceTallies
{
    private readonly ConcurrentDictionary<(string Host, string Process), Tally> _tallies = new();

    public void Add(IReadOnlyList<LogEvent> events)
    {
        Tally? tally = null;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            // The parser shares a request's host and process strings: comparing references finds the same source cheaply.
            if (tally is null || !ReferenceEquals(tally.Host, e.Host) || !ReferenceEquals(tally.Process, e.Process)) tally = For(e.Host, e.Process);
            while (!tally.TryAdd(e)) tally = For(e.Host, e.Process); // drained and retired meanwhile: a fresh one
        }
    }

    private Tally For(string host, string process) => _tallies.GetOrAdd((host, process), static key => new Tally(key.Host, key.Process));

    /// <summary>Each source's sums since the last drain; sources idle since then are forgotten.</summary>
    public List<SourceActivity> Drain()
    {
        var drained = new List<SourceActivity>(_tallies.Count);
        foreach (var (key, tally) in _tallies)
        {
            if (tally.TakeOrRetire() is { } activity) drained.Add(activity);
            else _tallies.TryRemove(new KeyValuePair<(string, string), Tally>(key, tally));
        }
        return drained;
    }

    private sealed class Tally(string host, string process)
    {
        public readonly string Host = host;
        public readonly string Process = process;
        private readonly Dictionary<string, long> _types = new(1);
        private long _events, _bytes, _first = long.MaxValue, _last = long.MinValue, _seq;
        private string _version = "";
        private bool _retired;

        public bool TryAdd(LogEvent e)
        {
            var bytes = e.MessageByteCount();
            lock (this)
            {
                if (_retired) return false;
                _events++;
                _bytes += bytes;
                if (e.SystemTs < _first) _first = e.SystemTs;
                if (e.SystemTs > _last) _last = e.SystemTs;
                if (e.Lineage.SourceSeq > _seq) _seq = e.Lineage.SourceSeq;
                if (!string.IsNullOrEmpty(e.Version)) _version = e.Version;
                System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_types, e.Type, out _)++;
                return true;
            }
        }

        /// <summary>The sums so far, reset; or null, and this tally retired, when nothing came since the last drain.</summary>
        public SourceActivity? TakeOrRetire()
        {
            lock (this)
            {
                if (_events == 0)
                {
                    _retired = true;
                    return null;
                }
                var activity = new SourceActivity(EmitterRegistry.SourceIdOf(Host, Process), Host, Process, _first, _last, _version,
                    new Dictionary<string, long>(_types), _events, _bytes, _seq);
                _types.Clear();
                _events = _bytes = _seq = 0;
                _first = long.MaxValue;
                _last = long.MinValue;
                _version = "";
                return activity;
            }
        }
    }
}
