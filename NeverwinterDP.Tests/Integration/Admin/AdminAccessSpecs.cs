using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using NeverwinterDP.Host.Node;
using Xunit;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Tests.TestKit;
using NeverwinterDP.Host.Security;

namespace NeverwinterDP.Tests.Integration.Admin;

/// <summary>Who may use the admin API, and what the verbs say when they cannot.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AdminAccessSpecs
{
    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task Off_loopback_the_node_refuses_to_start_without_a_token_and_the_API_refuses_calls_without_it()
    {
        using var dir = new TempDir();
        // nwdp run: a usage error (exit 2) naming the token, before anything starts.
        var refused = await Nwdp.RunAsync("run", "--data", dir.Path, "--http", "127.0.0.1:0", "--admin", "0.0.0.0:0");
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("nwdp.admin.token", refused.Stderr);
        Assert.Contains("NWDP_ADMIN_TOKEN", refused.Stderr);
        Assert.Contains("not loopback", refused.Stderr);
        Assert.DoesNotContain("ready", refused.Stdout);
        var config = Assert.Throws<ArgumentException>(() => NodeConfig.Load(null, new Dictionary<string, string>
        {
            ["nwdp.node.data-dir"] = dir.Path,
            ["nwdp.admin.endpoint"] = "10.1.2.3:9110",
        }));
        Assert.Contains("nwdp.admin.token", config.Message);
        // The admin API needs its own port.
        var samePort = Assert.Throws<ArgumentException>(() => NodeConfig.Load(null, new Dictionary<string, string>
        {
            ["nwdp.node.data-dir"] = dir.Path,
            ["nwdp.http.endpoint"] = "127.0.0.1:9110",
        }));
        Assert.Contains("another port", samePort.Message);

        const string token = "s3cret-token";
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.admin.endpoint"] = "0.0.0.0:0",
            ["nwdp.admin.token"] = token,
        });
        var port = int.Parse(node.AdminNode.Split(':')[1]);
        var admin = $"127.0.0.1:{port}";

        var without = await Nwdp.RunAsync("cluster", "show", "--node", admin);
        Assert.True(without.ExitCode == 1, without.ToString());
        Assert.Contains($"node {admin} answered 401", without.Stderr);
        Assert.Contains("Authorization: Bearer", without.Stderr);
        var wrong = await Nwdp.RunAsync("cluster", "show", "--node", admin, "--token", "not-it");
        Assert.True(wrong.ExitCode == 1, wrong.ToString());
        Assert.Contains("401", wrong.Stderr);
        var right = await Nwdp.RunAsync("cluster", "show", "--node", admin, "--token", token);
        Assert.True(right.ExitCode == 0, right.ToString());
        Assert.Equal("Count: 1 nodes", right.Lines[^1]);
        foreach (var verb in new[] { "stats", "audit" })
        {
            var refusedStats = await Nwdp.RunAsync(verb, "--node", admin);
            Assert.True(refusedStats.ExitCode == 1 && refusedStats.Stderr.Contains($"node {admin} answered 401"), refusedStats.ToString());
            var allowed = await Nwdp.RunAsync(verb, "--node", admin, "--token", token, "--json");
            Assert.True(allowed.ExitCode == 0, allowed.ToString());
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://{admin}") };
        using (var response = await http.GetAsync("/v1/cluster/status"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.StartsWith("{\"error\":", await response.Content.ReadAsStringAsync());
        }
        // Every route, including the unknown ones, is behind the token.
        using (var response = await http.GetAsync("/no/such/route"))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v1/cluster/status"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // The ingress listener is not behind the admin token.
        using (var response = await node.Client.GetAsync("/healthz/live"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task On_first_start_the_node_writes_a_private_token_that_the_verbs_on_its_machine_read_and_the_API_always_requires()
    {
        using var dir = new TempDir();
        string token;
        await using (var node = await InProcessNode.StartAsync(dir.Path))
        {
            var file = Path.Combine(dir.Path, AdminToken.FileName);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            token = File.ReadAllText(file).Trim();
            Assert.Matches("^[0-9a-f]{64}$", token);

            // On loopback too: without the token, 401.
            using var bare = new HttpClient { BaseAddress = new Uri($"http://{node.AdminNode}") };
            using (var response = await bare.GetAsync("/v1/cluster/status"))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                Assert.Contains("admin.token", await response.Content.ReadAsStringAsync());
            }
            // The verbs read the token from the data directory (--data, or NWDP_DATA): nothing to type on the node's machine.
            var withData = await Nwdp.RunAsync("cluster", "status", "--node", node.AdminNode, "--data", dir.Path);
            Assert.True(withData.ExitCode == 0, withData.ToString());
            using var otherDir = new TempDir();
            var elsewhere = await Nwdp.RunAsync("cluster", "status", "--node", node.AdminNode, "--data", otherDir.Path);
            Assert.True(elsewhere.ExitCode == 1 && elsewhere.Stderr.Contains("answered 401"), elsewhere.ToString());

            // State-changing routes: POST only, with the token; a GET does nothing.
            using var admin = node.AdminClient();
            using (var response = await admin.GetAsync("/v1/cluster/leave"))
                Assert.False(response.IsSuccessStatusCode, $"GET /v1/cluster/leave: {(int)response.StatusCode}");
            using (var response = await bare.PostAsync("/v1/cluster/leave", null))
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

            // A browser page elsewhere: its Origin is refused, with the token too, and no CORS is ever granted.
            foreach (var origin in new[] { "http://evil.example", $"http://evil.example:{node.AdminNode.Split(':')[1]}", "null", $"https://{node.AdminNode}" })
            {
                using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/cluster/leave");
                post.Headers.Add("Origin", origin);
                using var response = await admin.SendAsync(post);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"Origin {origin}: {(int)response.StatusCode}");
                Assert.Contains("cross-origin", await response.Content.ReadAsStringAsync());
                Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
            }
            using (var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/cluster/leave"))
            {
                preflight.Headers.Add("Origin", "http://evil.example");
                preflight.Headers.Add("Access-Control-Request-Method", "POST");
                preflight.Headers.Add("Access-Control-Request-Headers", "authorization");
                using var response = await bare.SendAsync(preflight);
                Assert.False(response.IsSuccessStatusCode);
                Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
                Assert.False(response.Headers.Contains("Access-Control-Allow-Headers"));
            }
            // The listener's own origin is no cross-site request.
            using (var own = new HttpRequestMessage(HttpMethod.Get, "/v1/cluster/status"))
            {
                own.Headers.Add("Origin", $"http://{node.AdminNode}");
                using var response = await admin.SendAsync(own);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            Assert.Equal(Akka.Cluster.MemberStatus.Up, node.Cluster.SelfMember.Status);
        }
        // A restart keeps the token.
        await using (var again = await InProcessNode.StartAsync(dir.Path))
            Assert.Equal(token, File.ReadAllText(Path.Combine(dir.Path, AdminToken.FileName)).Trim());
    }

    [Fact]
    public async Task Every_ops_verb_names_the_node_it_cannot_reach_and_the_flag_it_cannot_use()
    {
        var node = $"127.0.0.1:{ClosedPort()}";
        string[][] verbs =
        [
            ["cluster", "show"], ["cluster", "status"], ["cluster", "leader"], ["cluster", "leave"], ["cluster", "join", "127.0.0.1:2552"],
            ["cluster", "down", "127.0.0.1:2552"], ["cluster", "down-unreachable"], ["cluster", "tail"],
            ["cluster-sharding", "regions"], ["cluster-sharding", "region-stats", "-t", "emitter"], ["cluster-sharding", "shard-stats", "-t", "emitter"],
            ["actor", "hierarchy"], ["sources"], ["watchdog"], ["stats"], ["audit"],
        ];
        foreach (var verb in verbs)
        {
            foreach (var json in new[] { false, true })
            {
                var outcome = await Nwdp.RunAsync([.. verb, "--node", node, .. json ? new[] { "--json" } : []]);
                var what = string.Join(' ', verb) + (json ? " --json" : "");
                Assert.True(outcome.ExitCode == 1, $"{what}: {outcome}");
                Assert.Equal("", outcome.Stdout);
                var line = Assert.Single(outcome.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                Assert.StartsWith($"nwdp {string.Join(' ', verb.TakeWhile(w => !w.StartsWith('-') && !w.Contains(':')))}: cannot reach node {node}: connection refused", line);
            }
        }

        // Every ops verb has help naming the common flags.
        foreach (var verb in verbs)
        {
            var name = verb.TakeWhile(w => !w.StartsWith('-') && !w.Contains(':')).ToArray();
            var verbHelp = await Nwdp.RunAsync([.. name, "--help"]);
            Assert.True(verbHelp.ExitCode == 0, verbHelp.ToString());
            Assert.StartsWith($"Usage: nwdp {string.Join(' ', name)}", verbHelp.Stdout);
            foreach (var flag in new[] { "--node", "--token", "--data", "--json" }) Assert.Contains(flag, verbHelp.Stdout);
        }
        var overview = await Nwdp.RunAsync("--help");
        foreach (var verb in verbs)
            Assert.Contains("  " + string.Join(' ', verb.TakeWhile(w => !w.StartsWith('-') && !w.Contains(':'))) + " ", overview.Stdout);

        // The default node is the admin API's default address.
        var help = await Nwdp.RunAsync("cluster", "show", "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("default 127.0.0.1:9110", help.Stdout);
        Assert.Contains("NWDP_ADMIN_TOKEN", help.Stdout);

        (string[] Args, string Names)[] usage =
        [
            (["cluster", "show", "--node", "nonsense"], "'--node'"),
            (["cluster", "show", "--node", "127.0.0.1:0"], "'--node'"),
            (["cluster", "show", "extra"], "unexpected argument 'extra'"),
            (["cluster", "join"], "missing ADDR"),
            (["cluster", "down"], "missing ADDR"),
            (["cluster", "leave", "a:1", "b:2"], "unexpected argument 'b:2'"),
            (["cluster-sharding", "region-stats"], "'--type'"),
            (["cluster-sharding", "shard-stats", "--node", node], "'--type'"),
            (["actor", "hierarchy", "-d", "deep"], "'--depth'"),
            (["stats", "--since", "soon", "--node", node], "'--since'"),
            (["audit", "--node", "nohost"], "'--node'"),
            (["cluster", "show", "--bogus"], "'--bogus'"),
            (["run", "--seed", "nohostport"], "'--seed'"),
            (["run", "--roles", "ingress,pumps"], "'pumps'"),
            (["run", "--node-port", "70000"], "'--node-port'"),
            (["run", "--admin", "nonsense"], "'--admin'"),
        ];
        foreach (var (args, names) in usage)
        {
            var outcome = await Nwdp.RunAsync(args);
            Assert.True(outcome.ExitCode == 2, $"{string.Join(' ', args)}: {outcome}");
            Assert.Contains(names, outcome.Stderr);
            Assert.Equal("", outcome.Stdout);
        }
    }
}
