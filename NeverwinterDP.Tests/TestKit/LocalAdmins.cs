using System.Collections.Concurrent;
using System.Net.Http.Headers;
using NeverwinterDP.Host.Security;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// The admin APIs of the nodes the tests started, and their data directories: the verbs run against them get
/// <c>--data DIR</c>, so they read the node's <c>admin.token</c> as the CLI on the node's machine does.
/// </summary>
public static class LocalAdmins
{
    private static readonly ConcurrentDictionary<string, string> DataDirs = new();

    public static void Register(string? adminNode, string dataDir)
    {
        if (adminNode is not null) DataDirs[adminNode] = dataDir;
    }

    /// <summary><paramref name="args"/>, with <c>--data DIR</c> added when <c>--node</c> names a node started here and neither <c>--data</c> nor <c>--token</c> is given.</summary>
    public static string[] WithDataDir(IReadOnlyList<string> args)
    {
        var node = args.Select((a, i) => a == "--node" && i + 1 < args.Count ? args[i + 1] : null).LastOrDefault(n => n is not null);
        if (node is null || args.Contains("--data") || args.Contains("--token") || !DataDirs.TryGetValue(node, out var dir)) return [.. args];
        return [.. args, "--data", dir];
    }

    /// <summary>An HTTP client of the admin API at <paramref name="adminNode"/>, with the token the node wrote to <paramref name="dataDir"/>.</summary>
    public static HttpClient Client(string adminNode, string dataDir, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = new Uri("http://" + adminNode), Timeout = timeout ?? TimeSpan.FromSeconds(100) };
        var token = AdminToken.Read(dataDir) ?? throw new InvalidOperationException($"no {AdminToken.FileName} in {dataDir}");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
