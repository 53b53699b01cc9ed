using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>
/// One mirror the cluster runs (<c>nwdp.mirrors.&lt;name&gt;</c>): what it copies, the two clusters it copies between, and
/// which source consumer groups' offsets it translates for the target (<see cref="MirrorCheckpoints"/>).
/// </summary>
public sealed record MirrorDefinition(MirrorOptions Options, KafkaClients Source, KafkaClients Target, MirrorCheckpointOptions Checkpoints)
{
    public string Name => Options.Name;
}

/// <summary>The mirrors configured on this node, by name (validated at start; the same on every node).</summary>
public sealed class MirrorCatalog
{
    private readonly Dictionary<string, MirrorDefinition> _mirrors;

    public MirrorCatalog(IEnumerable<MirrorDefinition> mirrors)
    {
        _mirrors = mirrors.ToDictionary(m => m.Name, StringComparer.Ordinal);
        Names = _mirrors.Keys.Order(StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<string> Names { get; }

    public IEnumerable<MirrorDefinition> All => Names.Select(n => _mirrors[n]);

    public bool Contains(string name) => _mirrors.ContainsKey(name);

    public MirrorDefinition Get(string name) =>
        _mirrors.TryGetValue(name, out var m) ? m : throw new InvalidOperationException($"no mirror '{name}' is configured on this node");
}
