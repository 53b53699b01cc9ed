using Akka.Configuration.Hocon;
using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Sinks.Hdfs;

/// <summary>
/// Settings of the HDFS sink, HOCON section <c>nwdp.sinks.&lt;name&gt;</c> with <c>kind = hdfs</c>:
/// <code>
/// nwdp.sinks.hdfs {
///   namenode-url = "http://nn1:9870"      # required; a list for HA: ["http://nn1:9870", "http://nn2:9870"]
///   root = "/nwdp/logs"                   # files go to &lt;root&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/
///   user = ""                             # user.name (simple auth); empty: none sent
///   delegation-token = ""                 # sent as delegation=; empty: none sent
///   format = avro                         # avro | parquet (every field a column, type included)
///   parquet-compression = snappy          # snappy | gzip | none (format = parquet)
///   avro-codec = deflate                  # deflate | null
///   roll-size = 64 MiB                    # a part file is published once its buffer reaches this
///   buffer-limit = 512 MiB                # all open part files together; the largest are published early past it
///   request-timeout = 30s                 # one WebHDFS request (an upload included)
///   close-hour-after = 10m                # _SUCCESS is written this long after an hour's end at the latest
///   success-on = complete                 # complete (the hour's watermark: every node's markers read) | closed (the rule above)
/// }
/// </code>
/// </summary>
public sealed record HdfsSinkOptions
{
    public const long DefaultRollSize = 64L * 1024 * 1024;
    public const long DefaultBufferLimit = 512L * 1024 * 1024;
    public const string DefaultRoot = "/nwdp/logs";

    /// <summary>Used in messages: <c>nwdp.sinks.&lt;name&gt;</c>.</summary>
    public string Section { get; init; } = "nwdp.sinks.hdfs";

    /// <summary><c>namenode-url</c>: the namenodes' HTTP addresses; several for HA, tried in order on a connection failure or StandbyException.</summary>
    public required IReadOnlyList<Uri> NamenodeUrls { get; init; }

    /// <summary><c>root</c>: the absolute HDFS directory the topics go under (<see cref="DefaultRoot"/>).</summary>
    public string Root { get; init; } = DefaultRoot;

    /// <summary><c>user</c>: sent as <c>user.name</c> (HDFS simple authentication); null sends none.</summary>
    public string? User { get; init; }

    /// <summary><c>delegation-token</c>: sent as <c>delegation</c>; null sends none.</summary>
    public string? DelegationToken { get; init; }

    /// <summary><c>avro-codec</c>: the Avro block codec (deflate by default).</summary>
    public AvroCodec AvroCodec { get; init; } = AvroCodec.Deflate;

    /// <summary><c>format = avro | parquet</c>: Avro object container files (default) or Parquet (every field a column, <c>type</c> included).</summary>
    public HdfsFormat Format { get; init; } = HdfsFormat.Avro;

    /// <summary><c>parquet-compression = snappy | gzip | none</c> (format = parquet).</summary>
    public Parquet.CompressionMethod ParquetCompression { get; init; } = Parquet.CompressionMethod.Snappy;

    /// <summary><c>roll-size</c>: a part file is published (its buffer uploaded) once it holds this many bytes.</summary>
    public long RollSize { get; init; } = DefaultRollSize;

    /// <summary><c>buffer-limit</c>: the bytes all open part files may hold together; past it the largest are published early.</summary>
    public long BufferLimit { get; init; } = DefaultBufferLimit;

    /// <summary><c>request-timeout</c>: one WebHDFS request, the upload of a part file included.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>close-hour-after</c>: an hour is closed (gets its <c>_SUCCESS</c>) at the first flush this long after its end.</summary>
    public TimeSpan CloseHourAfter { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// <c>success-on</c>: <c>closed</c> writes an empty <c>_SUCCESS</c> when the hour is closed here (the partitions held
    /// moved on, or <see cref="CloseHourAfter"/>); <c>complete</c> writes it, holding the completion's JSON, only when the
    /// pump declares the hour complete (<c>nwdp.watermarks</c>: every ingress node's marker read from every partition).
    /// </summary>
    public bool SuccessOnComplete { get; init; } = true;

    /// <summary>Reads and validates the section; keys left out keep their defaults.</summary>
    /// <exception cref="SinkConfigException">A missing or bad value, naming its key.</exception>
    public static HdfsSinkOptions FromSection(SinkSection s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var format = s.GetChoice("format", "avro", "avro", "parquet") == "parquet" ? HdfsFormat.Parquet : HdfsFormat.Avro;
        var parquetCompression = s.GetChoice("parquet-compression", "snappy", "snappy", "gzip", "none") switch
        {
            "gzip" => Parquet.CompressionMethod.Gzip,
            "none" => Parquet.CompressionMethod.None,
            _ => Parquet.CompressionMethod.Snappy,
        };

        var options = new HdfsSinkOptions
        {
            Section = $"nwdp.sinks.{s.Name}",
            NamenodeUrls = ReadNamenodes(s),
            Root = s.GetString("root", DefaultRoot).Trim(),
            User = NullIfBlank(s.GetString("user", "")),
            DelegationToken = NullIfBlank(s.GetString("delegation-token", "")),
            AvroCodec = ReadCodec(s),
            Format = format,
            ParquetCompression = parquetCompression,
            RollSize = s.GetBytes("roll-size", DefaultRollSize),
            BufferLimit = s.GetBytes("buffer-limit", DefaultBufferLimit),
            RequestTimeout = s.GetDuration("request-timeout", TimeSpan.FromSeconds(30)),
            CloseHourAfter = s.GetDuration("close-hour-after", TimeSpan.FromMinutes(10)),
            SuccessOnComplete = s.GetChoice("success-on", "complete", "complete", "closed") == "complete",
        };
        options.Validate();
        return options;
    }

    /// <summary>Fails fast, naming the key, on values the sink cannot work with.</summary>
    /// <exception cref="SinkConfigException">A bad value.</exception>
    public void Validate()
    {
        if (NamenodeUrls is null || NamenodeUrls.Count == 0) throw new SinkConfigException(Key("namenode-url"), "is required");
        foreach (var url in NamenodeUrls)
        {
            if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https") || url.Query.Length > 0)
            {
                throw new SinkConfigException(Key("namenode-url"), $"must be http(s)://host:port of a namenode, got '{url}'");
            }
        }
        if (!IsLegalRoot(Root))
        {
            throw new SinkConfigException(Key("root"), $"must be an absolute HDFS path without '.', '..', empty or hidden components, got '{Root}'");
        }
        if (RollSize < 1) throw new SinkConfigException(Key("roll-size"), $"must be at least one byte, got {RollSize}");
        if (BufferLimit < RollSize) throw new SinkConfigException(Key("buffer-limit"), $"must be at least roll-size ({RollSize} bytes), got {BufferLimit}");
        if (RequestTimeout <= TimeSpan.Zero) throw new SinkConfigException(Key("request-timeout"), "must be positive");
        if (CloseHourAfter <= TimeSpan.Zero) throw new SinkConfigException(Key("close-hour-after"), "must be positive");
    }

    private string Key(string key) => $"{Section}.{key}";

    // "/" or /a/b/c: components that HDFS accepts and that readers do not skip (no leading '.' or '_').
    private static bool IsLegalRoot(string? root)
    {
        if (string.IsNullOrEmpty(root) || root[0] != '/') return false;
        if (root == "/") return true;
        foreach (var part in root[1..].TrimEnd('/').Split('/'))
        {
            if (part.Length == 0 || part[0] is '.' or '_' || part.Contains(':') || part.Any(char.IsControl)) return false;
        }
        return true;
    }

    private static List<Uri> ReadNamenodes(SinkSection s)
    {
        const string key = "namenode-url";
        if (!s.Has(key)) throw new SinkConfigException(s.Key(key), "is required");
        var value = s.Config.GetValue(key);
        IEnumerable<string> texts = value.IsArray()
            ? value.GetArray().Select(v => v.GetString())
            : (value.GetString() ?? "").Split(',');
        var urls = new List<Uri>();
        foreach (var raw in texts)
        {
            var text = raw?.Trim().TrimEnd('/') ?? "";
            if (text.Length == 0) continue;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new SinkConfigException(s.Key(key), $"must be http(s)://host:port of a namenode, got '{raw}'");
            }
            urls.Add(uri);
        }
        return urls.Count > 0 ? urls : throw new SinkConfigException(s.Key(key), "is required");
    }

    // As the files sink reads it: HOCON reads a bare null as a null string, a quoted "null" as empty text.
    private static AvroCodec ReadCodec(SinkSection s) => (s.Config.GetString("avro-codec", "deflate") ?? "").Trim().ToLowerInvariant() switch
    {
        "deflate" => AvroCodec.Deflate,
        "null" or "none" or "" => AvroCodec.Null,
        var other => throw new SinkConfigException(s.Key("avro-codec"), $"must be deflate or null, got '{other}'"),
    };

    private static string? NullIfBlank(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
