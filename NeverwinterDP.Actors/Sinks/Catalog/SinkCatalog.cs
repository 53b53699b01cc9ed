using Akka.Configuration;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Sinks.Catalog;

/// <summary>A sink class the node can build, by <c>kind</c> (what <see cref="SinkKinds.AddSinkKind"/> registers).</summary>
public sealed record SinkKind(string Kind, Func<SinkSection, ISink> Create)
{
    /// <summary>
    /// The enabled instances under <c>nwdp.sinks</c> with their kind; throws <see cref="SinkConfigException"/>
    /// naming the key for an unknown kind or a bad common option.
    /// </summary>
    public static List<(SinkSection Section, SinkKind Kind)> Resolve(IEnumerable<SinkKind> kinds, Config? sinks, string dataDir)
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
    public static List<(SinkSection Section, ISink Sink)> CreateAll(IEnumerable<SinkKind> kinds, Config? sinks, string dataDir) =>
        Resolve(kinds, sinks, dataDir).Select(r => (r.Section, r.Kind.Create(r.Section))).ToList();
}

/// <summary>
/// Where the sink instances are configured: the <c>nwdp.sinks</c> section and the node's data directory;
/// <paramref name="Completions"/>: whether hour completions are announced (<c>nwdp.watermarks.enabled</c>).
/// </summary>
public sealed record SinkCatalogSettings(Config? Sinks, string DataDir, bool Completions = true);

/// <summary>
/// The sink instances configured under <c>nwdp.sinks</c>, checked once at start (an unknown kind or a bad
/// option stops the node with the key named), and the factory that builds a fresh instance by name.
/// </summary>
public sealed class SinkCatalog
{
    private readonly Dictionary<string, (SinkSection Section, SinkKind Kind)> _sinks = new(StringComparer.Ordinal);

    public SinkCatalog(SinkCatalogSettings settings, IEnumerable<SinkKind> kinds)
    {
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var (section, kind) in SinkKind.Resolve(kinds, settings.Sinks, settings.DataDir))
        {
            // Built once now so every option is validated at start (constructors do no I/O; OpenAsync does).
            var sink = kind.Create(section);
            var waits = sink is IHourCompletionListener { RequiresCompletions: { } key } ? key : null;
            sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (waits is not null && !settings.Completions)
                throw new SinkConfigException(waits, "waits for hour completions, and nwdp.watermarks.enabled = off announces none (the hours would never be marked): turn watermarks on, or set the other choice");
            _sinks[section.Name] = (section, kind);
        }
        Names = _sinks.Keys.Order(StringComparer.Ordinal).ToList();
        Sections = Names.Select(n => _sinks[n].Section).ToList();
    }

    /// <summary>The instance names, in order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The instances' sections, in name order (built once: the ingress backlog guard reads them per request).</summary>
    public IReadOnlyList<SinkSection> Sections { get; }

    public SinkSection Section(string sinkName) => Lookup(sinkName).Section;

    /// <summary>A new, unopened instance of the named sink.</summary>
    public ISink Create(string sinkName)
    {
        var (section, kind) = Lookup(sinkName);
        return kind.Create(section);
    }

    private (SinkSection Section, SinkKind Kind) Lookup(string sinkName) =>
        _sinks.TryGetValue(sinkName, out var s) ? s : throw new InvalidOperationException($"no sink '{sinkName}' is configured on this node");
}
