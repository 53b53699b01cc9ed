namespace NeverwinterDP.Protocol;

/// <summary>
/// Schema ids written into Confluent frames. Fixed numbers until a schema registry assigns them; a registry
/// must keep these ids for these schemas so records already on the bus stay readable.
/// </summary>
public static class SchemaIds
{
    /// <summary><c>Schemas/LogEvent.avsc</c>.</summary>
    public const int LogEvent = 1;

    /// <summary><c>Schemas/Heartbeat.avsc</c>.</summary>
    public const int Heartbeat = 2;

    /// <summary><c>Schemas/HourMarker.avsc</c>.</summary>
    public const int HourMarker = 3;
}
