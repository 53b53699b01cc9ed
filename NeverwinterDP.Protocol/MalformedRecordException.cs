namespace NeverwinterDP.Protocol;

/// <summary>
/// Bytes from the bus that are not what they claim to be: a bad Confluent frame or an Avro payload that does
/// not decode as the schema. A consumer cannot fix these by retrying; it sends them to a dead-letter topic.
/// </summary>
public sealed class MalformedRecordException : FormatException
{
    public MalformedRecordException(string message) : base(message) { }

    public MalformedRecordException(string message, Exception inner) : base(message, inner) { }
}
