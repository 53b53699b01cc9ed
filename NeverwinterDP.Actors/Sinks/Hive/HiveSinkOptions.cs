using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Actors.Sinks.Framework;
using Parquet;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>The file format of the Hive sink (HOCON <c>format</c>).</summary>
public enum HiveFormat
{
    /// <summary><c>parquet</c>: <see cref="Formats.LogEventParquet"/> rows (<c>.parquet</c>).</summary>
    Parquet,

    /// <summary><c>avro</c>: Avro container files of <c>neverwinterdp.LogEvent</c> records, the files sink's writer (<c>.avro</c>).</summary>
    Avro,
}

/// <summary>
/// Settings of one Hive sink instance, HOCON <c>nwdp.sinks.&lt;name&gt;</c> with <c>kind = hive</c>:
/// <code>
/// nwdp.sinks.hive {
///   kind = hive
///   directory = "/var/lib/nwdp/sinks/hive"  # default &lt;data&gt;/sinks/&lt;name&gt;; tables under it
///   location = "hdfs://nn:8020/warehouse/nwdp" # the same tree as Hive sees it (DDL LOCATIONs); default file://&lt;directory&gt;
///   format = parquet                        # parquet | avro
///   compression = snappy                    # parquet: snappy | gzip | zstd | none; avro: deflate | null
///   table-prefix = ""                       # table = prefix + the topic with every character but [a-z0-9_] as _
///   roll-size = 256 MiB                     # a file that reaches about this size is published at once
///   roll-rows = 1000000                     # ... or this many rows
///   row-group-rows = 100000                 # Parquet rows buffered per row group (memory per open file)
///   fsync = on
///   register-on = publish                   # publish (a partition's line at the flush after its first file) | complete (the hour's watermark)
/// }
/// </code>
/// </summary>
public sealed record HiveSinkOptions
{
    public const long DefaultRollSize = 256L * 1024 * 1024;
    public const int DefaultRollRows = 1_000_000;
    public const int DefaultRowGroupRows = 100_000;

    /// <summary><c>directory</c>: the root; one directory per table under it.</summary>
    public required string Directory { get; init; }

    /// <summary><c>location</c>: the URI of <see cref="Directory"/> as Hive reaches it; null for <c>file://&lt;directory&gt;</c>.</summary>
    public string? Location { get; init; }

    public HiveFormat Format { get; init; } = HiveFormat.Parquet;

    /// <summary><c>compression</c> when <see cref="Format"/> is Parquet.</summary>
    public CompressionMethod ParquetCompression { get; init; } = CompressionMethod.Snappy;

    /// <summary><c>compression</c> when <see cref="Format"/> is Avro.</summary>
    public AvroCodec AvroCodec { get; init; } = AvroCodec.Deflate;

    public string TablePrefix { get; init; } = "";

    public long RollSize { get; init; } = DefaultRollSize;

    public int RollRows { get; init; } = DefaultRollRows;

    public int RowGroupRows { get; init; } = DefaultRowGroupRows;

    public bool Fsync { get; init; } = true;

    /// <summary>
    /// <c>register-on</c>: <c>publish</c> appends a partition's <c>ADD PARTITION</c> line at the flush after its first
    /// file; <c>complete</c> holds every partition of an hour until the hour's completion (<c>nwdp.watermarks</c>) and
    /// then registers them all, so a query sees an hour only once it is whole. Completions need all of the sink's
    /// writers on one pump node (docs/watermarks.md), so the default is <c>publish</c>.
    /// </summary>
    public bool RegisterOnComplete { get; init; }

    public static HiveSinkOptions FromSection(SinkSection s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var format = s.GetChoice("format", "parquet", "parquet", "avro") == "avro" ? HiveFormat.Avro : HiveFormat.Parquet;
        var options = new HiveSinkOptions
        {
            Directory = s.GetString("directory", "") is { Length: > 0 } d ? d : Path.Combine(s.DataDir, "sinks", s.Name),
            Location = s.GetString("location", "") is { Length: > 0 } l ? l : null,
            Format = format,
            TablePrefix = s.GetString("table-prefix", ""),
            RollSize = s.GetBytes("roll-size", DefaultRollSize),
            RollRows = s.GetPositiveInt("roll-rows", DefaultRollRows),
            RowGroupRows = s.GetPositiveInt("row-group-rows", DefaultRowGroupRows),
            Fsync = s.GetBool("fsync", true),
            RegisterOnComplete = s.GetChoice("register-on", "publish", "publish", "complete") == "complete",
        };
        if (format == HiveFormat.Parquet)
        {
            options = options with
            {
                ParquetCompression = s.GetChoice("compression", "snappy", "snappy", "gzip", "zstd", "none") switch
                {
                    "gzip" => CompressionMethod.Gzip,
                    "zstd" => CompressionMethod.Zstd,
                    "none" => CompressionMethod.None,
                    _ => CompressionMethod.Snappy,
                },
            };
        }
        else
        {
            // HOCON reads a bare null as no value: the null codec.
            var codec = s.Has("compression") ? s.GetString("compression", "null") : "deflate";
            options = options with
            {
                AvroCodec = (codec.Length == 0 ? "null" : codec.Trim().ToLowerInvariant()) switch
                {
                    "deflate" => AvroCodec.Deflate,
                    "null" or "none" => AvroCodec.Null,
                    var other => throw new SinkConfigException(s.Key("compression"), $"with format = avro must be one of deflate, null, got '{other}'"),
                },
            };
        }
        options.Validate(s.Key);
        return options;
    }

    /// <summary>Fails fast, naming the key, on values the sink cannot work with.</summary>
    public void Validate(Func<string, string>? key = null)
    {
        key ??= k => $"nwdp.sinks.hive.{k}";
        if (string.IsNullOrWhiteSpace(Directory)) throw new SinkConfigException(key("directory"), "is required");
        if (TablePrefix.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')))
        {
            throw new SinkConfigException(key("table-prefix"), $"may hold only a-z, 0-9 and _ (a Hive table name), got '{TablePrefix}'");
        }
        if (Location is not null && (!Uri.TryCreate(Location, UriKind.Absolute, out var uri) || uri.Scheme.Length < 2 || Location.Contains('\'')))
        {
            throw new SinkConfigException(key("location"), $"must be an absolute URI such as hdfs://namenode:8020/warehouse/nwdp, got '{Location}'");
        }
        if (RollSize < 1) throw new SinkConfigException(key("roll-size"), $"must be a positive size, got {RollSize}");
        if (RollRows < 1) throw new SinkConfigException(key("roll-rows"), $"must be a positive whole number, got {RollRows}");
        if (RowGroupRows < 1) throw new SinkConfigException(key("row-group-rows"), $"must be a positive whole number, got {RowGroupRows}");
    }
}
