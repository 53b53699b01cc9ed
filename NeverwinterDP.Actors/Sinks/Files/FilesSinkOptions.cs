using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.PartFiles;

namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>
/// Settings of a files sink, HOCON section <c>nwdp.sinks.&lt;name&gt;</c> (<c>nwdp.sinks.files</c> by default):
/// <code>
/// nwdp.sinks.files {
///   directory = "/var/lib/nwdp/sinks/files"  # default &lt;data-dir&gt;/sinks/&lt;name&gt;; files go to &lt;directory&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/
///   format = ndjson                          # ndjson | avro
///   avro-codec = deflate                     # deflate | null (format = avro only)
///   roll-size = 256 MiB                      # a file that reaches this size is published at once
///   fsync = on                               # off: faster, but a power cut may lose published files
/// }
/// </code>
/// </summary>
public sealed record FilesSinkOptions
{
    /// <summary>Default of <see cref="RollSize"/>: 256 MiB.</summary>
    public const long DefaultRollSize = 256L * 1024 * 1024;

    /// <summary><c>directory</c>: the root of the tree; the sink creates it. Required.</summary>
    public required string Directory { get; init; }

    /// <summary><c>format = ndjson | avro</c>: the file format; <see cref="FilesFormat.Ndjson"/> by default.</summary>
    public FilesFormat Format { get; init; } = FilesFormat.Ndjson;

    /// <summary><c>avro-codec = deflate | null</c>: the block codec when <see cref="Format"/> is Avro.</summary>
    public AvroCodec AvroCodec { get; init; } = AvroCodec.Deflate;

    /// <summary>
    /// <c>roll-size</c>: bytes after which a file is published without waiting for the next flush
    /// (<see cref="DefaultRollSize"/>). A file may pass it by one record (Avro: by one block).
    /// </summary>
    public long RollSize { get; init; } = DefaultRollSize;

    /// <summary>
    /// <c>fsync = on</c>: on publish, fsync the file before the rename and the directory after it, so a
    /// published file survives a power cut. Off only where that does not matter (tests, scratch data).
    /// </summary>
    public bool Fsync { get; init; } = true;

    /// <summary>
    /// Reads the options from the instance's section (<c>nwdp.sinks.&lt;name&gt;</c>); keys left out keep the defaults
    /// above, and a missing or empty <c>directory</c> is <c>&lt;data-dir&gt;/sinks/&lt;name&gt;</c>.
    /// </summary>
    /// <exception cref="SinkConfigException">A value the sink does not know, naming the key.</exception>
    public static FilesSinkOptions FromSection(SinkSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var directory = section.GetString("directory", "");
        if (string.IsNullOrWhiteSpace(directory)) directory = Path.Combine(section.DataDir, "sinks", section.Name);
        // HOCON reads a bare null as no value, and a quoted "null" as empty text: both mean the null codec.
        var codec = section.Config.GetString("avro-codec", "deflate") ?? "";
        return new FilesSinkOptions
        {
            Directory = directory,
            Format = section.GetChoice("format", "ndjson", "ndjson", "avro") == "avro" ? FilesFormat.Avro : FilesFormat.Ndjson,
            AvroCodec = codec.Trim().ToLowerInvariant() switch
            {
                "deflate" => AvroCodec.Deflate,
                "null" or "none" or "" => AvroCodec.Null,
                var other => throw new SinkConfigException(section.Key("avro-codec"), $"must be deflate or null, got '{other}'"),
            },
            RollSize = section.GetBytes("roll-size", DefaultRollSize),
            Fsync = section.GetBool("fsync", true),
        };
    }

    /// <summary>Fails fast, naming the key, on values the sink cannot work with.</summary>
    /// <exception cref="ArgumentException">An empty directory or a roll size below one byte.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException("nwdp.sinks.files.directory is required: the directory the files sink writes under.");
        }
        if (RollSize < 1)
        {
            throw new ArgumentException($"nwdp.sinks.files.roll-size = {RollSize}: must be at least one byte.");
        }
    }
}
