using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Coverage;

/// <summary>Events, bytes, error-level events and the attribute keys seen in one minute (of one type).</summary>
public sealed class MinuteCounts
{
    public long Events;
    public long Bytes;
    public long Errors;
    public Dictionary<string, long> Keys { get; init; } = new(StringComparer.Ordinal);

    public void Merge(MinuteCounts other)
    {
        Events += other.Events;
        Bytes += other.Bytes;
        Errors += other.Errors;
        foreach (var (k, n) in other.Keys) Keys[k] = Keys.GetValueOrDefault(k) + n;
    }
}

/// <summary>
/// Everything the reports know of one log type in one UTC hour (of the events' ingress time), as seen by one node or
/// merged over several: events, bytes (UTF-8 bytes of the messages), error-level events, distinct hosts and sources
/// (host/process), and per attribute key a <see cref="KeySketch"/>; per minute the counts and the keys' presence.
/// Bounded: at most <see cref="CoverageOptions.MaxKeysPerType"/> keys (occurrences of more are counted in
/// <see cref="KeysDropped"/>). Not thread-safe.
/// </summary>
public sealed class CoverageSketch
{
    public const long MinuteMs = 60_000;

    private readonly CoverageOptions _options;

    public CoverageSketch(string type, long hourStartMs, CoverageOptions options)
    {
        Type = type;
        HourStartMs = hourStartMs;
        _options = options;
        Hosts = new HyperLogLog(options.HllPrecision);
        Sources = new HyperLogLog(options.HllPrecision);
    }

    public string Type { get; }
    public long HourStartMs { get; }

    /// <summary>Events of the type in the hour (sketched or not).</summary>
    public long Events { get; private set; }

    public long Bytes { get; private set; }
    public long Errors { get; private set; }

    /// <summary>Events counted (events, bytes, errors) but not sketched because the sketcher was behind.</summary>
    public long Unsketched { get; private set; }

    /// <summary>Attribute occurrences of keys past <see cref="CoverageOptions.MaxKeysPerType"/>.</summary>
    public long KeysDropped { get; private set; }

    public long FirstMs { get; private set; } = long.MaxValue;
    public long LastMs { get; private set; } = long.MinValue;
    public HyperLogLog Hosts { get; private set; }
    public HyperLogLog Sources { get; private set; }
    public Dictionary<string, KeySketch> Keys { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<long, MinuteCounts> Minutes { get; } = new();

    /// <summary>Changed since it was last published.</summary>
    public bool Dirty { get; set; }

    /// <summary>Events whose attributes were sketched (the denominator of key shares).</summary>
    public long Sketched => Events - Unsketched;

    public void Add(LogEvent e, bool error, bool sketch = true)
    {
        Dirty = true;
        var bytes = e.MessageByteCount();
        Events++;
        Bytes += bytes;
        if (error) Errors++;
        var ts = e.SystemTs;
        if (ts < FirstMs) FirstMs = ts;
        if (ts > LastMs) LastMs = ts;
        var minuteStart = ts - ((ts % MinuteMs) + MinuteMs) % MinuteMs;
        // Consecutive events mostly share their minute: skip the sorted dictionary's search for them.
        var minute = _lastMinute;
        if (minute is null || _lastMinuteStart != minuteStart)
        {
            if (!Minutes.TryGetValue(minuteStart, out minute)) Minutes[minuteStart] = minute = new MinuteCounts();
            (_lastMinute, _lastMinuteStart) = (minute, minuteStart);
        }
        minute.Events++;
        minute.Bytes += bytes;
        if (error) minute.Errors++;
        if (!sketch)
        {
            Unsketched++;
            return;
        }
        var hostHash = StableHash.Of(e.Host);
        Hosts.AddHash(hostHash);
        Sources.AddHash(StableHash.Mix(hostHash ^ StableHash.Of(e.Process) * 0x9E3779B97F4A7C15UL));
        // The parsers' Dictionary: its struct enumerator, not the interface's boxed one.
        if (e.Attributes is Dictionary<string, string> attributes)
            foreach (var (key, raw) in attributes) AddAttribute(minute, key, raw, ts);
        else
            foreach (var (key, raw) in e.Attributes) AddAttribute(minute, key, raw, ts);
    }

    private void AddAttribute(MinuteCounts minute, string key, string raw, long ts)
    {
        if (!Keys.TryGetValue(key, out var k))
        {
            if (Keys.Count >= _options.MaxKeysPerType)
            {
                KeysDropped++;
                return;
            }
            Keys[key] = k = new KeySketch(_options.HllPrecision, _options.TopValues);
        }
        var value = raw.Length > _options.MaxValueLength ? raw[.._options.MaxValueLength] : raw;
        k.Add(value, ts);
        CollectionsMarshal.GetValueRefOrAddDefault(minute.Keys, key, out _)++;
    }

    private MinuteCounts? _lastMinute;
    private long _lastMinuteStart;

    /// <summary>Adds another node's (or another hour's) sketch of the same type.</summary>
    public void Merge(CoverageSketch other)
    {
        Events += other.Events;
        Bytes += other.Bytes;
        Errors += other.Errors;
        Unsketched += other.Unsketched;
        KeysDropped += other.KeysDropped;
        FirstMs = Math.Min(FirstMs, other.FirstMs);
        LastMs = Math.Max(LastMs, other.LastMs);
        Hosts.Merge(other.Hosts);
        Sources.Merge(other.Sources);
        foreach (var (key, k) in other.Keys)
        {
            if (Keys.TryGetValue(key, out var mine)) mine.Merge(k);
            // A merge for a report is not bounded by max-keys-per-type: every node's keys are answered.
            else Keys[key] = KeySketch.FromWire(k.ToWire());
        }
        foreach (var (start, m) in other.Minutes)
        {
            if (!Minutes.TryGetValue(start, out var mine)) Minutes[start] = mine = new MinuteCounts();
            mine.Merge(m);
        }
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The record this node publishes on <c>nwdp.coverage</c>: gzip of JSON (registers and top values compress well).</summary>
    public byte[] ToRecord(string node, long publishedMs)
    {
        var wire = new CoverageRecord(1, node, Type, HourStartMs, publishedMs, Events, Bytes, Errors, Unsketched, KeysDropped, FirstMs, LastMs,
            Hosts.Serialize(), Sources.Serialize(),
            Keys.ToDictionary(kv => kv.Key, kv => kv.Value.ToWire(), StringComparer.Ordinal),
            Minutes.Select(kv => new MinuteWire(kv.Key, kv.Value.Events, kv.Value.Bytes, kv.Value.Errors, kv.Value.Keys)).ToList());
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            JsonSerializer.Serialize(gzip, wire, Json);
        return buffer.ToArray();
    }

    /// <summary>Reads a record of <c>nwdp.coverage</c> back: the node that published it, when, and the sketch.</summary>
    /// <exception cref="FormatException">Not a coverage record.</exception>
    public static (string Node, long PublishedMs, CoverageSketch Sketch) FromRecord(byte[] record, CoverageOptions options)
    {
        CoverageRecord wire;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(record), CompressionMode.Decompress);
            wire = JsonSerializer.Deserialize<CoverageRecord>(gzip, Json) ?? throw new FormatException("a null coverage record");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
        {
            throw new FormatException($"not a coverage record: {e.Message}", e);
        }
        var sketch = new CoverageSketch(wire.Type, wire.HourMs, options)
        {
            Events = wire.Events, Bytes = wire.Bytes, Errors = wire.Errors, Unsketched = wire.Unsketched, KeysDropped = wire.KeysDropped,
            FirstMs = wire.FirstMs, LastMs = wire.LastMs,
            Hosts = HyperLogLog.Deserialize(wire.Hosts), Sources = HyperLogLog.Deserialize(wire.Sources),
        };
        foreach (var (key, k) in wire.Keys) sketch.Keys[key] = KeySketch.FromWire(k);
        foreach (var m in wire.Minutes)
            sketch.Minutes[m.MinuteMs] = new MinuteCounts { Events = m.Events, Bytes = m.Bytes, Errors = m.Errors, Keys = new Dictionary<string, long>(m.Keys, StringComparer.Ordinal) };
        return (wire.Node, wire.PublishedMs, sketch);
    }

    /// <summary>An empty sketch to merge others into (for a report).</summary>
    public static CoverageSketch Empty(string type, long hourStartMs, CoverageOptions options) => new(type, hourStartMs, options);
}

public sealed record MinuteWire(long MinuteMs, long Events, long Bytes, long Errors, Dictionary<string, long> Keys);

/// <summary>One record of the <c>nwdp.coverage</c> topic: one node's sketch so far of one (type, hour).</summary>
public sealed record CoverageRecord(
    int V, string Node, string Type, long HourMs, long PublishedMs, long Events, long Bytes, long Errors, long Unsketched, long KeysDropped,
    long FirstMs, long LastMs, string Hosts, string Sources, Dictionary<string, KeySketchWire> Keys, List<MinuteWire> Minutes);
