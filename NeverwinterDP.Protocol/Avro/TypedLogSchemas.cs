using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Where every decoder of ours (<see cref="LogEventAvro.DecodeFramed"/>: the pump, replays, the spillover's stats,
/// the bus writer's hour counts) finds the writer's schema of a typed record by the id in its frame. The node adds
/// its registry's lookup at start; a schema is compiled once per id and kept (an id's schema never changes), so
/// the hot path is one dictionary read. One registry per process is assumed (a node is a process).
/// </summary>
public static class TypedLogSchemas
{
    // Ids that are not a typed log type's record are remembered too, so a foreign record costs one lookup, not one per record.
    private static readonly ConcurrentDictionary<int, TypedLogSchema?> Compiled = new();
    private static ImmutableList<Func<int, string?>> s_lookups = [];

    /// <summary>Adds a lookup (schema id → schema text, null when unknown) until the result is disposed.</summary>
    public static IDisposable AddLookup(Func<int, string?> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        ImmutableInterlocked.Update(ref s_lookups, l => l.Add(lookup));
        return new Removal(lookup);
    }

    /// <summary>The typed log schema with this id, or null when no lookup knows it or it is another kind of schema.</summary>
    public static TypedLogSchema? ById(int id)
    {
        if (Compiled.TryGetValue(id, out var known)) return known;
        foreach (var lookup in s_lookups)
        {
            if (lookup(id) is not { } text) continue;
            // Known and not ours (e.g. a client's own schema): remembered as null.
            return Compiled.GetOrAdd(id, key => TypedLogSchema.TryCompile(key, text, out _));
        }
        return null; // unknown yet (not remembered: it may be registered a moment later)
    }

    /// <summary>Remembers a compiled schema (what ingress compiled from its registry) so decoders need no lookup.</summary>
    public static TypedLogSchema Remember(TypedLogSchema schema) => Compiled.GetOrAdd(schema.Id, schema) ?? schema;

    private sealed class Removal(Func<int, string?> lookup) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) ImmutableInterlocked.Update(ref s_lookups, l => l.Remove(lookup));
        }
    }
}
