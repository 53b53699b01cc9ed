namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>How the files sink lays out records in a file (HOCON <c>nwdp.sinks.files.format</c>).</summary>
public enum FilesFormat
{
    /// <summary><c>ndjson</c>: one <see cref="NeverwinterDP.Protocol.LogEventJson"/> line per record (<c>.ndjson</c>).</summary>
    Ndjson,

    /// <summary><c>avro</c>: an Avro object container file of <c>neverwinterdp.LogEvent</c> records (<c>.avro</c>).</summary>
    Avro,
}
