using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace NeverwinterDP.Actors.Sharding;

/// <summary>
/// The ids of the persistent entities of one type (persistence id <c>&lt;type&gt;|&lt;id&gt;</c>), read from the journal:
/// every entity that ever wrote, running or not (the ops verbs list sources, hosts and spilled topics this way).
/// </summary>
public static class PersistentEntities
{
    public static async Task<IReadOnlyList<string>> IdsAsync(ActorSystem system, string typeName, CancellationToken cancellation)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var prefix = typeName + "|";
        var ids = await journal.CurrentPersistenceIds()
            .Where(id => id.StartsWith(prefix, StringComparison.Ordinal))
            .Select(id => id[prefix.Length..])
            .RunWith(Sink.Seq<string>(), system.Materializer())
            .WaitAsync(cancellation)
            .ConfigureAwait(false);
        return ids.Distinct().Order(StringComparer.Ordinal).ToList();
    }
}
