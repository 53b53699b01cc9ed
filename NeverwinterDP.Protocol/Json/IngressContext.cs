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

    /// <summary>Name of the API key the request presented, for <see cref="Lineage.Sender"/>; null when none was asked for.</summary>
    public string? Sender { get; init; }

    /// <summary>The lineage of the request's events before their sequence numbers: this node and the sender's key.</summary>
    public Lineage Lineage => new(IngressNode, 0, Sender);

    /// <summary>
    /// Completes an event that arrived already built (Akka-remote ingress) the way <see cref="EventParser"/>
    /// completes one it parsed: what the sender left empty gets the same defaults, <see cref="LogEvent.SystemTs"/>
    /// is the ingress time, the lineage names this node, and a <see cref="Lineage.SourceSeq"/> of 0 is taken
    /// from <see cref="NextSourceSeq"/> (the sender's own sequence number is kept).
    /// </summary>
    public LogEvent Complete(LogEvent sent)
    {
        ArgumentNullException.ThrowIfNull(sent);
        var type = string.IsNullOrEmpty(DefaultType) ? LogEvent.DefaultType : DefaultType;
        var completed = sent with
        {
            Ts = sent.Ts != 0 ? sent.Ts : NowMs,
            SystemTs = NowMs,
            Host = string.IsNullOrEmpty(sent.Host) ? Host : sent.Host,
            Ip = string.IsNullOrEmpty(sent.Ip) ? Ip : sent.Ip,
            Process = string.IsNullOrEmpty(sent.Process) ? LogEvent.DefaultProcess : sent.Process,
            Type = string.IsNullOrEmpty(sent.Type) ? type : sent.Type,
            Version = sent.Version ?? "",
            Level = string.IsNullOrEmpty(sent.Level) ? LogEvent.DefaultLevel : sent.Level,
            Message = sent.Message ?? "",
            Attributes = sent.Attributes ?? LogEvent.NoAttributes,
            Lineage = new Lineage(IngressNode, sent.Lineage.SourceSeq, Sender), // never a sender the event claims itself
        };
        if (completed.Lineage.SourceSeq == 0 && NextSourceSeq is { } next) completed.StampSourceSeq(next(completed.Host, completed.Process));
        return completed;
    }
}
