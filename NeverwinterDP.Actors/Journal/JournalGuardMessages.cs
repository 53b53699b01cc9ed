using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Journal;

/// <summary>
/// Which journal a node writes: <paramref name="Id"/> is read from the database itself (a row the first node to open it
/// writes), so two nodes have the same id exactly when they open the same database, however they name it;
/// <paramref name="Location"/> says where it is for people (<c>sqlite file /abs/path on HOST</c>, <c>postgresql db@host:port</c>).
/// </summary>
public sealed record JournalIdentity(string Id, string Location)
{
    public override string ToString() => $"{Location} (journal id {Id})";
}

/// <summary>Asks a node's <see cref="JournalGuardActor"/> which journal it writes.</summary>
public sealed record GetJournalIdentity : INodeMessage
{
    public static string Manifest => "J1";
    public static readonly GetJournalIdentity Instance = new();
}

/// <summary>The answer: <see cref="Id"/> is null while the node has not read it yet (its database is slow or down).</summary>
public sealed record JournalIdentityAnswer(string? Id, string Location) : INodeMessage
{
    public static string Manifest => "J2";
}
