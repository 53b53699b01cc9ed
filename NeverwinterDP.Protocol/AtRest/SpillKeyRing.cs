using System.Buffers.Binary;
using System.Security.Cryptography;

namespace NeverwinterDP.Protocol.AtRest;

/// <summary>One 256-bit spill key and where it came from; its id is the first 8 bytes of a SHA-256 of it.</summary>
public sealed class SpillKey
{
    public const int Bytes = 32;

    public SpillKey(byte[] material, string source)
    {
        if (material.Length != Bytes) throw new ArgumentException($"a spill key is {Bytes} bytes, got {material.Length}", nameof(material));
        Material = material;
        Source = source;
        var hash = SHA256.HashData("nwdp-spill-key-id:"u8.ToArray().Concat(material).ToArray());
        Id = BinaryPrimitives.ReadUInt64BigEndian(hash);
    }

    internal byte[] Material { get; }

    /// <summary>Where the key was read: <c>file /path</c> or <c>variable NAME</c> (error messages name it).</summary>
    public string Source { get; }

    /// <summary>
    /// Derived from the key, not chosen: a record names the very key that sealed it, so a wrong key is told from
    /// a damaged record (a wrong key has another id; a damaged record fails authentication under its own).
    /// </summary>
    public ulong Id { get; }

    public string IdText => Id.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The key's file, when it came from one.</summary>
    public string? FilePath { get; private init; }

    /// <summary>Its file may be read by users other than its owner (Unix mode bits beyond 0600): worth a warning.</summary>
    public bool FileReadableByOthers =>
        FilePath is not null && !OperatingSystem.IsWindows() &&
        (File.GetUnixFileMode(FilePath) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0;

    /// <summary>A new random key as its file holds it (base64 of 32 bytes, a line).</summary>
    public static string NewText() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(Bytes)) + "\n";

    /// <summary>Parses a key file's or variable's text: base64 of exactly 32 bytes (surrounding white space ignored).</summary>
    public static SpillKey Parse(string text, string source)
    {
        byte[] material;
        try
        {
            material = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            material = [];
        }
        if (material.Length != Bytes)
            throw new SpillKeyException($"spill key {source} does not hold a key: expected {Bytes} random bytes in base64 (44 characters), as " +
                                        "`nwdp spill-key new --out FILE` or `openssl rand -base64 32` writes");
        return new SpillKey(material, source);
    }

    /// <summary>Reads a key file.</summary>
    /// <exception cref="SpillKeyException">The file is missing, unreadable or does not hold a key; the message names it.</exception>
    public static SpillKey FromFile(string path)
    {
        var full = Path.GetFullPath(path);
        string text;
        try
        {
            text = File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpillKeyException($"spill key file {full} cannot be read ({e.Message}); make one with `nwdp spill-key new --out {full}`, " +
                                        "or restore the one the spilled batches were sealed with", e);
        }
        var key = Parse(text, "file " + full);
        return new SpillKey(key.Material, key.Source) { FilePath = full };
    }

    /// <summary>Reads a key from an environment variable.</summary>
    public static SpillKey FromVariable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text
            ? Parse(text, "variable " + name)
            : throw new SpillKeyException($"spill key variable {name} is not set (or empty); set it to 32 random bytes in base64 (`openssl rand -base64 32`)");
}

/// <summary>
/// The keys of a spill store: the current one (seals, when encryption is on) and the older ones (read only).
/// Seals a record as <c>[version 1][kind 1][key id 8][nonce 12][tag 16][ciphertext]</c>: AES-256-GCM with a random
/// 96-bit nonce per record, the first 10 bytes (version, kind, key id) authenticated as associated data.
/// Thread-safe (an <see cref="AesGcm"/> per call).
/// </summary>
public sealed class SpillKeyRing
{
    public const byte Version = 1;
    public const int HeaderBytes = 10, NonceBytes = 12, TagBytes = 16;

    /// <summary>Bytes a sealed record takes beyond its plaintext.</summary>
    public const int Overhead = HeaderBytes + NonceBytes + TagBytes;

    private readonly Dictionary<ulong, SpillKey> _keys = new();

    public SpillKeyRing(SpillKey? current, IEnumerable<SpillKey> old, bool seals)
    {
        if (seals && current is null) throw new ArgumentException("a ring that seals needs a current key", nameof(current));
        Current = current;
        Seals = seals;
        foreach (var k in old) _keys.TryAdd(k.Id, k);
        if (current is not null) _keys[current.Id] = current;
    }

    /// <summary>No keys: writes in the clear, reads only what is in the clear.</summary>
    public static SpillKeyRing None { get; } = new(null, [], false);

    /// <summary>The key new records are sealed with (when <see cref="Seals"/>).</summary>
    public SpillKey? Current { get; }

    /// <summary>New records are sealed (encryption on).</summary>
    public bool Seals { get; }

    /// <summary>Every key that can open a record.</summary>
    public IReadOnlyCollection<SpillKey> Keys => _keys.Values;

    /// <summary>Loads the configured keys.</summary>
    /// <param name="names">How the caller's configuration names the settings (for the error when encryption is on with no key).</param>
    /// <exception cref="SpillKeyException">A configured key is missing or is not a key; the message names its file or variable.</exception>
    public static SpillKeyRing Load(SpillEncryptionOptions options, (string KeyFile, string KeyVariable) names)
    {
        ArgumentNullException.ThrowIfNull(options);
        SpillKey? current = null;
        if (!string.IsNullOrWhiteSpace(options.KeyFile)) current = SpillKey.FromFile(options.KeyFile);
        else if (!string.IsNullOrWhiteSpace(options.KeyVariable)) current = SpillKey.FromVariable(options.KeyVariable.Trim());
        if (options.Enabled && current is null)
            throw new SpillKeyException($"spill encryption is on but no key is configured: set {names.KeyFile} (or {names.KeyVariable})");
        var old = options.OldKeyFiles.Where(f => !string.IsNullOrWhiteSpace(f)).Select(SpillKey.FromFile).ToList();
        return new SpillKeyRing(current, old, options.Enabled);
    }

    /// <summary>The configured keys, for an error message: their ids and sources.</summary>
    public string Describe() =>
        _keys.Count == 0 ? "no spill key is configured" : "configured: " + string.Join(", ", _keys.Values.Select(k => $"{k.IdText} ({k.Source})"));

    /// <summary>Seals <paramref name="plaintext"/> with the current key; <paramref name="kind"/> (authenticated) says what it is to the reader.</summary>
    public byte[] Seal(byte kind, ReadOnlySpan<byte> plaintext)
    {
        var key = Current ?? throw new InvalidOperationException("no current spill key to seal with");
        var sealedBytes = new byte[Overhead + plaintext.Length];
        var span = sealedBytes.AsSpan();
        span[0] = Version;
        span[1] = kind;
        BinaryPrimitives.WriteUInt64BigEndian(span[2..], key.Id);
        var nonce = span.Slice(HeaderBytes, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key.Material, TagBytes);
        aes.Encrypt(nonce, plaintext, span[Overhead..], span.Slice(HeaderBytes + NonceBytes, TagBytes), span[..HeaderBytes]);
        return sealedBytes;
    }

    /// <summary>The kind byte of a sealed record (authenticated by <see cref="Open"/>).</summary>
    public static byte KindOf(ReadOnlySpan<byte> sealedBytes) =>
        sealedBytes.Length >= HeaderBytes ? sealedBytes[1] : throw new MalformedRecordException("sealed spill record: cut short");

    /// <summary>The id of the key that sealed a record.</summary>
    public static ulong KeyIdOf(ReadOnlySpan<byte> sealedBytes) =>
        sealedBytes.Length >= HeaderBytes ? BinaryPrimitives.ReadUInt64BigEndian(sealedBytes[2..]) : throw new MalformedRecordException("sealed spill record: cut short");

    /// <summary>Opens a sealed record.</summary>
    /// <exception cref="SpillKeyException">It was sealed with a key this ring does not have (nothing is wrong with the record).</exception>
    /// <exception cref="MalformedRecordException">It is cut short, of an unknown version, or fails authentication under its own key (tampered with or damaged).</exception>
    public byte[] Open(ReadOnlySpan<byte> sealedBytes)
    {
        if (sealedBytes.Length < Overhead) throw new MalformedRecordException("sealed spill record: cut short");
        if (sealedBytes[0] != Version) throw new MalformedRecordException($"sealed spill record: unknown version {sealedBytes[0]}");
        var id = KeyIdOf(sealedBytes);
        if (!_keys.TryGetValue(id, out var key))
            throw new SpillKeyException($"a spilled batch is sealed with spill key {id:x16}, which is not configured ({Describe()}); " +
                                        "configure that key (as the current key or an old one) to read it");
        var plaintext = new byte[sealedBytes.Length - Overhead];
        try
        {
            using var aes = new AesGcm(key.Material, TagBytes);
            aes.Decrypt(sealedBytes.Slice(HeaderBytes, NonceBytes), sealedBytes[Overhead..], sealedBytes.Slice(HeaderBytes + NonceBytes, TagBytes), plaintext,
                sealedBytes[..HeaderBytes]);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new MalformedRecordException($"sealed spill record fails authentication under its key {id:x16}: tampered with or damaged", e);
        }
        return plaintext;
    }
}
