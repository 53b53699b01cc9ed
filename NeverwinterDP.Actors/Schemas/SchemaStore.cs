using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Avro;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Schemas;

/// <summary>One version of a subject: its schema id and text, and whether it was soft-deleted.</summary>
public sealed record SchemaVersion(string Subject, int Version, int Id, string Schema, bool Deleted, bool BuiltIn);

/// <summary>
/// The registry's state in memory: what the records of <c>nwdp.schemas</c> say, applied in their order. Every node
/// applies the same records with this same function, so every node holds the same subjects, versions and ids.
/// The rule that keeps writers from two nodes apart: a schema record names the offset it was decided at (the end
/// of the topic its writer had read) and counts only if it landed exactly there; one that landed later lost a race
/// and is ignored (its writer decides again). That rule reads only offsets, which compaction keeps.
/// </summary>
public sealed class SchemaStore
{
    /// <summary>
    /// The schemas every registry serves from the start (the ids <see cref="SchemaIds"/> fixed), under their record names,
    /// in version order: LogEvent's version 2 (<see cref="SchemaIds.LogEvent"/>, far above the ids a registry gives, so
    /// not counted in <see cref="MaxId"/>) follows version 1.
    /// </summary>
    public static IReadOnlyList<(string Subject, int Version, int Id, string Schema)> BuiltIns { get; } =
    [
        ("neverwinterdp.LogEvent", 1, SchemaIds.LogEventV1, Protocol.Schemas.LogEventV1),
        ("neverwinterdp.LogEvent", 2, SchemaIds.LogEvent, Protocol.Schemas.LogEvent),
        ("neverwinterdp.Heartbeat", 1, SchemaIds.Heartbeat, Protocol.Schemas.Heartbeat),
        ("neverwinterdp.HourMarker", 1, SchemaIds.HourMarker, Protocol.Schemas.HourMarker),
    ];

    private readonly object _gate = new();
    private readonly Dictionary<string, SortedDictionary<int, Entry>> _subjects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CompatibilityLevel> _subjectConfig = new(StringComparer.Ordinal);
    private readonly List<(long Offset, TaskCompletionSource Done)> _waiters = [];
    private CompatibilityLevel? _globalConfig;
    private int _maxId;
    private long _position;

    public SchemaStore(CompatibilityLevel defaultCompatibility)
    {
        DefaultCompatibility = defaultCompatibility;
        foreach (var (subject, version, id, schema) in BuiltIns)
        {
            var entry = new Entry(subject, version, id, Canonical(schema), $"builtin:{subject}:{version}", BuiltIn: true);
            Version(subject).Add(version, entry);
            if (id != SchemaIds.LogEvent) _maxId = Math.Max(_maxId, id);
        }
    }

    /// <summary><c>nwdp.schemas.compatibility</c>: the level while nobody set one with <c>PUT /config</c>.</summary>
    public CompatibilityLevel DefaultCompatibility { get; }

    /// <summary>The offset of the next record to apply: everything before it is applied.</summary>
    public long Position
    {
        get { lock (_gate) return _position; }
    }

    /// <summary>Completes when every record before <paramref name="offset"/> is applied.</summary>
    public Task WhenAppliedAsync(long offset)
    {
        lock (_gate)
        {
            if (_position >= offset) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((offset, done));
            return done.Task;
        }
    }

    /// <summary>Applies the record at <paramref name="offset"/> (<paramref name="value"/> null: a tombstone).</summary>
    /// <exception cref="JsonException">Not a record of ours (the caller skips it).</exception>
    public void Apply(long offset, byte[]? key, byte[]? value)
    {
        lock (_gate)
        {
            try
            {
                if (key is not null) ApplyLocked(offset, key, value);
            }
            finally
            {
                _position = Math.Max(_position, offset + 1);
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Offset > _position) continue;
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private long _generation;

    /// <summary>Grows with every record applied: a reader that keeps something derived from the store (the typed log types) rebuilds it when this moved.</summary>
    public long Generation => Volatile.Read(ref _generation);

    private void ApplyLocked(long offset, byte[] keyBytes, byte[]? valueBytes)
    {
        Interlocked.Increment(ref _generation);
        var keyText = Encoding.UTF8.GetString(keyBytes);
        var key = JsonNode.Parse(keyText)?.AsObject() ?? throw new JsonException("key is not an object");
        var value = valueBytes is null ? null : JsonNode.Parse(valueBytes)?.AsObject();
        switch ((string?)key["kind"])
        {
            case SchemaRecords.SchemaKind:
                if (value is null)
                {
                    if (_byKey.Remove(keyText, out var removed)) Remove(removed);
                    return;
                }
                if ((long?)value["base"] != offset) return; // lost a race: decided on a state that changed before it landed
                var entry = new Entry((string)value["subject"]!, (int)value["version"]!, (int)value["id"]!, (string)value["schema"]!, keyText, BuiltIn: false);
                Version(entry.Subject)[entry.Version] = entry;
                _byKey[keyText] = entry;
                _maxId = Math.Max(_maxId, entry.Id);
                return;
            case SchemaRecords.DeletedKind:
                if (_subjects.TryGetValue((string)key["subject"]!, out var versions) && versions.TryGetValue((int)key["version"]!, out var version))
                    version.Deleted = value is not null;
                return;
            case SchemaRecords.ConfigKind:
                var subject = (string?)key["subject"];
                var level = value is null ? (CompatibilityLevel?)null
                    : AvroCompatibility.TryParseLevel((string?)value["compatibility"], out var parsed) ? parsed : throw new JsonException("unknown compatibility");
                if (subject is null) _globalConfig = level;
                else if (level is { } l) _subjectConfig[subject] = l;
                else _subjectConfig.Remove(subject);
                return;
            case SchemaRecords.IdFloorKind:
                if (value is not null) _maxId = Math.Max(_maxId, (int)value["id"]!);
                return;
            default:
                throw new JsonException($"unknown record kind in key {keyText}");
        }
    }

    private void Remove(Entry entry)
    {
        if (!_subjects.TryGetValue(entry.Subject, out var versions)) return;
        versions.Remove(entry.Version);
        if (versions.Count == 0) _subjects.Remove(entry.Subject);
    }

    private SortedDictionary<int, Entry> Version(string subject)
    {
        if (!_subjects.TryGetValue(subject, out var versions)) _subjects[subject] = versions = new SortedDictionary<int, Entry>();
        return versions;
    }

    /// <summary>The subjects with a live version (or any version, with <paramref name="deleted"/>), sorted.</summary>
    public IReadOnlyList<string> Subjects(bool deleted = false)
    {
        lock (_gate)
            return _subjects.Where(s => s.Value.Values.Any(v => deleted || !v.Deleted)).Select(s => s.Key).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The versions of <paramref name="subject"/>, oldest first; empty when it has none (live, or any with <paramref name="deleted"/>).</summary>
    public IReadOnlyList<SchemaVersion> Versions(string subject, bool deleted = false)
    {
        lock (_gate)
            return _subjects.TryGetValue(subject, out var versions)
                ? versions.Values.Where(v => deleted || !v.Deleted).Select(v => v.ToVersion()).ToList()
                : [];
    }

    /// <summary>The schema text of <paramref name="id"/> (soft-deleted versions still count: records on the bus may carry it); null when unknown.</summary>
    public string? SchemaById(int id)
    {
        lock (_gate)
            return _subjects.Values.SelectMany(v => v.Values).FirstOrDefault(e => e.Id == id)?.Schema;
    }

    /// <summary>Every subject and version that uses <paramref name="id"/>.</summary>
    public IReadOnlyList<SchemaVersion> VersionsOfId(int id, bool deleted = false)
    {
        lock (_gate)
            return _subjects.Values.SelectMany(v => v.Values).Where(e => e.Id == id && (deleted || !e.Deleted)).Select(e => e.ToVersion())
                .OrderBy(v => v.Subject, StringComparer.Ordinal).ThenBy(v => v.Version).ToList();
    }

    /// <summary>The id of a schema with this canonical text anywhere in the registry; null when none.</summary>
    public int? IdOf(string canonical)
    {
        lock (_gate)
            return _subjects.Values.SelectMany(v => v.Values).FirstOrDefault(e => e.Schema == canonical)?.Id;
    }

    /// <summary>The highest id ever given (also those of versions deleted since): a new schema gets the next.</summary>
    public int MaxId
    {
        get { lock (_gate) return _maxId; }
    }

    /// <summary>The record key of a version (what a hard delete writes a tombstone for); null for the built-ins.</summary>
    public string? KeyOf(string subject, int version)
    {
        lock (_gate)
            return _subjects.TryGetValue(subject, out var versions) && versions.TryGetValue(version, out var e) && !e.BuiltIn ? e.Key : null;
    }

    /// <summary>The level set for <paramref name="subject"/> (null: none), or the global one when <paramref name="subject"/> is null.</summary>
    public CompatibilityLevel? ConfigOf(string? subject)
    {
        lock (_gate)
            return subject is null ? _globalConfig ?? DefaultCompatibility : _subjectConfig.TryGetValue(subject, out var l) ? l : null;
    }

    /// <summary>The level a registration under <paramref name="subject"/> is checked with.</summary>
    public CompatibilityLevel EffectiveConfig(string subject) => ConfigOf(subject) ?? ConfigOf(null)!.Value;

    /// <summary>Avro's text of <paramref name="schema"/> as this registry stores and compares it.</summary>
    /// <exception cref="SchemaParseException">Not an Avro schema.</exception>
    public static string Canonical(string schema) => Parse(schema).ToString();

    /// <summary>Parses an Avro schema; <see cref="SchemaParseException"/> (or <see cref="AvroException"/>) when it is not one.</summary>
    public static Schema Parse(string schema) => Schema.Parse(schema);

    private sealed record Entry(string Subject, int Version, int Id, string Schema, string Key, bool BuiltIn)
    {
        public bool Deleted { get; set; }
        public SchemaVersion ToVersion() => new(Subject, Version, Id, Schema, Deleted, BuiltIn);
    }
}
