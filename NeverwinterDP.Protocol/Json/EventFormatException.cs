namespace NeverwinterDP.Protocol;

/// <summary>A mapping error in one event; its message is the client-facing error text.</summary>
internal sealed class EventFormatException(string message) : Exception(message);
