using System.Collections.Concurrent;
using System.Globalization;
using Akka.Configuration;

namespace NeverwinterDP.Actors.Configuration;

/// <summary>
/// Reads one section of the node's configuration (say <c>nwdp.pump</c>) with no second set of defaults:
/// every key has its default in a module's <c>reference.conf</c>, so a key missing here is a bug there, and
/// the read fails at start with a message naming the key. Bad values fail the same way. Every key read is
/// logged in <see cref="KeysRead"/> (shared by the readers of one configuration), which lets a test check that
/// no shipped key goes unread.
/// </summary>
public sealed class ConfigReader
{
    private readonly Config _config;
    private readonly ConcurrentDictionary<string, byte> _keysRead;

    /// <param name="config">The whole configuration (<paramref name="path"/> empty) or the section at <paramref name="path"/>.</param>
    public ConfigReader(Config config, string path = "") : this(config, path, new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))
    {
    }

    private ConfigReader(Config config, string path, ConcurrentDictionary<string, byte> keysRead)
    {
        _config = config;
        Path = path;
        _keysRead = keysRead;
    }

    /// <summary>Where this section sits (<c>nwdp.pump</c>); empty for the whole configuration.</summary>
    public string Path { get; }

    /// <summary>The full keys read so far through this reader, its sections and their <see cref="Raw"/> configs.</summary>
    public IReadOnlyCollection<string> KeysRead => _keysRead.Keys.ToList();

    /// <summary>The full name of <paramref name="key"/> (what error messages and <see cref="KeysRead"/> say).</summary>
    public string Key(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>The section at <paramref name="key"/>, read the same way.</summary>
    public ConfigReader Section(string key) => new(Required(key).GetConfig(key), Key(key), _keysRead);

    /// <summary>
    /// The Akka <see cref="Config"/> of the section at <paramref name="key"/> (empty when absent), for code that reads
    /// Akka config itself (a sink's options): its reads are logged in <see cref="KeysRead"/> too.
    /// </summary>
    public Config Raw(string key)
    {
        Log(key);
        var section = _config.HasPath(key) ? _config.GetConfig(key) : null;
        return new RecordingConfig(section ?? ConfigurationFactory.Empty, Key(key), _keysRead);
    }

    public string String(string key) => Read(key, "a string", (c, k) => c.GetString(k) ?? throw new FormatException());

    /// <summary>A string, or null when it is empty or blank.</summary>
    public string? OptionalString(string key) => String(key) is { } s && !string.IsNullOrWhiteSpace(s) ? s.Trim() : null;

    public bool Bool(string key) => Read(key, "on or off", (c, k) => c.GetBoolean(k));

    public int Int(string key) => Read(key, "a whole number", (c, k) =>
        int.Parse(c.GetString(k) ?? "", NumberStyles.Integer, CultureInfo.InvariantCulture));

    public int PositiveInt(string key)
    {
        var v = Int(key);
        return v > 0 ? v : throw Invalid(key, $"must be positive, got {v}");
    }

    /// <summary>A size such as <c>16MiB</c>, positive.</summary>
    public long Bytes(string key)
    {
        var v = Read(key, "a size such as 16MiB", (c, k) => c.GetByteSize(k) ?? throw new FormatException());
        return v > 0 ? v : throw Invalid(key, $"must be a positive size, got {v}");
    }

    /// <summary>A size such as <c>16MiB</c>, or 0 (for keys where 0 turns a bound off).</summary>
    public long BytesOrZero(string key)
    {
        var v = Read(key, "a size such as 16MiB, or 0", (c, k) => c.GetByteSize(k) ?? throw new FormatException());
        return v >= 0 ? v : throw Invalid(key, $"must be a size or 0, got {v}");
    }

    /// <summary>A duration such as <c>5s</c> or <c>200ms</c>, not negative.</summary>
    public TimeSpan Duration(string key)
    {
        var v = Read(key, "a duration such as 5s or 200ms", (c, k) => c.GetTimeSpan(k, null, allowInfinite: false));
        return v >= TimeSpan.Zero ? v : throw Invalid(key, $"must not be negative, got {v}");
    }

    public TimeSpan PositiveDuration(string key)
    {
        var v = Duration(key);
        return v > TimeSpan.Zero ? v : throw Invalid(key, $"must be a positive duration, got {v}");
    }

    /// <summary>A HOCON list, or one comma-separated string (what flags and environment variables give); blanks dropped.</summary>
    public IReadOnlyList<string> Strings(string key) => Read(key, "a list or a comma-separated string", (c, k) =>
    {
        var value = c.GetValue(k);
        var items = value.IsArray() ? value.GetStringList() : (IEnumerable<string>)(value.GetString() ?? "").Split(',');
        return items.Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
    });

    private T Read<T>(string key, string what, Func<Config, string, T> read)
    {
        var config = Required(key);
        try
        {
            return read(config, key);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            throw Invalid(key, $"must be {what}, got '{config.GetValue(key)}'");
        }
    }

    private Config Required(string key)
    {
        Log(key);
        return _config.HasPath(key)
            ? _config
            : throw new ArgumentException($"{Key(key)} is not set: every nwdp key has its default in a module's reference.conf, so this one is missing there");
    }

    private void Log(string key) => _keysRead.TryAdd(Key(key), 0);

    private ArgumentException Invalid(string key, string problem) => new($"{Key(key)} {problem}");
}
