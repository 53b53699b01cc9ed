using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.RateLimiting;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Security;

/// <summary>A key's rate limits (null = none): events and bytes (of the body, inflated) per second.</summary>
public readonly record struct SenderRates(long? EventsPerSecond, long? BytesPerSecond)
{
    public override string ToString() => string.Join(' ',
        new[] { EventsPerSecond is { } e ? $"events/s={e}" : null, BytesPerSecond is { } b ? $"bytes/s={b}" : null }.Where(x => x is not null));
}

/// <summary>Why a key's request was not admitted by its rate limits: 413 when it can never fit one second's worth, else 429.</summary>
public sealed record RateRefusal(int Status, string Message, TimeSpan RetryAfter);

/// <summary>One sender's key: its name, the log types it may write (globs: <c>*</c>, <c>?</c>) and its rate limits.</summary>
public sealed class SenderKey : IDisposable
{
    private readonly Regex[] _types;
    private readonly TokenBucketRateLimiter? _events;
    private readonly TokenBucketRateLimiter? _bytes;

    public SenderKey(string name, IReadOnlyList<string> types, SenderRates rates = default)
    {
        Name = name;
        Types = types;
        Rates = rates;
        _types = [.. types.Select(t => new Regex("^" + Regex.Escape(t).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant))];
        _events = Bucket(rates.EventsPerSecond);
        _bytes = Bucket(rates.BytesPerSecond);
    }

    public string Name { get; }

    public IReadOnlyList<string> Types { get; }

    public SenderRates Rates { get; }

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

    /// <summary>
    /// Takes a request of <paramref name="events"/> events and <paramref name="bytes"/> bytes from the key's rate
    /// limits (token buckets holding one second's worth, refilled every 100 ms); null when admitted.
    /// </summary>
    public RateRefusal? Admit(int events, long bytes)
    {
        if (_events is null && _bytes is null) return null;
        if (Rates.EventsPerSecond is { } e && events > e)
            return new RateRefusal(413, $"{events} events in one request; API key '{Name}' may send {e} events/s: send smaller requests", TimeSpan.Zero);
        if (Rates.BytesPerSecond is { } b && bytes > b)
            return new RateRefusal(413, $"{bytes} bytes in one request; API key '{Name}' may send {b} bytes/s: send smaller requests", TimeSpan.Zero);
        if (_events is not null && Refused(_events, events) is { } eventsWait)
            return new RateRefusal(429, $"API key '{Name}' is over its rate limit of {Rates.EventsPerSecond} events/s; retry later", eventsWait);
        if (_bytes is not null && Refused(_bytes, (int)Math.Min(bytes, int.MaxValue)) is { } bytesWait)
            return new RateRefusal(429, $"API key '{Name}' is over its rate limit of {Rates.BytesPerSecond} bytes/s; retry later", bytesWait);
        return null;
    }

    private static TimeSpan? Refused(TokenBucketRateLimiter bucket, int permits)
    {
        try
        {
            using var lease = bucket.AttemptAcquire(permits);
            if (lease.IsAcquired) return null;
            return lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        }
        catch (ObjectDisposedException)
        {
            return null; // the keys file changed this key's line while this request was checked: the new line counts from now
        }
    }

    /// <summary>One second's worth of tokens, refilled every 100 ms when the rate divides by 10 (smoother), else once a second (exact).</summary>
    private static TokenBucketRateLimiter? Bucket(long? perSecond)
    {
        if (perSecond is not { } rate) return null;
        var tenths = rate % 10 == 0;
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = (int)Math.Min(rate, int.MaxValue),
            TokensPerPeriod = (int)Math.Min(tenths ? rate / 10 : rate, int.MaxValue),
            ReplenishmentPeriod = tenths ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    public void Dispose()
    {
        _events?.Dispose();
        _bytes?.Dispose();
    }
}

/// <summary>What <see cref="SenderKeys.Authenticate"/> decided: the sender's key, or a refusal (401).</summary>
public readonly record struct SenderCheck(SenderKey? Key, string? Refusal);

/// <summary>
/// API keys of the senders of <c>POST /v1/events</c> (<c>nwdp.security.api-keys-file</c>; empty = none needed). The file
/// holds one key a line, <c>NAME SHA256-HEX TYPE-GLOB[,TYPE-GLOB...] [events/s=N] [bytes/s=SIZE]</c> (<c>#</c>
/// comments): the SHA-256 of the key, never the key (<c>nwdp keys add</c> writes such lines). It is read again when it
/// changes (looked at no more than once a second); a file that no longer parses leaves the keys read before in force.
/// A key whose line did not change keeps its rate buckets across a reload.
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
                var before = _keys;
                _keys = Parse(_file!, before);
                _seen = stamp;
                foreach (var (hash, key) in before)
                    if (!_keys.TryGetValue(hash, out var kept) || !ReferenceEquals(kept, key)) key.Dispose();
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

    /// <summary>One line of the keys file: what <see cref="Parse"/> reads and <c>nwdp keys</c> writes.</summary>
    public sealed record Line(string Name, string Hash, IReadOnlyList<string> Types, SenderRates Rates)
    {
        public override string ToString() => $"{Name} {Hash} {string.Join(',', Types)}" + (Rates == default ? "" : " " + Rates);
    }

    public const string LineFormat = "NAME SHA256-HEX TYPE-GLOB[,TYPE-GLOB...] [events/s=N] [bytes/s=SIZE]";

    /// <summary>Reads one line of the keys file; null for a blank line or a comment.</summary>
    public static Line? ParseLine(string raw, string where)
    {
        var line = raw.Trim();
        if (line.Length == 0 || line.StartsWith('#')) return null;
        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is < 3 or > 5 || fields[1].Length != 64 || !fields[1].All(Uri.IsHexDigit))
            throw new FormatException($"{where}: expected '{LineFormat}'");
        long? events = null, bytes = null;
        foreach (var option in fields.Skip(3))
        {
            var (name, value) = option.Split('=', 2) is [var n, var v] ? (n, v) : (option, "");
            switch (name)
            {
                case "events/s" when events is null && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var e) && e > 0:
                    events = e;
                    break;
                case "bytes/s" when bytes is null && ParseSize(value) is { } b:
                    bytes = b;
                    break;
                default:
                    throw new FormatException($"{where}: '{option}' is not events/s=N or bytes/s=SIZE (a positive number; SIZE may end in KiB, MiB or GiB)");
            }
        }
        return new Line(fields[0], fields[1].ToLowerInvariant(), fields[2].Split(',', StringSplitOptions.RemoveEmptyEntries), new SenderRates(events, bytes));
    }

    /// <summary>A positive size: digits, optionally followed by KiB, MiB or GiB; null when it is not one.</summary>
    public static long? ParseSize(string value)
    {
        var (digits, unit) = value.EndsWith("KiB", StringComparison.Ordinal) ? (value[..^3], 1L << 10)
            : value.EndsWith("MiB", StringComparison.Ordinal) ? (value[..^3], 1L << 20)
            : value.EndsWith("GiB", StringComparison.Ordinal) ? (value[..^3], 1L << 30)
            : (value, 1L);
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 && n <= long.MaxValue / unit ? n * unit : null;
    }

    private static Dictionary<string, SenderKey> Parse(string file, IReadOnlyDictionary<string, SenderKey>? before = null)
    {
        var keys = new Dictionary<string, SenderKey>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in File.ReadAllLines(file))
        {
            number++;
            if (ParseLine(raw, $"{file}:{number}") is not { } line) continue;
            // The same key, name, types and rates as before: the same object, so its rate buckets carry on.
            keys[line.Hash] = before is not null && before.TryGetValue(line.Hash, out var old) && old.Name == line.Name && old.Rates == line.Rates &&
                              old.Types.SequenceEqual(line.Types)
                ? old
                : new SenderKey(line.Name, line.Types, line.Rates);
        }
        return keys;
    }
}
