namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>The block codec of Avro files (HOCON <c>nwdp.sinks.files.avro-codec</c>); both are read by every Avro tool.</summary>
public enum AvroCodec
{
    /// <summary><c>deflate</c>: smaller files, more CPU.</summary>
    Deflate,

    /// <summary><c>null</c>: blocks stored as they are.</summary>
    Null,
}
