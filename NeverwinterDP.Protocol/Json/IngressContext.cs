namespace NeverwinterDP.Protocol;

/// <summary>
/// What the ingress knows about a request besides its body: the values for fields the events leave out, and
/// the lineage to stamp on them. One per request.
/// </summary>
/// <param name="DefaultType">From <c>?type=</c>; null or empty means <see cref="LogEvent.DefaultType"/>.</param>
/// <param name="Host">The connection's remote host, for events that give no <c>host</c>.</param>
/// <param name="Ip">The connection's remote address, for events that give no <c>ip</c>.</param>
/// <param name="IngressNode">Id of this node, for <see cref="Lineage.IngressNode"/>.</param>
/// <param name="NowMs">Ingress time, epoch ms: every event's <see cref="LogEvent.SystemTs"/> and the
/// <see cref="LogEvent.Ts"/> of events that give none.</param>
public sealed record IngressContext(string? DefaultType, string Host, string Ip, string IngressNode, long NowMs)
{
    /// <summary>
    /// Optional: gives the next sequence number of a source, called with (host, process) once per event in
    /// body order, and only after the whole body parsed, so a rejected request uses up no numbers. When null
    /// the events carry <see cref="Lineage.SourceSeq"/> 0 and the caller may assign them later.
    /// </summary>
    public Func<string, string, long>? NextSourceSeq { get; init; }
}
