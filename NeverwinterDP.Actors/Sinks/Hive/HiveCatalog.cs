using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Actors.Sinks.Formats;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>
/// The HCatalog registration beside each table's data: <c>&lt;table&gt;/_ddl/create_table.sql</c> (written once,
/// atomically, rewritten only if the schema changed) and <c>&lt;table&gt;/_ddl/partitions.sql</c>, one
/// <c>ALTER TABLE ... ADD IF NOT EXISTS PARTITION</c> per partition directory, appended and fsynced at each flush.
/// The set of registered partitions is read back from that file, so a restart adds no duplicate; a line a
/// crash cut short is dropped and its partition registered again (every partition directory found by recovery
/// is registered, so a file published just before a crash is not left out). Hive's <c>_</c> prefix keeps the
/// <c>_ddl</c> directory out of the table's data.
/// With <paramref name="holdUntilComplete"/> (<c>register-on = complete</c>) a partition's line waits for its hour's
/// completion (<see cref="Release"/>). The pump's thread registers and flushes, the watermark check releases: one lock.
/// Parquet tables also get typed columns for typed log types (<see cref="Decide"/>): listed in the CREATE TABLE when
/// known before it is first written, later as <c>ALTER TABLE ... ADD COLUMNS / CHANGE COLUMN ... CASCADE</c> lines after
/// it in create_table.sql, which is rewritten atomically and read back at start.
/// </summary>
internal sealed partial class HiveCatalog(string root, string locationBase, HiveFormat format, bool fsync, bool holdUntilComplete = false)
{
    /// <summary>Hours released, remembered so a partition published in them later registers at once; the oldest go first.</summary>
    private const int MaxReleased = 10_000;

    public const string DdlDirectory = "_ddl";
    public const string CreateFile = "create_table.sql";
    public const string PartitionsFile = "partitions.sql";

    private readonly Dictionary<string, Table> _tables = new(StringComparer.Ordinal);
    private readonly HashSet<(string Table, string Type, UtcHour Hour)> _noted = [];
    private readonly HashSet<(string Table, UtcHour Hour)> _released = [];
    private readonly Queue<(string Table, UtcHour Hour)> _releasedOrder = new();
    private readonly HashSet<string> _held = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>
    /// Notes that a partition directory of <paramref name="table"/> exists; its line is written at the next
    /// <see cref="Flush"/> (holding until complete: at the flush after its hour's <see cref="Release"/>). No I/O here: a
    /// file just published must not look failed because its table's DDL could not be read.
    /// </summary>
    public void Register(string table, string type, UtcHour hour)
    {
        lock (_gate)
        {
            if (!holdUntilComplete || _released.Contains((table, hour))) _noted.Add((table, type, hour));
            else _held.Add(table); // its create_table.sql is written at the flush all the same
        }
    }

    /// <summary>
    /// Hour <paramref name="hour"/> of <paramref name="table"/> is complete (or closed incomplete, <paramref name="note"/>
    /// saying why): registers the partitions of <paramref name="types"/> (every type directory of that hour on disk, so
    /// those another writer of the sink published are included) and writes the lines now. A note goes in as a SQL
    /// comment above them.
    /// </summary>
    /// <exception cref="IOException">The lines could not be written; the next completion version or flush tries again.</exception>
    public void Release(string table, UtcHour hour, IEnumerable<string> types, string? note)
    {
        lock (_gate)
        {
            if (_released.Add((table, hour)))
            {
                _releasedOrder.Enqueue((table, hour));
                while (_releasedOrder.Count > MaxReleased) _released.Remove(_releasedOrder.Dequeue());
            }
            var before = TableOf(table).Pending.Count;
            foreach (var type in types) Add(table, type, hour);
            var t = TableOf(table);
            if (note is not null && t.Pending.Count > before)
                t.Pending.Insert(before, $"-- {hour.Start.ToString("yyyy-MM-dd'T'HH':00Z'", CultureInfo.InvariantCulture)} {note.ReplaceLineEndings(" ")}\n");
            FlushLocked();
        }
    }

    // Reads the table's partitions.sql at first use.
    private void Add(string table, string type, UtcHour hour)
    {
        var t = TableOf(table);
        var (dt, hh) = HivePartition(hour);
        var spec = string.Create(CultureInfo.InvariantCulture, $"type={type}/dt={dt}/hour={hh}");
        if (!t.Registered.Add(spec)) return;
        t.Pending.Add(string.Create(CultureInfo.InvariantCulture,
            $"ALTER TABLE `{table}` ADD IF NOT EXISTS PARTITION (type='{type}', dt='{dt}', hour='{hh}') LOCATION '{Literal(Location(table) + "/" + spec)}';\n"));
    }

    /// <summary>Writes what is new: each table's create_table.sql once, the partition lines noted since the last flush.</summary>
    /// <exception cref="IOException">A file could not be written; what was not written is tried again next time.</exception>
    public void Flush()
    {
        lock (_gate) FlushLocked();
    }

    private void FlushLocked()
    {
        foreach (var table in _held) TableOf(table);
        _held.Clear();
        foreach (var (table, type, hour) in _noted.ToArray())
        {
            Add(table, type, hour);
            _noted.Remove((table, type, hour));
        }
        foreach (var (name, table) in _tables)
        {
            var ddl = Path.Combine(root, name, DdlDirectory);
            if (!table.CreateWritten)
            {
                WriteCreateTable(ddl, name);
                table.CreateWritten = true;
            }
            if (table.Pending.Count == 0) continue;
            var path = Path.Combine(ddl, PartitionsFile);
            var isNew = !File.Exists(path);
            using (var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                var bytes = Encoding.UTF8.GetBytes(string.Concat(table.Pending));
                stream.Write(bytes);
                stream.Flush(flushToDisk: fsync);
            }
            if (isNew && fsync) DirectorySync.Fsync(ddl);
            table.Pending.Clear();
        }
    }

    /// <summary>
    /// The CREATE TABLE statement of <paramref name="table"/> for this format: the columns the files hold (Parquet: then
    /// the typed columns the table had when the statement was first written), partitioned by type, dt, hour.
    /// </summary>
    public string CreateTable(string table)
    {
        lock (_gate) return _tables.TryGetValue(table, out var t) ? CreateTable(table, t.InitialTyped, t.InitialLiteral) : CreateTable(table, [], null);
    }

    /// <param name="literal">An Avro table's reader schema (<see cref="HiveAvroLiteral"/>); null: <see cref="AvroReaderSchema"/>.</param>
    private string CreateTable(string table, IReadOnlyList<HiveColumn> typed, string? literal)
    {
        var sql = new StringBuilder();
        sql.Append(CultureInfo.InvariantCulture, $"CREATE EXTERNAL TABLE IF NOT EXISTS `{table}` (\n");
        var columns = (format == HiveFormat.Parquet ? LogEventParquet.HiveColumns : AvroColumns).Concat(typed.Select(c => (c.Name, c.HiveType)));
        sql.AppendJoin(",\n", columns.Select(c => $"  `{c.Name}` {c.HiveType}"));
        sql.Append("\n)\nPARTITIONED BY (`type` STRING, `dt` STRING, `hour` STRING)\n");
        sql.Append(format == HiveFormat.Parquet ? "STORED AS PARQUET\n" : "STORED AS AVRO\n");
        sql.Append(CultureInfo.InvariantCulture, $"LOCATION '{Literal(Location(table))}'");
        if (format == HiveFormat.Avro) sql.Append(CultureInfo.InvariantCulture, $"\nTBLPROPERTIES ('avro.schema.literal'='{Literal(literal ?? AvroReaderSchema)}')");
        sql.Append(";\n");
        return sql.ToString();
    }

    /// <summary>The columns of the Avro files as Hive maps <c>neverwinterdp.LogEvent</c>, <c>type</c> left out (it is the partition column).</summary>
    public static IReadOnlyList<(string Name, string HiveType)> AvroColumns { get; } =
    [
        ("ts", "BIGINT"), ("system_ts", "BIGINT"), ("host", "STRING"), ("ip", "STRING"), ("process", "STRING"),
        ("version", "STRING"), ("level", "STRING"), ("message", "STRING"), ("attributes", "MAP<STRING,STRING>"),
        ("lineage", "STRUCT<ingress_node:STRING,source_seq:BIGINT,sender:STRING>"),
    ];

    /// <summary>
    /// The reader schema Hive reads the Avro files with: <c>neverwinterdp.LogEvent</c> without <c>type</c> (Avro
    /// schema resolution skips a writer field the reader lacks) and without docs.
    /// </summary>
    public static string AvroReaderSchema { get; } = BuildAvroReaderSchema();

    public static (string Dt, string Hour) HivePartition(UtcHour hour)
    {
        var start = hour.Start;
        return (start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), start.ToString("HH", CultureInfo.InvariantCulture));
    }

    private string Location(string table) => locationBase.TrimEnd('/') + "/" + table;

    private Table TableOf(string name)
    {
        if (_tables.TryGetValue(name, out var table)) return table;
        table = new Table();
        var path = Path.Combine(root, name, DdlDirectory, PartitionsFile);
        if (File.Exists(path))
        {
            var text = File.ReadAllText(path, Encoding.UTF8);
            var complete = text.LastIndexOf('\n') + 1;
            if (complete < text.Length)
            {
                // A line a crash cut short: drop it (its partition is registered again below, or when next seen).
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
                stream.SetLength(Encoding.UTF8.GetByteCount(text.AsSpan(0, complete)));
                stream.Flush(flushToDisk: fsync);
            }
            foreach (Match m in PartitionLine().Matches(text[..complete]))
            {
                table.Registered.Add($"type={m.Groups[1].Value}/dt={m.Groups[2].Value}/hour={m.Groups[3].Value}");
            }
        }
        if (format == HiveFormat.Parquet) ReadTypedColumns(name, table);
        else ReadAvroColumns(name, table);
        _tables.Add(name, table);
        return table;
    }

    /// <summary>
    /// How the table takes the fields of <paramref name="schema"/>, deciding and recording it the first time: a field
    /// without a column gets one (in the CREATE TABLE when the table has no DDL yet, else an <c>ADD COLUMNS ... CASCADE</c>
    /// line), a numeric column narrower than its field is widened (<c>CHANGE COLUMN ... CASCADE</c>), and
    /// create_table.sql is rewritten at once, so it is never behind a file that holds the column. The fields join the
    /// columns of <paramref name="type"/> (<see cref="ColumnsOf"/>).
    /// </summary>
    /// <exception cref="IOException">create_table.sql could not be read or written; nothing was recorded.</exception>
    public HiveTypedPlan Decide(string table, string type, TypedLogSchema schema)
    {
        lock (_gate)
        {
            var t = TableOf(table);
            var fields = new List<HiveTypedField>(schema.Fields.Count);
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var added = new List<HiveColumn>();
            var widened = new List<(int Index, HiveColumn Column)>();
            for (var i = 0; i < schema.Fields.Count; i++)
            {
                var field = schema.Fields[i];
                if (LogEventParquet.HiveTableColumns.Contains(field.Name)) // no typed field takes a fixed or partition column's name
                    return HiveTypedPlan.Refused($"typed field '{field.Name}' (schema id {schema.Id}) has the name of a column or partition column every row of Hive table {table} has (Hive compares names without case); rename the field in the log type's schema");
                if (!names.Add(field.Name))
                    return HiveTypedPlan.Refused($"typed fields of schema id {schema.Id} differ only in case ('{field.Name}'), which Hive does not tell apart");
                var index = t.Typed.FindIndex(c => string.Equals(c.Name, field.Name, StringComparison.OrdinalIgnoreCase));
                var wanted = HiveTypes.Of(field);
                if (format == HiveFormat.Parquet && field.Leaf is { Kind: TypedKind.Decimal, Precision: > HiveTypes.MaxDecimalPrecision })
                    return HiveTypedPlan.Refused($"typed field '{field.Name}' is {field.TypeName} (schema id {schema.Id}): the Hive sink's Parquet writer holds decimals of at most {HiveTypes.MaxDecimalPrecision} digits");
                if (index < 0) added.Add(new HiveColumn(field.Name, wanted));
                else if (t.Typed[index].Name != field.Name)
                    return HiveTypedPlan.Refused($"typed field '{field.Name}' (schema id {schema.Id}) differs only in case from column {t.Typed[index].Name} of Hive table {table}, which Hive does not tell apart");
                else if (HiveTypes.WidensTo(t.Typed[index].HiveType, wanted)) widened.Add((index, new HiveColumn(field.Name, wanted)));
                else if (!HiveTypes.Holds(t.Typed[index].HiveType, wanted))
                    return HiveTypedPlan.Refused($"column {field.Name} of Hive table {table} is {t.Typed[index].HiveType}, which cannot hold typed field '{field.Name}' ({field.Expected}, schema id {schema.Id})");
                fields.Add(new HiveTypedField(i, field.Name, field.Kind, wanted));
            }
            if (format == HiveFormat.Avro)
            {
                if (DecideAvro(table, t, schema, added, widened) is { } refusal) return HiveTypedPlan.Refused(refusal);
            }
            else if (added.Count > 0 || widened.Count > 0)
            {
                Record(table, t, added, widened);
            }
            var ofType = t.TypeColumns.TryGetValue(type, out var list) ? list : t.TypeColumns[type] = [];
            foreach (var f in fields)
            {
                if (!ofType.Contains(f.Name)) ofType.Add(f.Name);
            }
            return HiveTypedPlan.Writable(fields);
        }
    }

    /// <summary>The typed columns the files of <paramref name="type"/> get, with the table's types now: every field its schemas met so far.</summary>
    public HiveColumn[] ColumnsOf(string table, string type)
    {
        lock (_gate)
        {
            var t = TableOf(table);
            if (!t.TypeColumns.TryGetValue(type, out var names)) return [];
            return names.Select(n => t.Typed.First(c => c.Name == n)).ToArray();
        }
    }

    /// <summary>
    /// An Avro table: each field's Avro type against its column's (<see cref="HiveAvroLiteral.FitOf"/>: a timestamp of the
    /// other unit, an enum of other symbols or another name, cannot be read by one reader schema: refused); when a column
    /// is added or widened or the schema's record name is new, the table's literal is rewritten: in the CREATE TABLE when
    /// it is not written yet, else as an <c>ALTER TABLE ... SET TBLPROPERTIES ('avro.schema.literal'=...)</c> line.
    /// </summary>
    private string? DecideAvro(string table, Table t, TypedLogSchema schema, List<HiveColumn> added, List<(int Index, HiveColumn Column)> widened)
    {
        var fieldTypes = HiveAvroLiteral.FieldTypes(schema);
        var types = new Dictionary<string, System.Text.Json.Nodes.JsonNode>(t.AvroTypes, StringComparer.Ordinal);
        var changed = false;
        foreach (var field in schema.Fields)
        {
            var wanted = fieldTypes[field.Name];
            if (!types.TryGetValue(field.Name, out var column))
            {
                types[field.Name] = wanted;
                changed = true;
                continue;
            }
            switch (HiveAvroLiteral.FitOf(column, wanted))
            {
                case HiveAvroLiteral.Fit.Widens:
                    types[field.Name] = wanted;
                    changed = true;
                    break;
                case HiveAvroLiteral.Fit.Refused:
                    return $"column {field.Name} of Avro table {table} is read as {column.ToJsonString()}, which cannot read typed field '{field.Name}' ({wanted.ToJsonString()}, schema id {schema.Id}): " +
                        "one reader schema reads every file of the table";
            }
        }
        var aliases = t.Aliases;
        var name = HiveAvroLiteral.RecordName(schema);
        if (!aliases.Contains(name))
        {
            aliases = [.. aliases, name];
            changed = true;
        }
        if (!changed && added.Count == 0 && widened.Count == 0) return null;

        var ddl = Path.Combine(root, table, DdlDirectory);
        var fresh = !t.CreateWritten && !File.Exists(Path.Combine(ddl, CreateFile));
        var before = (t.InitialTyped, t.Typed, t.Alters, t.InitialLiteral, t.AvroTypes, t.Aliases);
        var typed = t.Typed.ToList();
        foreach (var (index, column) in widened) typed[index] = column;
        typed.AddRange(added);
        var literal = HiveAvroLiteral.Build(typed, types, aliases);
        var alters = t.Alters.ToList();
        if (fresh) (t.InitialTyped, t.InitialLiteral) = (typed, literal);
        else alters.Add(string.Create(CultureInfo.InvariantCulture, $"ALTER TABLE `{table}` SET TBLPROPERTIES ('avro.schema.literal'='{Literal(literal)}');\n"));
        (t.Typed, t.Alters, t.AvroTypes, t.Aliases) = (typed, alters, types, aliases);
        try
        {
            WriteCreateTable(ddl, table);
            t.CreateWritten = true;
        }
        catch
        {
            (t.InitialTyped, t.Typed, t.Alters, t.InitialLiteral, t.AvroTypes, t.Aliases) = before; // decided again with the next record
            throw;
        }
        return null;
    }

    // An Avro table's typed columns from its create_table.sql: the CREATE's literal, then the last SET TBLPROPERTIES line's.
    private void ReadAvroColumns(string name, Table table)
    {
        var path = Path.Combine(root, name, DdlDirectory, CreateFile);
        if (!File.Exists(path)) return;
        var text = File.ReadAllText(path, Encoding.UTF8);
        var end = text.IndexOf(";\n", StringComparison.Ordinal);
        // Not ours, or a Parquet table's (the format was switched): rewritten at the next flush, with no typed column.
        if (end < 0 || !text.AsSpan(0, end).Contains("STORED AS AVRO", StringComparison.Ordinal)) return;
        if (AvroLiteralText().Match(text[..end]) is not { Success: true } created || HiveAvroLiteral.Parse(Unescape(created.Groups[1].Value)) is not { } initial) return;
        var (columns, types, aliases) = initial;
        var alters = new List<string>();
        foreach (var line in text[(end + 2)..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith("ALTER TABLE ", StringComparison.Ordinal) || AvroLiteralText().Match(line) is not { Success: true } set
                || HiveAvroLiteral.Parse(Unescape(set.Groups[1].Value)) is not { } later) continue;
            (columns, types, aliases) = later;
            alters.Add(line + "\n");
        }
        table.InitialTyped = initial.Columns;
        table.InitialLiteral = initial.Columns.Count > 0 || initial.Aliases.Count > 0 ? Unescape(created.Groups[1].Value) : null;
        (table.Typed, table.AvroTypes, table.Aliases, table.Alters) = (columns, types, aliases, alters);
    }

    // The text of a Hive string literal Literal made.
    private static string Unescape(string literal) => EscapedChar().Replace(literal, "$1");

    private void Record(string table, Table t, List<HiveColumn> added, List<(int Index, HiveColumn Column)> widened)
    {
        var ddl = Path.Combine(root, table, DdlDirectory);
        var fresh = !t.CreateWritten && !File.Exists(Path.Combine(ddl, CreateFile));
        var before = (t.InitialTyped, t.Typed, t.Alters);
        var (initial, alters, typed) = (t.InitialTyped.ToList(), t.Alters.ToList(), t.Typed.ToList());
        foreach (var (index, column) in widened)
        {
            typed[index] = column;
            if (fresh) initial[initial.FindIndex(c => c.Name == column.Name)] = column;
            else alters.Add(string.Create(CultureInfo.InvariantCulture, $"ALTER TABLE `{table}` CHANGE COLUMN `{column.Name}` `{column.Name}` {column.HiveType} CASCADE;\n"));
        }
        typed.AddRange(added);
        if (fresh) initial.AddRange(added);
        else if (added.Count > 0)
            alters.Add(string.Create(CultureInfo.InvariantCulture, $"ALTER TABLE `{table}` ADD COLUMNS ({string.Join(", ", added.Select(c => $"`{c.Name}` {c.HiveType}"))}) CASCADE;\n"));
        (t.InitialTyped, t.Typed, t.Alters) = (initial, typed, alters);
        try
        {
            WriteCreateTable(ddl, table);
            t.CreateWritten = true;
        }
        catch
        {
            (t.InitialTyped, t.Typed, t.Alters) = before; // decided again with the next record
            throw;
        }
    }

    private void WriteCreateTable(string ddl, string table)
    {
        var path = Path.Combine(ddl, CreateFile);
        var t = TableOf(table);
        var sql = CreateTable(table, t.InitialTyped, t.InitialLiteral) + string.Concat(t.Alters);
        if (File.Exists(path) && File.ReadAllText(path, Encoding.UTF8) == sql) return;
        var created = !Directory.Exists(ddl);
        Directory.CreateDirectory(ddl);
        if (created && fsync) DirectorySync.Fsync(Path.GetDirectoryName(ddl)!);
        var temp = Path.Combine(ddl, "." + CreateFile + FileNames.TempSuffix);
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.UTF8.GetBytes(sql));
            stream.Flush(flushToDisk: fsync);
        }
        File.Move(temp, path, overwrite: true);
        if (fsync) DirectorySync.Fsync(ddl);
    }

    // A Hive string literal: quotes and backslashes escaped.
    private static string Literal(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);

    private static string BuildAvroReaderSchema()
    {
        var schema = JsonNode.Parse(NeverwinterDP.Protocol.Schemas.LogEvent)!;
        var fields = schema["fields"]!.AsArray();
        fields.Remove(fields.First(f => (string?)f!["name"] == "type"));
        StripDocs(schema);
        return schema.ToJsonString();

        static void StripDocs(JsonNode? node)
        {
            if (node is JsonObject o)
            {
                o.Remove("doc");
                foreach (var (_, child) in o.ToList()) StripDocs(child);
            }
            else if (node is JsonArray a)
            {
                foreach (var child in a) StripDocs(child);
            }
        }
    }

    // The typed columns a create_table.sql written before records: the CREATE's columns after the fixed ones, then its ALTER lines.
    private void ReadTypedColumns(string name, Table table)
    {
        var path = Path.Combine(root, name, DdlDirectory, CreateFile);
        if (!File.Exists(path)) return;
        var text = File.ReadAllText(path, Encoding.UTF8);
        var end = text.IndexOf(";\n", StringComparison.Ordinal);
        // Not ours, or an Avro table's (the format was switched): rewritten at the next flush, with no typed column.
        if (end < 0 || !text.AsSpan(0, end).Contains("STORED AS PARQUET", StringComparison.Ordinal)) return;
        var fixedColumns = LogEventParquet.HiveColumns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (Match m in CreateColumnLine().Matches(text[..end]))
        {
            if (!fixedColumns.Contains(m.Groups[1].Value)) table.InitialTyped.Add(new HiveColumn(m.Groups[1].Value, m.Groups[2].Value));
        }
        table.Typed.AddRange(table.InitialTyped);
        foreach (var line in text[(end + 2)..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (AddColumnsLine().Match(line) is { Success: true } add)
            {
                foreach (Match c in ColumnInList().Matches(add.Groups[1].Value)) table.Typed.Add(new HiveColumn(c.Groups[1].Value, c.Groups[2].Value));
            }
            else if (ChangeColumnLine().Match(line) is { Success: true } change)
            {
                var index = table.Typed.FindIndex(c => c.Name == change.Groups[1].Value);
                if (index < 0) continue;
                table.Typed[index] = new HiveColumn(change.Groups[1].Value, change.Groups[2].Value);
            }
            else
            {
                continue;
            }
            table.Alters.Add(line + "\n");
        }
    }

    [GeneratedRegex(@"^  `([^`]+)` (.+?),?$", RegexOptions.Multiline)]
    private static partial Regex CreateColumnLine();

    [GeneratedRegex(@"^ALTER TABLE `[^`]*` ADD COLUMNS \((.*)\) CASCADE;$")]
    private static partial Regex AddColumnsLine();

    [GeneratedRegex(@"`([^`]+)` ((?:ARRAY<|MAP<STRING,)?[A-Z]+(?:\(\d+,\d+\))?>?)")]
    private static partial Regex ColumnInList();

    [GeneratedRegex(@"^ALTER TABLE `[^`]*` CHANGE COLUMN `([^`]+)` `[^`]+` ([A-Z]+) CASCADE;$")]
    private static partial Regex ChangeColumnLine();

    [GeneratedRegex(@"'avro\.schema\.literal'='((?:[^'\\]|\\.)*)'")]
    private static partial Regex AvroLiteralText();

    [GeneratedRegex(@"\\(.)")]
    private static partial Regex EscapedChar();

    [GeneratedRegex(@"PARTITION \(type='([^']*)', dt='([^']*)', hour='([^']*)'\)")]
    private static partial Regex PartitionLine();

    private sealed class Table
    {
        public HashSet<string> Registered { get; } = new(StringComparer.Ordinal);

        public List<string> Pending { get; } = [];

        public bool CreateWritten { get; set; }

        /// <summary>The typed columns the CREATE TABLE lists (Parquet).</summary>
        public List<HiveColumn> InitialTyped { get; set; } = [];

        /// <summary>The ALTER TABLE lines after it, each ending in a newline.</summary>
        public List<string> Alters { get; set; } = [];

        /// <summary>The typed columns and their types now, in table order.</summary>
        public List<HiveColumn> Typed { get; set; } = [];

        /// <summary>An Avro table's literal in its CREATE TABLE; null: <see cref="AvroReaderSchema"/> (no typed column).</summary>
        public string? InitialLiteral { get; set; }

        /// <summary>An Avro table's typed columns' Avro types now (each column's non-null branch in the literal).</summary>
        public Dictionary<string, System.Text.Json.Nodes.JsonNode> AvroTypes { get; set; } = new(StringComparer.Ordinal);

        /// <summary>An Avro table's literal's aliases: the record names of the typed schemas met.</summary>
        public List<string> Aliases { get; set; } = [];

        /// <summary>Per log type, the typed columns its schemas met in this run: what its new files hold.</summary>
        public Dictionary<string, List<string>> TypeColumns { get; } = new(StringComparer.Ordinal);
    }
}
