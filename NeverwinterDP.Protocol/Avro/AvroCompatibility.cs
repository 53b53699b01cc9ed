using Avro;

namespace NeverwinterDP.Protocol;

/// <summary>
/// The compatibility levels of a schema registry (Confluent's names): which earlier versions of a subject a new
/// schema is checked against, and in which direction.
/// </summary>
public enum CompatibilityLevel
{
    /// <summary>No check.</summary>
    None,
    /// <summary>The new schema reads data written with the latest version.</summary>
    Backward,
    /// <summary>The new schema reads data written with every earlier version.</summary>
    BackwardTransitive,
    /// <summary>The latest version reads data written with the new schema.</summary>
    Forward,
    /// <summary>Every earlier version reads data written with the new schema.</summary>
    ForwardTransitive,
    /// <summary>Backward and forward against the latest version.</summary>
    Full,
    /// <summary>Backward and forward against every earlier version.</summary>
    FullTransitive,
}

/// <summary>
/// Avro schema resolution (the specification's "Schema Resolution" section) as a compatibility check: can a reader
/// with one schema decode what a writer wrote with another? Written here rather than taken from Apache.Avro's
/// <c>Schema.CanRead</c> because that one stops at the first problem without saying where, ignores enum defaults and
/// field aliases; a registry must name every problem by its path.
/// </summary>
public static class AvroCompatibility
{
    /// <summary>Confluent's spelling of <paramref name="level"/>, e.g. <c>BACKWARD_TRANSITIVE</c>.</summary>
    public static string Name(this CompatibilityLevel level) => level switch
    {
        CompatibilityLevel.None => "NONE",
        CompatibilityLevel.Backward => "BACKWARD",
        CompatibilityLevel.BackwardTransitive => "BACKWARD_TRANSITIVE",
        CompatibilityLevel.Forward => "FORWARD",
        CompatibilityLevel.ForwardTransitive => "FORWARD_TRANSITIVE",
        CompatibilityLevel.Full => "FULL",
        CompatibilityLevel.FullTransitive => "FULL_TRANSITIVE",
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    /// <summary>Parses Confluent's spelling (case-insensitive); false for anything else.</summary>
    public static bool TryParseLevel(string? text, out CompatibilityLevel level)
    {
        foreach (var candidate in Enum.GetValues<CompatibilityLevel>())
        {
            if (string.Equals(candidate.Name(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                level = candidate;
                return true;
            }
        }
        level = default;
        return false;
    }

    /// <summary>
    /// The problems that stop <paramref name="candidate"/> from joining a subject whose versions are
    /// <paramref name="previous"/> (oldest first) under <paramref name="level"/>; empty when it may.
    /// </summary>
    public static IReadOnlyList<string> Check(CompatibilityLevel level, Schema candidate, IReadOnlyList<Schema> previous)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(previous);
        if (level == CompatibilityLevel.None || previous.Count == 0) return [];
        var transitive = level is CompatibilityLevel.BackwardTransitive or CompatibilityLevel.ForwardTransitive or CompatibilityLevel.FullTransitive;
        var backward = level is CompatibilityLevel.Backward or CompatibilityLevel.BackwardTransitive or CompatibilityLevel.Full or CompatibilityLevel.FullTransitive;
        var forward = level is CompatibilityLevel.Forward or CompatibilityLevel.ForwardTransitive or CompatibilityLevel.Full or CompatibilityLevel.FullTransitive;
        var problems = new List<string>();
        var against = transitive ? previous : [previous[^1]];
        for (var i = against.Count - 1; i >= 0; i--)
        {
            var version = transitive ? $"version {i + 1}" : "the latest version";
            if (backward)
                problems.AddRange(ReadProblems(candidate, against[i]).Select(p => $"the new schema cannot read data written with {version}: {p}"));
            if (forward)
                problems.AddRange(ReadProblems(against[i], candidate).Select(p => $"{version} cannot read data written with the new schema: {p}"));
        }
        return problems;
    }

    /// <summary>Why a reader with <paramref name="reader"/> cannot decode data written with <paramref name="writer"/>; empty when it can.</summary>
    public static IReadOnlyList<string> ReadProblems(Schema reader, Schema writer)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        var problems = new List<string>();
        Resolve(reader, writer, "/", problems, new HashSet<(string, string)>());
        return problems;
    }

    /// <summary>True when a reader with <paramref name="reader"/> decodes data written with <paramref name="writer"/>.</summary>
    public static bool CanRead(Schema reader, Schema writer) => ReadProblems(reader, writer).Count == 0;

    private static void Resolve(Schema reader, Schema writer, string path, List<string> problems, HashSet<(string, string)> seen)
    {
        // Logical types are annotations: resolution follows the underlying type.
        if (reader is LogicalSchema rl) reader = rl.BaseSchema;
        if (writer is LogicalSchema wl) writer = wl.BaseSchema;

        if (writer is UnionSchema writerUnion)
        {
            // Every branch the writer may have used must be readable.
            foreach (var branch in writerUnion.Schemas)
            {
                var branchProblems = new List<string>();
                Resolve(reader, branch, path, branchProblems, seen);
                if (branchProblems.Count > 0)
                    problems.Add($"{path}: the writer's union branch {Describe(branch)} cannot be read ({branchProblems[0]})");
            }
            return;
        }
        if (reader is UnionSchema readerUnion)
        {
            // The writer's (non-union) type must match one of the reader's branches, the first that fits.
            foreach (var branch in readerUnion.Schemas)
            {
                var branchProblems = new List<string>();
                Resolve(branch, writer, path, branchProblems, seen);
                if (branchProblems.Count == 0) return;
            }
            problems.Add($"{path}: the reader's union {Describe(reader)} has no branch for the writer's {Describe(writer)}");
            return;
        }

        switch (reader.Tag, writer.Tag)
        {
            case var (r, w) when r == w && IsPrimitive(r):
                return;
            case (Schema.Type.Long, Schema.Type.Int):
            case (Schema.Type.Float, Schema.Type.Int or Schema.Type.Long):
            case (Schema.Type.Double, Schema.Type.Int or Schema.Type.Long or Schema.Type.Float):
            case (Schema.Type.String, Schema.Type.Bytes):
            case (Schema.Type.Bytes, Schema.Type.String):
                return; // the promotions the specification allows
            case (Schema.Type.Record, Schema.Type.Record):
                ResolveRecord((RecordSchema)reader, (RecordSchema)writer, path, problems, seen);
                return;
            case (Schema.Type.Enumeration, Schema.Type.Enumeration):
                ResolveEnum((EnumSchema)reader, (EnumSchema)writer, path, problems);
                return;
            case (Schema.Type.Fixed, Schema.Type.Fixed):
                var rf = (FixedSchema)reader;
                var wf = (FixedSchema)writer;
                if (!NamesMatch(rf, wf)) problems.Add($"{path}: fixed {wf.Fullname} is read as {rf.Fullname}, another name");
                else if (rf.Size != wf.Size) problems.Add($"{path}: fixed {wf.Fullname} has size {wf.Size}, the reader expects {rf.Size}");
                return;
            case (Schema.Type.Array, Schema.Type.Array):
                Resolve(((ArraySchema)reader).ItemSchema, ((ArraySchema)writer).ItemSchema, Join(path, "items"), problems, seen);
                return;
            case (Schema.Type.Map, Schema.Type.Map):
                Resolve(((MapSchema)reader).ValueSchema, ((MapSchema)writer).ValueSchema, Join(path, "values"), problems, seen);
                return;
            default:
                problems.Add($"{path}: the writer's {Describe(writer)} cannot be read as {Describe(reader)}");
                return;
        }
    }

    private static void ResolveRecord(RecordSchema reader, RecordSchema writer, string path, List<string> problems, HashSet<(string, string)> seen)
    {
        if (!NamesMatch(reader, writer))
        {
            problems.Add($"{path}: record {writer.Fullname} is read as {reader.Fullname}, another name ");
            return;
        }
        // A recursive record compared again under itself: what holds there holds here.
        if (!seen.Add((reader.Fullname, writer.Fullname))) return;
        foreach (var field in reader.Fields)
        {
            var written = writer.Fields.FirstOrDefault(f => f.Name == field.Name)
                ?? writer.Fields.FirstOrDefault(f => field.Aliases?.Contains(f.Name) == true);
            if (written is not null)
                Resolve(field.Schema, written.Schema, Join(path, field.Name), problems, seen);
            else if (field.DefaultValue is null)
                problems.Add($"{Join(path, field.Name)}: the reader's field '{field.Name}' is missing from the writer's {writer.Fullname} and has no default");
        }
        // Fields only the writer has are skipped by the reader: always fine.
    }

    private static void ResolveEnum(EnumSchema reader, EnumSchema writer, string path, List<string> problems)
    {
        if (!NamesMatch(reader, writer))
        {
            problems.Add($"{path}: enum {writer.Fullname} is read as {reader.Fullname}, another name");
            return;
        }
        if (reader.Default is not null) return; // unknown symbols become the reader's default
        var missing = writer.Symbols.Where(s => !reader.Symbols.Contains(s)).ToList();
        if (missing.Count > 0)
            problems.Add($"{path}: the reader's enum {reader.Fullname} lacks the writer's symbols {string.Join(", ", missing)} and has no default");
    }

    // Aliases of named types are not considered: Apache.Avro keeps them private (field aliases are).
    private static bool NamesMatch(NamedSchema reader, NamedSchema writer) => reader.Fullname == writer.Fullname;

    private static bool IsPrimitive(Schema.Type tag) => tag is Schema.Type.Null or Schema.Type.Boolean or Schema.Type.Int or Schema.Type.Long
        or Schema.Type.Float or Schema.Type.Double or Schema.Type.Bytes or Schema.Type.String;

    private static string Describe(Schema schema) => schema switch
    {
        NamedSchema named => $"{schema.Tag.ToString().ToLowerInvariant()} {named.Fullname}",
        UnionSchema union => "[" + string.Join(", ", union.Schemas.Select(Describe)) + "]",
        LogicalSchema logical => Describe(logical.BaseSchema),
        _ => schema.Tag switch
        {
            Schema.Type.Enumeration => "enum",
            _ => schema.Tag.ToString().ToLowerInvariant(),
        },
    };

    private static string Join(string path, string name) => path == "/" ? "/" + name : path + "/" + name;
}
