using Akka.Configuration;

namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>
/// Settings of the files sink, HOCON section <c>nwdp.sinks.files</c>:
/// <code>
/// nwdp.sinks.files {
///   directory = "/var/lib/nwdp/sinks/files"  # required; files go to &lt;directory&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/
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
    public FilesAvroCodec AvroCodec { get; init; } = FilesAvroCodec.Deflate;

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

    /// <summary>Reads the options from the <c>nwdp.sinks.files</c> section; keys left out keep their defaults.</summary>
    /// <param name="section">The <c>nwdp.sinks.files</c> section.</param>
    /// <param name="defaultDirectory">Used when <c>directory</c> is missing or empty (the host passes <c>&lt;data-dir&gt;/sinks/files</c>).</param>
    /// <exception cref="ConfigurationException">No directory at all, or a value the sink does not know.</exception>
    public static FilesSinkOptions FromConfig(Config section, string? defaultDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        var directory = section.GetString("directory", null);
        if (string.IsNullOrWhiteSpace(directory)) directory = defaultDirectory;
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new ConfigurationException("nwdp.sinks.files.directory is required: the directory the files sink writes under.");
        }

        var options = new FilesSinkOptions
        {
            Directory = directory,
            Format = (section.GetString("format", "ndjson") ?? "").ToLowerInvariant() switch
            {
                "ndjson" => FilesFormat.Ndjson,
                "avro" => FilesFormat.Avro,
                var other => throw new ConfigurationException($"nwdp.sinks.files.format = '{other}': expected ndjson or avro."),
            },
            // HOCON reads a bare null as no value, and a quoted "null" as empty text: both mean the null codec.
            AvroCodec = (section.GetString("avro-codec", "deflate") ?? "").ToLowerInvariant() switch
            {
                "deflate" => FilesAvroCodec.Deflate,
                "null" or "none" or "" => FilesAvroCodec.Null,
                var other => throw new ConfigurationException($"nwdp.sinks.files.avro-codec = '{other}': expected deflate or null."),
            },
            RollSize = section.GetByteSize("roll-size", DefaultRollSize) ?? DefaultRollSize,
            Fsync = section.GetBoolean("fsync", true),
        };
        options.Validate();
        return options;
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
