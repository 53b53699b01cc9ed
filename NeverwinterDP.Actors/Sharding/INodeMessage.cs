namespace NeverwinterDP.Actors.Sharding;

/// <summary>
/// A message that outlives this process or leaves it: a journal event or snapshot of a persistent entity, or a
/// message to (or answer from) a sharded entity that may live on another node. Bound to
/// <see cref="NodeMessageSerializer"/>, which stores <see cref="Manifest"/> instead of the CLR type name, so types
/// can be renamed and moved without breaking the journals or a cluster in a rolling upgrade.
/// </summary>
public interface INodeMessage
{
    /// <summary>
    /// The stable name this type is stored and sent under (e.g. <c>E1</c>): unique, never changed, never reused.
    /// A change of shape that older readers cannot take gets a new manifest; the old one stays readable.
    /// </summary>
    static abstract string Manifest { get; }
}
