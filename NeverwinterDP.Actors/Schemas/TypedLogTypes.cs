using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Schemas;

/// <summary>
/// Which log types are typed, for ingress: the latest live version of each <c>nwdp.logs.&lt;type&gt;-value</c> subject
/// that is a typed log schema (<see cref="TypedLogSchema"/>). Rebuilt from the in-memory <see cref="SchemaStore"/> only
/// when it applied a record since (its <see cref="SchemaStore.Generation"/>), so a request costs one counter read and
/// one dictionary read per run of one topic: no registry call per record. A schema registered on another node counts
/// here once this node's <see cref="SchemaLog"/> read it (it tails the topic).
/// </summary>
public sealed class TypedLogTypes(SchemaStore store, Action<string>? warn = null)
{
    private sealed record Snapshot(long Generation, IReadOnlyDictionary<string, TypedLogSchema> ByTopic);

    private Snapshot _snapshot = new(-1, new Dictionary<string, TypedLogSchema>());
    private readonly HashSet<int> _warned = [];

    /// <summary>The schema events of <paramref name="topic"/> (<c>nwdp.logs.&lt;type&gt;</c>) are written with; null when the type is not typed.</summary>
    public TypedLogSchema? ForTopic(string topic)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot.Generation != store.Generation) snapshot = Rebuild();
        return snapshot.ByTopic.GetValueOrDefault(topic);
    }

    /// <summary>The first event of <paramref name="events"/> whose typed attributes do not fit its type's schema: its index and why.</summary>
    public (int Index, TypedFieldProblem Problem)? FirstInvalid(IReadOnlyList<LogEvent> events)
    {
        string? lastType = null;
        TypedLogSchema? schema = null;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e.Type != lastType)
            {
                schema = ForTopic(TopicNames.ForType(e.Type));
                lastType = e.Type;
            }
            if (schema?.Validate(e) is { } problem) return (i, problem with { Message = $"{problem.Message} (log type '{e.Type}', schema id {schema.Id})" });
        }
        return null;
    }

    private Snapshot Rebuild()
    {
        lock (_warned)
        {
            var generation = store.Generation; // read first: a record applied meanwhile makes the next call rebuild again
            var byTopic = new Dictionary<string, TypedLogSchema>(StringComparer.Ordinal);
            foreach (var subject in store.Subjects())
            {
                if (!subject.StartsWith(TopicNames.LogsPrefix, StringComparison.Ordinal) || !subject.EndsWith("-value", StringComparison.Ordinal)) continue;
                if (store.Versions(subject) is not { Count: > 0 } versions) continue;
                var latest = versions[^1];
                var schema = TypedLogSchemas.ById(latest.Id);
                if (schema is null && TypedLogSchema.TryCompile(latest.Id, latest.Schema, out _) is { } compiled) schema = TypedLogSchemas.Remember(compiled);
                if (schema is null)
                {
                    // Someone registered another kind of schema under a log type's subject: its events stay untyped.
                    if (_warned.Add(latest.Id))
                        warn?.Invoke($"schema id {latest.Id} (latest of {subject}) is not a typed log schema (the LogEvent envelope, then typed attributes): events of that type are written untyped");
                    continue;
                }
                byTopic[subject[..^"-value".Length]] = schema;
            }
            var snapshot = new Snapshot(generation, byTopic);
            Volatile.Write(ref _snapshot, snapshot);
            return snapshot;
        }
    }
}

/// <summary>A log type's schema as registered: its subject, the schema's id and the subject's version holding it.</summary>
public sealed record TypeSchemaRegistered(string Type, string Subject, int Id, int Version);

public static class TypeSchemaRegistration
{
    /// <summary>The subject a log type's records are registered under: Confluent's TopicNameStrategy for its topic.</summary>
    public static string SubjectOf(string logType) => TopicNames.ForType(logType) + "-value";

    /// <summary>
    /// Registers the schema of <paramref name="logType"/>'s attributes (<see cref="TypedLogSchema.Wrap"/>) as the next
    /// version of its subject, checked by the registry's compatibility level like any registration.
    /// </summary>
    /// <exception cref="SchemaRegistryException">42201 for a schema a log type cannot have, 409 when incompatible, ...</exception>
    public static async Task<TypeSchemaRegistered> RegisterTypeAsync(this SchemaRegistry registry, string logType, string attributesSchema, CancellationToken cancellation = default)
    {
        string wrapped;
        try
        {
            wrapped = TypedLogSchema.Wrap(logType, attributesSchema);
        }
        catch (TypedSchemaException e)
        {
            throw SchemaRegistryException.InvalidSchema(e.Message);
        }
        var subject = SubjectOf(logType);
        var id = await registry.RegisterAsync(subject, wrapped, cancellation).ConfigureAwait(false);
        var version = (await registry.LookupAsync(subject, wrapped, deleted: false, cancellation).ConfigureAwait(false)).Version;
        return new TypeSchemaRegistered(logType, subject, id, version);
    }
}
