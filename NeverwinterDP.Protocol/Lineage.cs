namespace NeverwinterDP.Protocol;

/// <summary>
/// Where an event entered the platform: the ingress node and the sequence number it gave the event within
/// its source (host/process). A value type because one exists per event and ingress makes ~500k a second.
/// </summary>
/// <param name="IngressNode">Id of the node whose ingress accepted the event.</param>
/// <param name="SourceSeq">Sequence number per source; 0 when none was assigned.</param>
/// <param name="Sender">Name of the API key the sender presented; null when none was asked for (Avro <c>lineage.sender</c>, schema version 2).</param>
public readonly record struct Lineage(string IngressNode, long SourceSeq, string? Sender = null);
