using System.Collections.Concurrent;
using System.Globalization;
using Avro;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Schemas;

/// <summary>
/// The operations of the schema registry (Confluent's semantics) over the <see cref="SchemaStore"/> every node holds
/// and the <see cref="SchemaLog"/> it is written through. A write reads the topic to its end, decides (ids,
/// versions, compatibility) on that state, writes one record naming that end offset and answers once it read the
/// record back: if another node wrote first, the record does not count (<see cref="SchemaStore"/>) and the write
/// is decided again. No leader to elect, and the same ids on every node.
/// </summary>
public sealed class SchemaRegistry(SchemaStore store, SchemaLog log, TimeSpan timeout)
{
    private const int MaxAttempts = 8;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly ConcurrentDictionary<string, Schema> _parsed = new(StringComparer.Ordinal);

    public SchemaStore Store => store;

    /// <summary>Registers <paramref name="schema"/> under <paramref name="subject"/> (or finds it there) and returns its id.</summary>
    public async Task<int> RegisterAsync(string subject, string schema, CancellationToken cancellation = default)
    {
        var (parsed, canonical) = ParseNew(schema);
        return await WriteAsync(async () =>
        {
            for (var attempt = 1; attempt <= MaxAttempts; attempt++)
            {
                var end = await log.CatchUpAsync(timeout, cancellation).ConfigureAwait(false);
                var live = store.Versions(subject);
                if (live.FirstOrDefault(v => v.Schema == canonical) is { } existing) return existing.Id;
                var problems = AvroCompatibility.Check(store.EffectiveConfig(subject), parsed, live.Select(v => Parsed(v.Schema)).ToList());
                if (problems.Count > 0) throw SchemaRegistryException.Incompatible(subject, problems);
                var id = store.IdOf(canonical) ?? store.MaxId + 1;
                var version = store.Versions(subject, deleted: true).Select(v => v.Version).DefaultIfEmpty(0).Max() + 1;
                var key = SchemaRecords.SchemaKey(subject, version);
                var offset = await log.WriteAsync(key, SchemaRecords.SchemaValue(subject, version, id, canonical, end), timeout, cancellation).ConfigureAwait(false);
                if (offset == end) return id;
                // Another node wrote first: this record does not count; drop it from the topic and decide again.
                await log.WriteAsync(key, null, timeout, cancellation).ConfigureAwait(false);
            }
            throw SchemaRegistryException.StoreError($"gave up registering under '{subject}' after {MaxAttempts} attempts: other nodes kept writing first");
        }, cancellation).ConfigureAwait(false);
    }

    /// <summary>The version of <paramref name="subject"/> whose schema is <paramref name="schema"/>.</summary>
    public Task<SchemaVersion> LookupAsync(string subject, string schema, bool deleted, CancellationToken cancellation = default)
    {
        var (_, canonical) = ParseNew(schema);
        return ReadAsync(() =>
        {
            var versions = store.Versions(subject, deleted);
            if (versions.Count == 0) throw SchemaRegistryException.SubjectNotFound(subject);
            return versions.LastOrDefault(v => v.Schema == canonical) ?? throw SchemaRegistryException.SchemaNotFound($"not registered under subject '{subject}'");
        }, cancellation);
    }

    public Task<IReadOnlyList<string>> SubjectsAsync(bool deleted, CancellationToken cancellation = default) =>
        Task.FromResult(store.Subjects(deleted));

    public Task<IReadOnlyList<SchemaVersion>> VersionsAsync(string subject, bool deleted, CancellationToken cancellation = default) =>
        ReadAsync(() => store.Versions(subject, deleted) is { Count: > 0 } versions ? versions : throw SchemaRegistryException.SubjectNotFound(subject), cancellation);

    /// <summary><paramref name="version"/>: a number, <c>latest</c> or <c>-1</c>.</summary>
    public Task<SchemaVersion> VersionAsync(string subject, string version, bool deleted, CancellationToken cancellation = default)
    {
        var number = ParseVersion(version);
        return ReadAsync(() => Find(subject, number, version, deleted), cancellation);
    }

    public Task<string> SchemaByIdAsync(int id, CancellationToken cancellation = default) =>
        ReadAsync(() => store.SchemaById(id) ?? throw SchemaRegistryException.SchemaNotFound($"no schema has id {id}"), cancellation);

    public Task<IReadOnlyList<SchemaVersion>> VersionsOfIdAsync(int id, bool deleted, CancellationToken cancellation = default) =>
        ReadAsync(() => store.SchemaById(id) is null ? throw SchemaRegistryException.SchemaNotFound($"no schema has id {id}") : store.VersionsOfId(id, deleted), cancellation);

    /// <summary>Deletes every version of <paramref name="subject"/>: soft (they stay readable by id), or permanently once soft-deleted.</summary>
    public Task<IReadOnlyList<int>> DeleteSubjectAsync(string subject, bool permanent, CancellationToken cancellation = default) =>
        WriteAsync<IReadOnlyList<int>>(async () =>
        {
            await log.CatchUpAsync(timeout, cancellation).ConfigureAwait(false);
            var all = store.Versions(subject, deleted: true);
            if (all.Count == 0) throw SchemaRegistryException.SubjectNotFound(subject);
            if (all.Any(v => v.BuiltIn)) throw SchemaRegistryException.NotPermitted($"'{subject}' holds a schema NeverwinterDP writes with; it cannot be deleted");
            var live = all.Where(v => !v.Deleted).ToList();
            if (!permanent)
            {
                if (live.Count == 0) throw SchemaRegistryException.SubjectSoftDeleted(subject);
                foreach (var v in live)
                    await log.WriteAsync(SchemaRecords.DeletedKey(subject, v.Version), SchemaRecords.DeletedValue(), timeout, cancellation).ConfigureAwait(false);
                return live.Select(v => v.Version).ToList();
            }
            if (live.Count > 0) throw SchemaRegistryException.SubjectNotSoftDeleted(subject);
            await HardDeleteAsync(all, cancellation).ConfigureAwait(false);
            return all.Select(v => v.Version).ToList();
        }, cancellation);

    /// <summary>Deletes one version: soft, or permanently once soft-deleted. Returns its number.</summary>
    public Task<int> DeleteVersionAsync(string subject, string version, bool permanent, CancellationToken cancellation = default)
    {
        var number = ParseVersion(version);
        return WriteAsync(async () =>
        {
            await log.CatchUpAsync(timeout, cancellation).ConfigureAwait(false);
            var found = Find(subject, number, version, deleted: true);
            if (found.BuiltIn) throw SchemaRegistryException.NotPermitted($"version {found.Version} of '{subject}' is a schema NeverwinterDP writes with; it cannot be deleted");
            if (!permanent)
            {
                if (found.Deleted) throw SchemaRegistryException.VersionSoftDeleted(subject, found.Version);
                await log.WriteAsync(SchemaRecords.DeletedKey(subject, found.Version), SchemaRecords.DeletedValue(), timeout, cancellation).ConfigureAwait(false);
                return found.Version;
            }
            if (!found.Deleted) throw SchemaRegistryException.VersionNotSoftDeleted(subject, found.Version);
            await HardDeleteAsync([found], cancellation).ConfigureAwait(false);
            return found.Version;
        }, cancellation);
    }

    /// <summary>The level of <paramref name="subject"/> (null: the global one); null when the subject has none and <paramref name="defaultToGlobal"/> is off.</summary>
    public CompatibilityLevel Config(string? subject, bool defaultToGlobal) =>
        store.ConfigOf(subject) ?? (defaultToGlobal ? store.ConfigOf(null)!.Value : throw SchemaRegistryException.SubjectConfigNotFound(subject!));

    /// <summary>Sets the level of <paramref name="subject"/> (null: the global one).</summary>
    public Task<CompatibilityLevel> SetConfigAsync(string? subject, string? level, CancellationToken cancellation = default)
    {
        if (!AvroCompatibility.TryParseLevel(level, out var parsed)) throw SchemaRegistryException.InvalidCompatibility(level);
        return WriteAsync(async () =>
        {
            await log.WriteAsync(SchemaRecords.ConfigKey(subject), SchemaRecords.ConfigValue(parsed.Name()), timeout, cancellation).ConfigureAwait(false);
            return parsed;
        }, cancellation);
    }

    /// <summary>Removes the level of <paramref name="subject"/> (it follows the global one again) and returns what it was.</summary>
    public Task<CompatibilityLevel> DeleteConfigAsync(string subject, CancellationToken cancellation = default) =>
        WriteAsync(async () =>
        {
            await log.CatchUpAsync(timeout, cancellation).ConfigureAwait(false);
            var was = store.ConfigOf(subject) ?? throw SchemaRegistryException.SubjectConfigNotFound(subject);
            await log.WriteAsync(SchemaRecords.ConfigKey(subject), null, timeout, cancellation).ConfigureAwait(false);
            return was;
        }, cancellation);

    /// <summary>Why <paramref name="schema"/> may not become the next version of <paramref name="subject"/> (checked against <paramref name="version"/>, or all the level asks for with <c>latest</c>); empty when it may.</summary>
    public Task<IReadOnlyList<string>> TestCompatibilityAsync(string subject, string? version, string schema, CancellationToken cancellation = default)
    {
        var (parsed, _) = ParseNew(schema);
        var number = version is null ? -1 : ParseVersion(version);
        return ReadAsync(() =>
        {
            var live = store.Versions(subject);
            if (live.Count == 0) return (IReadOnlyList<string>)[];
            var against = number == -1 ? live : [Find(subject, number, version!, deleted: false)];
            return AvroCompatibility.Check(store.EffectiveConfig(subject), parsed, against.Select(v => Parsed(v.Schema)).ToList());
        }, cancellation);
    }

    private async Task HardDeleteAsync(IReadOnlyList<SchemaVersion> versions, CancellationToken cancellation)
    {
        // The floor first: once the versions' records are compacted away, no later schema may take their ids.
        await log.WriteAsync(SchemaRecords.IdFloorKey(), SchemaRecords.IdFloorValue(store.MaxId), timeout, cancellation).ConfigureAwait(false);
        foreach (var v in versions)
        {
            if (store.KeyOf(v.Subject, v.Version) is { } key)
                await log.WriteAsync(System.Text.Encoding.UTF8.GetBytes(key), null, timeout, cancellation).ConfigureAwait(false);
            await log.WriteAsync(SchemaRecords.DeletedKey(v.Subject, v.Version), null, timeout, cancellation).ConfigureAwait(false);
        }
    }

    private SchemaVersion Find(string subject, int number, string text, bool deleted)
    {
        var versions = store.Versions(subject, deleted);
        if (versions.Count == 0) throw SchemaRegistryException.SubjectNotFound(subject);
        if (number == -1) return versions[^1];
        return versions.FirstOrDefault(v => v.Version == number) ?? throw SchemaRegistryException.VersionNotFound(subject, text);
    }

    /// <summary><c>latest</c> and <c>-1</c> are -1; otherwise 1 to 2^31-1, else 42202.</summary>
    private static int ParseVersion(string text) =>
        text.Equals("latest", StringComparison.OrdinalIgnoreCase) ? -1
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && (n >= 1 || n == -1) ? n
        : throw SchemaRegistryException.InvalidVersion(text);

    private static (Schema Parsed, string Canonical) ParseNew(string schema)
    {
        if (string.IsNullOrWhiteSpace(schema)) throw SchemaRegistryException.InvalidSchema("empty schema");
        try
        {
            var parsed = SchemaStore.Parse(schema);
            return (parsed, parsed.ToString());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever Apache.Avro throws for what a client sent (its exceptions are not all AvroException) is an invalid schema.
            throw SchemaRegistryException.InvalidSchema(e.Message);
        }
    }

    private Schema Parsed(string canonical) => _parsed.GetOrAdd(canonical, SchemaStore.Parse);

    /// <summary>One write at a time from this node (its attempts would only race each other).</summary>
    private async Task<T> WriteAsync<T>(Func<Task<T>> write, CancellationToken cancellation)
    {
        await _writes.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            return await write().ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Answers from memory; what is not found there is looked for again once this node read the topic to its end (written on another node a moment ago).</summary>
    private async Task<T> ReadAsync<T>(Func<T> read, CancellationToken cancellation)
    {
        try
        {
            return read();
        }
        catch (SchemaRegistryException e) when (e.Status == 404)
        {
            await log.CatchUpAsync(timeout, cancellation).ConfigureAwait(false);
            return read();
        }
    }
}
