using System.Globalization;
using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>
/// The Hive sink's tree: <c>&lt;root&gt;/&lt;table&gt;/type=&lt;t&gt;/dt=&lt;yyyy-MM-dd&gt;/hour=&lt;HH&gt;/part-&lt;topic&gt;-p..-o..-o...parquet</c>,
/// Hive's partition directory names, the hour being the UTC hour of the event's system timestamp.
/// </summary>
internal sealed class HiveLayout : PartLayout
{
    private readonly HiveSinkOptions _options;
    private readonly HiveCatalog _catalog;
    private readonly Dictionary<string, string> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Table, TypedLogSchema Schema), HiveTypedPlan> _plans = [];

    public HiveLayout(HiveSinkOptions options, string root)
        : base(root)
    {
        _options = options;
        var extension = options.Format == HiveFormat.Avro ? ".avro" : ".parquet";
        Names = new FileNames("part-", extension);
        _catalog = new HiveCatalog(root, options.Location ?? "file://" + root, options.Format, options.Fsync, options.RegisterOnComplete);
    }

    public override FileNames Names { get; }

    public HiveCatalog Catalog => _catalog;

    /// <summary>The table of a topic: the prefix, then the topic lower-cased with every character but a-z, 0-9 and _ as _.</summary>
    public static string TableName(string prefix, string topic) =>
        prefix + string.Concat(topic.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_'));

    public override bool TryPlace(SinkRecord record, out SlotKey key, out string? reason)
    {
        key = default;
        var type = record.Event.Type;
        if (!IsPartitionValue(type))
        {
            reason = $"type '{type}' cannot name a Hive partition directory (a-z, A-Z, 0-9, '.', '_', '-', at most 128)";
            return false;
        }
        if (!UtcHour.TryFromEpochMs(record.Event.SystemTs, out var hour))
        {
            reason = $"system_ts {record.Event.SystemTs} is outside the years 0001-9999, so no dt/hour partition can hold it";
            return false;
        }
        key = new SlotKey(hour, type);
        reason = null;
        return true;
    }

    public override string DirectoryOf(string topic, SlotKey key)
    {
        var (dt, hour) = HiveCatalog.HivePartition(key.Hour);
        return Path.Combine(Root, Table(topic), "type=" + key.Bucket, "dt=" + dt, "hour=" + hour);
    }

    public override IEnumerable<(string Directory, SlotKey Key)> ExistingDirectories(string topic)
    {
        var table = Table(topic);
        var tableDirectory = Path.Combine(Root, table);
        if (!Directory.Exists(tableDirectory)) yield break;
        foreach (var typeDirectory in Directory.EnumerateDirectories(tableDirectory, "type=*", Everything))
        foreach (var dtDirectory in Directory.EnumerateDirectories(typeDirectory, "dt=*", Everything))
        foreach (var hourDirectory in Directory.EnumerateDirectories(dtDirectory, "hour=*", Everything))
        {
            var type = Path.GetFileName(typeDirectory)["type=".Length..];
            var dt = Path.GetFileName(dtDirectory)["dt=".Length..];
            var hh = Path.GetFileName(hourDirectory)["hour=".Length..];
            if (!IsPartitionValue(type) || dt.Length != 10 || dt[4] != '-' || dt[7] != '-'
                || !UtcHour.TryParse(dt[..4], dt[5..7], dt[8..], hh, out var hour))
            {
                continue;
            }
            // Registered again in case a crash came between a publish and its partitions.sql line.
            _catalog.Register(table, type, hour);
            yield return (hourDirectory, new SlotKey(hour, type));
        }
    }

    /// <summary>
    /// Hour <paramref name="hour"/> of <paramref name="topic"/> is complete (<paramref name="note"/>: or closed incomplete,
    /// and why): registers every type's partition of that hour found on disk. The completion comes after the sink
    /// flushed the hour, so every file of it is published; the directories, not this writer's memory, say which types
    /// there are, so the partitions the sink's other writers on this node published are registered too.
    /// </summary>
    public void HourCompleted(string topic, UtcHour hour, string? note)
    {
        var table = Table(topic);
        var (dt, hh) = HiveCatalog.HivePartition(hour);
        var tableDirectory = Path.Combine(Root, table);
        var types = Directory.Exists(tableDirectory)
            ? Directory.EnumerateDirectories(tableDirectory, "type=*", Everything)
                .Select(d => Path.GetFileName(d)["type=".Length..])
                .Where(t => IsPartitionValue(t) && Directory.Exists(Path.Combine(tableDirectory, "type=" + t, "dt=" + dt, "hour=" + hh)))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        Ddl(() => _catalog.Release(table, hour, types, note));
    }

    public override PartFile Create(string directory, string topic, int partition, long firstOffset, long batch) =>
        _options.Format == HiveFormat.Avro
            ? new AvroPartFile(Names, directory, topic, partition, firstOffset, _options.AvroCodec, batch, typed: true,
                plan: (type, schema) => Plan(topic, type, schema))
            : new ParquetPartFile(Names, directory, topic, partition, firstOffset, _options.ParquetCompression, _options.RowGroupRows, batch,
                (type, schema) => Plan(topic, type, schema), type => Ddl(() => _catalog.ColumnsOf(Table(topic), type)));

    /// <summary>How the topic's table takes the records of a typed schema: decided once per table and schema (<see cref="HiveCatalog.Decide"/>).</summary>
    private HiveTypedPlan Plan(string topic, string type, TypedLogSchema schema)
    {
        var table = Table(topic);
        if (_plans.TryGetValue((table, schema), out var plan)) return plan;
        plan = Ddl(() => _catalog.Decide(table, type, schema));
        _plans.Add((table, schema), plan);
        return plan;
    }

    // EACCES/EPERM on the DDL files: an IOException as any other failed write, so the sink fails the call and tries again.
    private T Ddl<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"Writing the Hive DDL under {Root} failed: {e.Message}", e);
        }
    }

    private void Ddl(Action call) => Ddl(() =>
    {
        call();
        return true;
    });

    public override void Published(string topic, SlotKey key, string directory) => _catalog.Register(Table(topic), key.Bucket, key.Hour);

    public override void Flush() => Ddl(_catalog.Flush);

    private string Table(string topic)
    {
        if (!_tables.TryGetValue(topic, out var table)) _tables.Add(topic, table = TableName(_options.TablePrefix, topic));
        return table;
    }

    private static bool IsPartitionValue(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= 128 && value is not ("." or "..")
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
