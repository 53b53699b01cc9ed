using Akka.Actor;
using Akka.Actor.Internal;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// <c>GET /v1/actors?depth=N</c>: the actors under <c>/user</c> and <c>/system</c>, parents before children.
/// It reads each local actor's children container (<see cref="ActorRefWithCell.Children"/>, the immutable
/// snapshot Akka itself uses) instead of sending <c>Identify</c> to <c>path/*</c> selections: no messages, no
/// timeouts, and a busy or stuck actor is listed too. Only this node's actors; a remote child is listed but
/// not walked.
/// </summary>
public static class ActorHierarchy
{
    public const int DefaultDepth = 5;

    /// <summary>At most this many actors are listed (a node with many sharded entities has a big tree).</summary>
    public const int MaxActors = 10_000;

    public static IResult Get(ActorSystem system, int? depth)
    {
        var limit = depth ?? DefaultDepth;
        if (limit < 0) return AdminApi.Fail(400, $"'depth' must be 0 or more, got {limit}");
        var extended = (ExtendedActorSystem)system;
        var actors = new List<ActorEntry>();
        var truncated = false;
        void Walk(IActorRef actor, int level)
        {
            if (actors.Count >= MaxActors)
            {
                truncated = true;
                return;
            }
            var children = actor is ActorRefWithCell cell
                ? cell.Children.OrderBy(c => c.Path.Name, StringComparer.Ordinal).ToList()
                : [];
            actors.Add(new ActorEntry(actor.Path.ToStringWithoutAddress(), level, children.Count));
            if (level >= limit) return;
            foreach (var child in children) Walk(child, level + 1);
        }
        Walk(extended.Guardian, 0);
        Walk(extended.SystemGuardian, 0);
        return AdminApi.Json(new ActorsResponse(limit, truncated, actors), AdminJson.Default.ActorsResponse);
    }
}
