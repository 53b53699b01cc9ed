using Akka.Hosting;
using Akka.Actor.Setup;
using NeverwinterDP.Protocol.AtRest;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>Actor registry key of this node's spill store (<see cref="SpillStoreActor"/>).</summary>
public sealed class SpillStore;

/// <summary>The spill keys the <see cref="SpillSerializer"/> seals and opens journal rows with (none: rows in the clear).</summary>
public sealed class SpillKeysSetup(SpillKeyRing keys) : Setup
{
    public SpillKeyRing Keys { get; } = keys;
}

/// <summary>
/// Where this node's spill store is (a SQLite file on its disk), its id, the journal and query plugins that write
/// and read it, and the spillover persistence ids it held at start.
/// </summary>
/// <param name="Plugins">The plugins' configuration (null when the store is the node's own journal), added under the node's configuration.</param>
public sealed record SpillStoreInfo(string Path, string Id, string? JournalPluginId, string ReadJournalPluginId, Akka.Configuration.Config? Plugins, IReadOnlyList<string> PersistenceIds)
{
    /// <summary>What the <see cref="SpillHeader"/> of this store's own replayed records of <paramref name="topic"/> starts with, before the sequence number.</summary>
    public string HeaderOrigin(string topic) => SpilloverEntity.TypeName + "|" + topic + "@" + Id;
}

public static class SpilloverHosting
{
    /// <summary>
    /// This node's spill store (<see cref="SpillStoreActor"/>), one per node, on the node's disk, with its entities'
    /// <see cref="SpillContext"/> from the container; journal rows sealed and opened with <paramref name="keys"/>.
    /// </summary>
    public static AkkaConfigurationBuilder WithSpillover(this AkkaConfigurationBuilder akka, SpillKeyRing keys, SpillStoreInfo store) =>
        (store.Plugins is null ? akka : akka.AddHocon(store.Plugins, HoconAddMode.Append))
            .AddHocon(SpillSerializer.Hocon, HoconAddMode.Prepend)
            .AddSetup(new SpillKeysSetup(keys))
            .WithActors((system, registry, resolver) =>
                registry.Register<SpillStore>(system.ActorOf(SpillStoreActor.PropsFor(resolver.GetService<SpillContext>(), store.PersistenceIds), "spill-store")));
}
