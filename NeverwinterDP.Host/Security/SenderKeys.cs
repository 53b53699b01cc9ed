using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Security;

/// <summary>One sender's key: its name and the log types it may write (globs: <c>*</c>, <c>?</c>).</summary>
public sealed class SenderKey(string name, IReadOnlyList<string> types)
{
    private readonly Regex[] _types = [.. types.Select(t => new Regex("^" + Regex.Escape(t).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant))];

    public string Name { get; } = name;

    public IReadOnlyList<string> Types { get; } = types;

    public bool MayWrite(string type) => _types.Any(t => t.IsMatch(type));

    /// <summary>The first type among <paramref name="events"/> this key may not write; null when it may write them all.</summary>
    public string? FirstForbidden(IReadOnlyList<LogEvent> events)
    {
        string? allowed = null;
        foreach (var e in events)
        {
            if (e.Type == allowed) continue;
            if (!MayWrite(e.Type)) return e.Type;
            allowed = e.Type;
        }
        return null;
    }
}

/// <summary>What <see cref="SenderKeys.Authenticate"/> decided: the sender's key, or a refusal (401).</summary>
public readonly record struct SenderCheck(SenderKey? Key, string? Refusal);

/// <summary>
/// API keys of the senders of <c>POST /v1/events</c> (<c>nwdp.security.api-keys-file</c>; empty = none needed). The file
/// holds one key a line, <c>NAME SHA256-HEX TYPE-GLOB[,TYPE-GLOB...]</c> (<c>#</c> comments): the SHA-256 of the key,
/// never the key. It is read again when it changes (looked at no more than once a second); a file that no longer
/// parses leaves the keys read before in force.
/// </summary>
public sealed class SenderKeys
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);
    private readonly string? _file;
    private readonly TimeProvider _clock;
    private readonly Lock _reload = new();
    private volatile IReadOnlyDictionary<string, SenderKey> _keys = new Dictionary<string, SenderKey>();
    private (DateTime Written, long Length) _seen;
    private long _checkedAt;

    /// <param name="file">The keys file; null = senders need no key.</param>
    public SenderKeys(string? file, TimeProvider clock)
    {
        _file = file is null ? null : Path.GetFullPath(file);
        _clock = clock;
        _checkedAt = clock.GetTimestamp();
        if (_file is null) return;
        if (!File.Exists(_file)) throw new ArgumentException($"nwdp.security.api-keys-file: {_file} does not exist");
        _seen = Stamp(_file);
        _keys = Parse(_file);
    }

    public bool Enabled => _file is not null;

    /// <summary>The key an ingress request presents (<c>Authorization: Bearer KEY</c> or <c>X-Api-Key: KEY</c>), checked before its body is read.</summary>
    public SenderCheck Authenticate(HttpRequest request)
    {
        if (_file is null) return default;
        ReloadIfChanged();
        var given = request.Headers["X-Api-Key"].ToString();
        var authorization = request.Headers.Authorization.ToString();
        if (given.Length == 0 && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) given = authorization["Bearer ".Length..].Trim();
        if (given.Length == 0)
            return new SenderCheck(null, "this node requires an API key: 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'");
        return _keys.TryGetValue(Hash(given), out var key) ? new SenderCheck(key, null) : new SenderCheck(null, "unknown API key");
    }

    /// <summary>The SHA-256 of a key, in lower-case hex: what the keys file holds.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private void ReloadIfChanged()
    {
        var now = _clock.GetTimestamp();
        if (_clock.GetElapsedTime(Interlocked.Read(ref _checkedAt), now) < CheckEvery) return;
        lock (_reload)
        {
            if (_clock.GetElapsedTime(_checkedAt, now) < CheckEvery) return;
            Interlocked.Exchange(ref _checkedAt, now);
            try
            {
                var stamp = Stamp(_file!);
                if (stamp == _seen) return;
                _keys = Parse(_file!);
                _seen = stamp;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // Being rewritten, or wrong: the keys read before stay in force until it parses.
            }
        }
    }

    private static (DateTime, long) Stamp(string file)
    {
        var info = new FileInfo(file);
        return (info.LastWriteTimeUtc, info.Length);
    }

    private static Dictionary<string, SenderKey> Parse(string file)
    {
        var keys = new Dictionary<string, SenderKey>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in File.ReadAllLines(file))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 3 || fields[1].Length != 64 || !fields[1].All(Uri.IsHexDigit))
                throw new FormatException($"{file}:{number}: expected 'NAME SHA256-HEX TYPE-GLOB[,TYPE-GLOB...]'");
            keys[fields[1].ToLowerInvariant()] = new SenderKey(fields[0], fields[2].Split(',', StringSplitOptions.RemoveEmptyEntries));
        }
        return keys;
    }
}
