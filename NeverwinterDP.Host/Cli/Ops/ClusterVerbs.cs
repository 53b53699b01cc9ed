using System.CommandLine;
using System.Text.Json;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary><c>nwdp cluster ...</c>: membership, as Petabridge's pbm <c>cluster</c> commands show and change it.</summary>
public static class ClusterVerbs
{
    private const string AddressHelp = "ADDR is akka.tcp://nwdp@HOST:PORT or HOST:PORT (the node's remoting address, the node=... of its ready line).";

    public static IReadOnlyList<Command> Commands { get; } =
    [
        AdminVerb.Create("show", "List the cluster's members as the node sees them: address | roles | status.", ShowAsync),
        AdminVerb.Create("status", "This node's membership: address, roles, status, the leader, member counts.", StatusAsync),
        AdminVerb.Create("leader", "The cluster's leader (and the leader of each role).", LeaderAsync),
        AdminVerb.Create("leave", "Make a member leave gracefully (default: the node asked, which stops ingress and pumps first).\n" + AddressHelp,
            c => CommandAsync(c, "leave"), positional: "[ADDR]"),
        AdminVerb.Create("join", "Make the node asked join the cluster of the node at ADDR.\n" + AddressHelp,
            c => CommandAsync(c, "join"), positional: "ADDR", required: true),
        AdminVerb.Create("down", "Mark a member down (use for a crashed node: the leader removes it, its shards move).\n" + AddressHelp,
            c => CommandAsync(c, "down"), positional: "ADDR", required: true),
        AdminVerb.Create("down-unreachable", "Mark down every member the node sees as unreachable.", c => CommandAsync(c, "down-unreachable")),
        AdminVerb.Create("tail", "Stream membership events (current state first) until Ctrl-C.", TailAsync),
    ];

    private static async Task<int> ShowAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/cluster/members", AdminJson.Default.MembersResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var rows = reply.Value.Members.Select(m => new[] { m.Address, string.Join(',', m.Roles), StatusText(m) }).ToList();
        await AdminVerb.WriteTableAsync(call.Out, ["address", "roles", "status"], rows);
        await call.Out.WriteLineAsync($"Count: {rows.Count} nodes");
        return 0;
    }

    private static string StatusText(MemberInfo m)
    {
        var notes = new List<string>();
        if (!m.Reachable) notes.Add("unreachable");
        if (m.Leader) notes.Add("leader");
        if (m.Self) notes.Add("this node");
        return notes.Count == 0 ? m.Status : $"{m.Status} ({string.Join(", ", notes)})";
    }

    private static async Task<int> StatusAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/cluster/status", AdminJson.Default.StatusResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var s = reply.Value;
        await call.Out.WriteLineAsync($"Address:   {s.Node.Address}");
        await call.Out.WriteLineAsync($"Roles:     {string.Join(',', s.Node.Roles)}");
        await call.Out.WriteLineAsync($"Status:    {s.Node.Status}{(s.Node.Reachable ? "" : " (unreachable)")}");
        await call.Out.WriteLineAsync($"Leader:    {s.Leader ?? "none"}{(s.Node.Leader ? " (this node)" : "")}");
        await call.Out.WriteLineAsync($"Members:   {s.Members} ({s.Unreachable} unreachable)");
        await call.Out.WriteLineAsync($"Up number: {s.Node.UpNumber}");
        await call.Out.WriteLineAsync($"Uptime:    {TimeSpan.FromSeconds(s.UptimeSeconds)}");
        return 0;
    }

    private static async Task<int> LeaderAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/cluster/leader", AdminJson.Default.LeaderResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        await call.Out.WriteLineAsync(reply.Value.Leader ?? "no leader");
        foreach (var (role, leader) in reply.Value.RoleLeaders)
            await call.Out.WriteLineAsync($"  role {role}: {leader ?? "no leader"}");
        return 0;
    }

    private static async Task<int> CommandAsync(AdminCall call, string action)
    {
        var path = $"/v1/cluster/{action}";
        if (call.Positional is { } target) path += "?address=" + Uri.EscapeDataString(target);
        var reply = await call.Client.PostAsync(path, AdminJson.Default.CommandResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        await call.Out.WriteLineAsync(reply.Value.Message);
        if (action == "down-unreachable")
            foreach (var address in reply.Value.Addresses)
                await call.Out.WriteLineAsync($"  down: {address}");
        return 0;
    }

    /// <summary>
    /// Prints each event as it arrives. Ends with 0 on Ctrl-C or when standard output is closed; with 1 when
    /// the node ends the stream (it stopped) or the connection is lost.
    /// </summary>
    private static async Task<int> TailAsync(AdminCall call)
    {
        var (response, body) = await call.Client.OpenStreamAsync("/v1/cluster/events", call.Cancellation);
        using (response)
        await using (body)
        {
            using var reader = new StreamReader(body);
            while (true)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(call.Cancellation);
                }
                catch (OperationCanceledException) when (call.Cancellation.IsCancellationRequested)
                {
                    return 0;
                }
                catch (Exception e) when (call.Client.Unreachable(e, call.Cancellation) is { } message)
                {
                    throw new AdminCallException(message);
                }
                if (line is null) break;
                if (line.Length == 0) continue;
                try
                {
                    await call.Out.WriteLineAsync(call.Json ? line : Describe(line));
                    await call.Out.FlushAsync(CancellationToken.None);
                }
                catch (IOException)
                {
                    return 0; // standard output closed (| head): the reader has what it wanted
                }
            }
        }
        if (call.Cancellation.IsCancellationRequested) return 0;
        throw new AdminCallException($"node {call.Client.Node} ended the event stream (it is stopping or left the cluster)");
    }

    private static string Describe(string line)
    {
        var e = JsonSerializer.Deserialize(line, AdminJson.Default.MembershipEvent);
        if (e is null) return line;
        var time = DateTimeOffset.FromUnixTimeMilliseconds(e.TsMs).ToLocalTime().ToString("HH:mm:ss.fff");
        var roles = e.Roles is null ? "" : $" [{string.Join(',', e.Roles)}]";
        var status = e.Status is null ? "" : " " + e.Status;
        return $"{time} {e.Event} {e.Address ?? "none"}{roles}{status}";
    }
}
