using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// The sink instances configured under <c>nwdp.sinks</c>, checked once at start (an unknown kind or a bad
/// option stops the node with the key named), and the factory sink writers use to build their own instance.
/// </summary>
public sealed class SinkCatalog : ISinkCatalog
{
    private readonly Dictionary<string, (SinkSection Section, SinkKind Kind)> _sinks = new(StringComparer.Ordinal);
    private readonly PumpOptions _pump;

    public SinkCatalog(NodeConfig config, IEnumerable<SinkKind> kinds)
    {
        _pump = config.Pump;
        WritersPerSink = config.WritersPerSink;
        foreach (var (section, kind) in SinkKind.Resolve(kinds, config.Sinks, config.DataDir))
        {
            // Built once now so every option is validated at start (constructors do no I/O; OpenAsync does).
            kind.Create(section).DisposeAsync().AsTask().GetAwaiter().GetResult();
            _sinks[section.Name] = (section, kind);
        }
        EntityIds = _sinks.Keys.Order(StringComparer.Ordinal)
            .SelectMany(name => Enumerable.Range(0, WritersPerSink).Select(slot => $"{name}/{slot}"))
            .ToList();
    }

    public int WritersPerSink { get; }

    public IReadOnlyCollection<SinkSection> Sections => _sinks.Values.Select(s => s.Section).ToList();

    public IReadOnlyList<string> EntityIds { get; }

    public (ISink Sink, PumpOptions Options) Create(string sinkName)
    {
        if (!_sinks.TryGetValue(sinkName, out var s)) throw new InvalidOperationException($"no sink '{sinkName}' is configured on this node");
        return (s.Kind.Create(s.Section), _pump with { TopicPattern = s.Section.Topics });
    }
}

/// <summary>A sink class the host can build, by <c>kind</c> (what <c>AddSinkKind</c> registers).</summary>
public sealed record SinkKind(string Kind, Func<SinkSection, ISink> Create)
{
    /// <summary>
    /// The enabled instances under <c>nwdp.sinks</c> with their kind; throws <see cref="SinkConfigException"/>
    /// naming the key for an unknown kind or a bad common option.
    /// </summary>
    public static List<(SinkSection Section, SinkKind Kind)> Resolve(IEnumerable<SinkKind> kinds, Akka.Configuration.Config? sinks, string dataDir)
    {
        var byKind = kinds.ToDictionary(k => k.Kind, StringComparer.OrdinalIgnoreCase);
        var result = new List<(SinkSection, SinkKind)>();
        if (sinks is null || sinks.IsEmpty) return result;
        foreach (var name in sinks.AsEnumerable().Select(kv => kv.Key.Split('.')[0]).Distinct().Order(StringComparer.Ordinal))
        {
            var section = new SinkSection(name, sinks.GetConfig(name), dataDir);
            if (!section.Enabled) continue;
            if (!byKind.TryGetValue(section.Kind, out var kind))
                throw new SinkConfigException(section.Key("kind"), $"unknown sink kind '{section.Kind}'; this build knows {string.Join(", ", byKind.Keys.Order())}");
            result.Add((section, kind));
        }
        return result;
    }

    /// <summary>Builds every enabled instance (validating its options).</summary>
    public static List<(SinkSection Section, ISink Sink)> CreateAll(IEnumerable<SinkKind> kinds, Akka.Configuration.Config? sinks, string dataDir) =>
        Resolve(kinds, sinks, dataDir).Select(r => (r.Section, r.Kind.Create(r.Section))).ToList();
}
