namespace NeverwinterDP.Protocol;

/// <summary>
/// Schema ids written into Confluent frames. Fixed numbers until a schema registry assigns them; a registry
/// must keep these ids for these schemas so records already on the bus stay readable.
/// </summary>
public static class SchemaIds
{
    /// <summary>
    /// <c>Schemas/LogEvent.avsc</c>, version 2 of the LogEvent subject (with <c>lineage.sender</c>): what nodes write. A
    /// number far above the ids a registry gives (from 4 up, one by one), so it cannot be one a registry made before it
    /// already gave to a client's schema.
    /// </summary>
    public const int LogEvent = 1_000_000_002;

    /// <summary><c>Schemas/LogEventV1.avsc</c>, version 1 (no <c>lineage.sender</c>): what nodes wrote before; still read.</summary>
    public const int LogEventV1 = 1;

    /// <summary><c>Schemas/Heartbeat.avsc</c>.</summary>
    public const int Heartbeat = 2;

    /// <summary><c>Schemas/HourMarker.avsc</c>.</summary>
    public const int HourMarker = 3;
}
