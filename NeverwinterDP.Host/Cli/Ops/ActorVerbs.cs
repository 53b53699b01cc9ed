using System.CommandLine;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary><c>nwdp actor hierarchy</c>: the node's actor tree.</summary>
public static class ActorVerbs
{
    private static readonly Option<int> Depth =
        Flags.Int("--depth", $"levels below /user and /system to show (default {ActorHierarchy.DefaultDepth})", "N", ActorHierarchy.DefaultDepth, 0, 1000, alias: "-d");

    public static Command Hierarchy { get; } = AdminVerb.Create(
        "hierarchy",
        $"The node's actors under /user and /system, indented by depth (default depth {ActorHierarchy.DefaultDepth}).",
        HierarchyAsync,
        [Depth]);

    private static async Task<int> HierarchyAsync(AdminCall call)
    {
        var depth = call.Args.GetValue(Depth);
        var reply = await call.Client.GetAsync($"/v1/actors?depth={depth}", AdminJson.Default.ActorsResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        foreach (var a in reply.Value.Actors)
        {
            var hidden = a.Depth == reply.Value.Depth && a.Children > 0 ? $" (+{a.Children} children)" : "";
            await call.Out.WriteLineAsync(new string(' ', 2 * a.Depth) + a.Path + hidden);
        }
        await call.Out.WriteLineAsync($"Count: {reply.Value.Actors.Count} actors{(reply.Value.Truncated ? $" (truncated at {ActorHierarchy.MaxActors})" : "")}");
        return 0;
    }
}
