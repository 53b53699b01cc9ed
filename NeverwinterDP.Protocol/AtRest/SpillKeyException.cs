namespace NeverwinterDP.Protocol.AtRest;

/// <summary>
/// A spill key cannot be had: its file or variable is missing or does not hold a key, or a sealed record names a
/// key none of the configured ones is. Never a reason to touch the records: they wait for their key.
/// </summary>
public sealed class SpillKeyException(string message, Exception? inner = null) : Exception(message, inner);
