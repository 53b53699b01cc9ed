using NeverwinterDP.Protocol;
using Parquet;
using Parquet.Schema;

namespace NeverwinterDP.Actors.Sinks.Formats;

/// <summary>
/// <see cref="LogEvent"/>s as Parquet rows, for the sinks that write Parquet (Hive, later HDFS). The columns,
/// in order: <c>ts</c>, <c>system_ts</c> (INT64 TIMESTAMP(MILLIS, UTC)), <c>host</c>, <c>ip</c>, <c>process</c>,
/// <c>version</c>, <c>level</c>, <c>message</c> (UTF-8 strings), <c>attributes</c> (MAP&lt;string,string&gt;, never
/// null), <c>lineage_ingress_node</c>, <c>lineage_source_seq</c>, and where the record came from: <c>topic</c>,
/// <c>partition</c> (INT32), <c>offset</c> (INT64); every column required but the last, <c>lineage_sender</c> (the name of
/// the API key the event came in with; null without one), added after the first release and so placed last. <c>type</c> is not a column: the
/// writers partition by it (<c>type=&lt;t&gt;</c> directories), and Hive refuses a partition column that is
/// also a data column. Rows are buffered (<see cref="Add"/>) and written as one row group (<see cref="WriteRowGroupAsync"/>).
/// </summary>
public sealed class LogEventParquet
{
    private static readonly DateTimeDataField Ts = Timestamp("ts");
    private static readonly DateTimeDataField SystemTs = Timestamp("system_ts");
    private static readonly DataField Host = Text("host");
    private static readonly DataField Ip = Text("ip");
    private static readonly DataField Process = Text("process");
    private static readonly DataField Type = Text("type");
    private static readonly DataField Version = Text("version");
    private static readonly DataField Level = Text("level");
    private static readonly DataField Message = Text("message");
    private static readonly DataField AttributeKey = Text("key");
    private static readonly DataField AttributeValue = Text("value");
    private static readonly MapField Attributes = new("attributes", AttributeKey, AttributeValue);
    private static readonly DataField IngressNode = Text("lineage_ingress_node");
    private static readonly DataField SourceSeq = new DataField<long>("lineage_source_seq");
    private static readonly DataField Topic = Text("topic");
    private static readonly DataField Partition = new DataField<int>("partition");
    private static readonly DataField Offset = new DataField<long>("offset");
    private static readonly DataField Sender = new("lineage_sender", typeof(string), isNullable: true);

    /// <summary>The file schema.</summary>
    public static ParquetSchema Schema { get; } = new(
        Ts, SystemTs, Host, Ip, Process, Version, Level, Message, Attributes, IngressNode, SourceSeq, Topic, Partition, Offset, Sender);

    /// <summary>The file schema with <c>type</c> as a column (after <c>process</c>), for trees not partitioned by type (HDFS).</summary>
    public static ParquetSchema SchemaWithType { get; } = new(
        Ts, SystemTs, Host, Ip, Process, Type, Version, Level, Message, Attributes, IngressNode, SourceSeq, Topic, Partition, Offset, Sender);

    /// <param name="withType">Write <c>type</c> as a column (<see cref="SchemaWithType"/>); off for type-partitioned trees (Hive).</param>
    public LogEventParquet(bool withType = false) => _withType = withType;

    private readonly bool _withType;
    private readonly List<string> _type = [];

    /// <summary>The schema the rows are written with.</summary>
    public ParquetSchema FileSchema => _withType ? SchemaWithType : Schema;

    /// <summary>The columns as Hive declares them (name, Hive type), in file order: what a CREATE TABLE over these files lists.</summary>
    public static IReadOnlyList<(string Name, string HiveType)> HiveColumns { get; } =
    [
        ("ts", "TIMESTAMP"), ("system_ts", "TIMESTAMP"), ("host", "STRING"), ("ip", "STRING"), ("process", "STRING"),
        ("version", "STRING"), ("level", "STRING"), ("message", "STRING"), ("attributes", "MAP<STRING,STRING>"),
        ("lineage_ingress_node", "STRING"), ("lineage_source_seq", "BIGINT"), ("topic", "STRING"), ("partition", "INT"), ("offset", "BIGINT"),
        ("lineage_sender", "STRING"),
    ];

    /// <summary>
    /// Every column a Hive table over these files has whatever its log types: <see cref="HiveColumns"/> and the partition
    /// columns (type, dt, hour), compared without case as Hive compares names. The others are typed columns.
    /// </summary>
    public static IReadOnlySet<string> HiveTableColumns { get; } =
        new HashSet<string>(HiveColumns.Select(c => c.Name).Concat(["type", "dt", "hour"]), StringComparer.OrdinalIgnoreCase);

    private static readonly long MinMs = (DateTime.MinValue - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond;
    private static readonly long MaxMs = (DateTime.MaxValue - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond;

    private readonly List<DateTime> _ts = [], _systemTs = [];
    private readonly List<string> _host = [], _ip = [], _process = [], _version = [], _level = [], _message = [], _node = [], _topic = [];
    private readonly List<string?> _sender = [];
    private readonly List<ReadOnlyMemory<char>> _keys = [], _values = [];
    private readonly List<int> _mapDefinitions = [], _mapRepetitions = [], _partition = [];
    private readonly List<long> _seq = [], _offset = [];

    /// <summary>Rows buffered.</summary>
    public int Count => _ts.Count;

    /// <summary>About how many bytes the buffered rows hold (their text as UTF-16 halves and the numbers): a size estimate before encoding.</summary>
    public long BufferedBytes { get; private set; }

    /// <summary>Whether Parquet can hold the event exactly; false with a reason otherwise.</summary>
    public static bool CanWrite(LogEvent logEvent, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        reason = null;
        if (logEvent.Ts < MinMs || logEvent.Ts > MaxMs) reason = $"ts {logEvent.Ts} is outside the years 0001-9999 a Parquet timestamp is written from";
        else if (logEvent.SystemTs < MinMs || logEvent.SystemTs > MaxMs) reason = $"system_ts {logEvent.SystemTs} is outside the years 0001-9999 a Parquet timestamp is written from";
        else if (FirstUnpaired(logEvent) is { } field) reason = $"{field} holds a lone UTF-16 surrogate, which has no UTF-8 form (Parquet strings are UTF-8)";
        return reason is null;
    }

    /// <summary>The file schema with <paramref name="more"/> after the fixed columns (the Hive sink's typed columns).</summary>
    public static ParquetSchema SchemaWith(IEnumerable<Field> more) => new(Schema.Fields.Concat(more).ToArray());

    /// <summary>
    /// Buffers one row; call <see cref="CanWrite"/> first. The attributes that are typed fields of <paramref name="typed"/>
    /// are left out of the map (the caller writes them as columns of their own).
    /// </summary>
    public void Add(LogEvent logEvent, string topic, int partition, long offset, TypedLogSchema? typed = null)
    {
        _ts.Add(DateTime.UnixEpoch.AddMilliseconds(logEvent.Ts));
        _systemTs.Add(DateTime.UnixEpoch.AddMilliseconds(logEvent.SystemTs));
        AddText(_host, logEvent.Host);
        AddText(_ip, logEvent.Ip);
        AddText(_process, logEvent.Process);
        if (_withType) AddText(_type, logEvent.Type);
        AddText(_version, logEvent.Version);
        AddText(_level, logEvent.Level);
        AddText(_message, logEvent.Message);
        AddText(_node, logEvent.Lineage.IngressNode ?? "");
        _seq.Add(logEvent.Lineage.SourceSeq);
        _topic.Add(topic);
        _partition.Add(partition);
        _offset.Add(offset);
        _sender.Add(logEvent.Lineage.Sender);
        BufferedBytes += 40 + 2L * (logEvent.Lineage.Sender?.Length ?? 0);

        // A map is a repeated key_value group: the first entry of a row starts it (repetition 0), the others
        // continue it (1); an empty map is one level that stops at the map (definition 1: present, no entry).
        var first = true;
        foreach (var (key, value) in logEvent.Attributes)
        {
            if (typed is not null && typed.IsTypedField(key)) continue;
            _keys.Add(key.AsMemory());
            _values.Add(value.AsMemory());
            _mapDefinitions.Add(2);
            _mapRepetitions.Add(first ? 0 : 1);
            BufferedBytes += 2L * (key.Length + value.Length);
            first = false;
        }
        if (first)
        {
            _mapDefinitions.Add(1);
            _mapRepetitions.Add(0);
        }
    }

    /// <summary>Writes the buffered rows as one row group and empties the buffer.</summary>
    /// <param name="more">Writes the columns of <see cref="SchemaWith"/>'s extra fields into the row group, after the fixed ones.</param>
    public async Task WriteRowGroupAsync(ParquetWriter writer, Func<ParquetRowGroupWriter, Task>? more = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Count == 0) return;
        using (var group = writer.CreateRowGroup())
        {
            await group.WriteAsync<DateTime>(Ts, _ts.ToArray(), null, null, cancellation).ConfigureAwait(false);
            await group.WriteAsync<DateTime>(SystemTs, _systemTs.ToArray(), null, null, cancellation).ConfigureAwait(false);
            await group.WriteAsync(Host, _host).ConfigureAwait(false);
            await group.WriteAsync(Ip, _ip).ConfigureAwait(false);
            await group.WriteAsync(Process, _process).ConfigureAwait(false);
            if (_withType) await group.WriteAsync(Type, _type).ConfigureAwait(false);
            await group.WriteAsync(Version, _version).ConfigureAwait(false);
            await group.WriteAsync(Level, _level).ConfigureAwait(false);
            await group.WriteAsync(Message, _message).ConfigureAwait(false);
            var definitions = _mapDefinitions.ToArray();
            var repetitions = _mapRepetitions.ToArray();
            await group.WriteAllPartsAsync<ReadOnlyMemory<char>>(AttributeKey, _keys.ToArray(), definitions, repetitions, cancellation).ConfigureAwait(false);
            await group.WriteAllPartsAsync<ReadOnlyMemory<char>>(AttributeValue, _values.ToArray(), definitions, repetitions, cancellation).ConfigureAwait(false);
            await group.WriteAsync(IngressNode, _node).ConfigureAwait(false);
            await group.WriteAsync<long>(SourceSeq, _seq.ToArray(), null, null, cancellation).ConfigureAwait(false);
            await group.WriteAsync(Topic, _topic).ConfigureAwait(false);
            await group.WriteAsync<int>(Partition, _partition.ToArray(), null, null, cancellation).ConfigureAwait(false);
            await group.WriteAsync<long>(Offset, _offset.ToArray(), null, null, cancellation).ConfigureAwait(false);
            await group.WriteAsync(Sender, _sender).ConfigureAwait(false);
            if (more is not null) await more(group).ConfigureAwait(false);
            group.CompleteValidate();
        }
        Clear();
    }

    public void Clear()
    {
        foreach (var list in new System.Collections.IList[] { _ts, _systemTs, _host, _ip, _process, _type, _version, _level, _message, _node, _topic, _keys, _values, _mapDefinitions, _mapRepetitions, _partition, _seq, _offset, _sender })
        {
            list.Clear();
        }
        BufferedBytes = 0;
    }

    private void AddText(List<string> column, string value)
    {
        column.Add(value);
        BufferedBytes += 2L * value.Length;
    }

    private static DateTimeDataField Timestamp(string name) =>
        new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: false);

    private static DataField Text(string name) => new(name, typeof(string), isNullable: false);

    private static string? FirstUnpaired(LogEvent e)
    {
        if (IsUnpaired(e.Host)) return "host";
        if (IsUnpaired(e.Ip)) return "ip";
        if (IsUnpaired(e.Process)) return "process";
        if (IsUnpaired(e.Type)) return "type";
        if (IsUnpaired(e.Version)) return "version";
        if (IsUnpaired(e.Level)) return "level";
        if (IsUnpaired(e.Message)) return "message";
        if (IsUnpaired(e.Lineage.IngressNode)) return "lineage.ingress_node";
        if (IsUnpaired(e.Lineage.Sender)) return "lineage.sender";
        foreach (var (key, value) in e.Attributes)
        {
            if (IsUnpaired(key) || IsUnpaired(value)) return $"attribute '{key}'";
        }
        return null;
    }

    /// <summary>A lone surrogate: UTF-8 encoders replace it with U+FFFD, which would change the text silently.</summary>
    private static bool IsUnpaired(string? text)
    {
        if (text is null) return false;
        var span = text.AsSpan();
        var i = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0)
        {
            if (!char.IsHighSurrogate(span[i]) || i + 1 >= span.Length || !char.IsLowSurrogate(span[i + 1])) return true;
            span = span[(i + 2)..];
            i = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        }
        return false;
    }
}
