namespace NeverwinterDP.Protocol.AtRest;

/// <summary>
/// Encryption at rest of a spill store (the node's <c>nwdp.spill.encryption</c>, the EmitterClient's
/// <c>EmitterClientOptions.SpillEncryption</c>): AES-256-GCM with a key from a file or an environment variable, and
/// older keys kept readable until what they sealed is replayed.
/// </summary>
public sealed record SpillEncryptionOptions
{
    /// <summary>Off by default: nothing configured, nothing sealed, and sealed records found are left alone (see <see cref="KeyFile"/>).</summary>
    public static SpillEncryptionOptions None { get; } = new();

    /// <summary>
    /// <c>enabled</c>: seal what is written from now on with the current key. Off with a key still configured:
    /// new records are written in the clear and the sealed ones are still read (turning it off orphans nothing).
    /// </summary>
    public bool Enabled { get; init; }

    /// <summary><c>key-file</c>: the current key, 32 random bytes in base64 (<c>nwdp spill-key new --out FILE</c>, or <c>openssl rand -base64 32</c>).</summary>
    public string? KeyFile { get; init; }

    /// <summary><c>key-variable</c>: the name of an environment variable holding the current key (base64), when there is no <see cref="KeyFile"/>.</summary>
    public string? KeyVariable { get; init; }

    /// <summary><c>old-key-files</c>: keys no longer used to seal, still used to read what they sealed (remove one once its batches are replayed).</summary>
    public IReadOnlyList<string> OldKeyFiles { get; init; } = [];
}
