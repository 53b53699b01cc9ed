using System.Net;
using System.Net.Http.Headers;
using System.Text;
using NeverwinterDP.Host.Cli;
using NeverwinterDP.Host.Security;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Security;

/// <summary>Senders of <c>POST /v1/events</c> with API keys (<c>nwdp.security.api-keys-file</c>).</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SenderKeySpecs
{
    private static async Task<HttpResponseMessage> PostAsync(InProcessNode node, string type, Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events?type=" + type)
        {
            Content = new StringContent("{\"msg\":\"hello\"}\n", Encoding.UTF8, "application/x-ndjson"),
        };
        headers?.Invoke(request.Headers);
        return await node.Client.SendAsync(request);
    }

    [Fact]
    public async Task With_a_keys_file_a_sender_needs_a_key_and_writes_only_the_types_it_names_and_the_file_is_read_again_when_it_changes()
    {
        using var dir = new TempDir();
        var keys = Path.Combine(dir.Path, "api-keys");
        const string appKey = "k-app-0123456789", otherKey = "k-other-9876543210";
        await File.WriteAllTextAsync(keys, $"# name hash types\napp-team {SenderKeys.Hash(appKey)} app-*,audit\n");
        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "data"), overrides: new() { ["nwdp.security.api-keys-file"] = keys });

        // No key, a wrong key: 401, JSON, WWW-Authenticate.
        foreach (var headers in new Action<HttpRequestHeaders>?[] { null, h => h.Add("X-Api-Key", "wrong"), h => h.Authorization = new("Bearer", "wrong") })
        {
            using var response = await PostAsync(node, "app-web", headers);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.StartsWith("{\"error\":", await response.Content.ReadAsStringAsync());
        }
        // The key, either header, a type it may write: 200.
        using (var response = await PostAsync(node, "app-web", h => h.Authorization = new("Bearer", appKey)))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var response = await PostAsync(node, "audit", h => h.Add("X-Api-Key", appKey)))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // A type it may not write: 403 naming the key and the type.
        using (var response = await PostAsync(node, "billing", h => h.Add("X-Api-Key", appKey)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
            Assert.Contains("'app-team'", body);
            Assert.Contains("'billing'", body);
        }
        var metrics = await node.Client.GetStringAsync("/metrics");
        Assert.Contains("nwdp_ingress_refusals_total{reason=\"unauthorized\"} 3", metrics);
        Assert.Contains("nwdp_ingress_refusals_total{reason=\"forbidden_type\"} 1", metrics);

        // Rotation: a new key added and the old one revoked, without a restart.
        await File.WriteAllTextAsync(keys, $"billing {SenderKeys.Hash(otherKey)} billing\n");
        await Wait.UntilAsync(async () =>
        {
            using var response = await PostAsync(node, "billing", h => h.Add("X-Api-Key", otherKey));
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), () => "the new key was not taken");
        using (var response = await PostAsync(node, "app-web", h => h.Add("X-Api-Key", appKey)))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        // A file that no longer parses leaves the keys in force.
        await File.WriteAllTextAsync(keys, "not a key line\n");
        await Task.Yield();
        using (var response = await PostAsync(node, "billing", h => h.Add("X-Api-Key", otherKey)))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_key_s_name_goes_into_the_lineage_of_each_event_it_sends_through_the_bus_to_the_sink_and_an_event_sent_without_keys_has_none()
    {
        using var dir = new TempDir();
        var keys = Path.Combine(dir.Path, "api-keys");
        const string webKey = "k-web-0123456789";
        await File.WriteAllTextAsync(keys, $"web-team {SenderKeys.Hash(webKey)} lineage-*\n");
        var topic = NeverwinterDP.Protocol.TopicNames.ForType("lineage-keyed");
        static System.Text.Json.JsonElement LineageOf(string line) => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("lineage");

        await using (var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "keyed"), overrides: new() { ["nwdp.security.api-keys-file"] = keys }))
        {
            using (var response = await PostAsync(node, "lineage-keyed", h => h.Add("X-Api-Key", webKey)))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Wait.UntilAsync(() => node.PublishedLines(topic).Count == 1, TimeSpan.FromSeconds(60), () => $"{node.PublishedLines(topic).Count} published");
            var lineage = LineageOf(node.PublishedLines(topic)[0]);
            Assert.Equal("web-team", lineage.GetProperty("sender").GetString());
            Assert.Equal(node.NodeId, lineage.GetProperty("node").GetString());
        }

        await using (var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "open")))
        {
            // Without keys, nothing the event says names a sender: a claimed one is an attribute, not the lineage.
            using (var response = await node.PostNdjsonAsync(["{\"msg\":\"no key\",\"lineage\":{\"sender\":\"forged\"}}"], "lineage-keyed"))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Wait.UntilAsync(() => node.PublishedLines(topic).Count == 1, TimeSpan.FromSeconds(60), () => $"{node.PublishedLines(topic).Count} published");
            Assert.False(LineageOf(node.PublishedLines(topic)[0]).TryGetProperty("sender", out var sender), $"a sender without keys: {sender}");
        }
    }

    [Fact]
    public async Task Without_a_keys_file_senders_need_no_key_and_a_missing_file_stops_the_start()
    {
        using var dir = new TempDir();
        await using (var node = await InProcessNode.StartAsync(dir.Path))
        using (var response = await PostAsync(node, "app"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var missing = Path.Combine(dir.Path, "no-such-keys");
        var e = await Assert.ThrowsAsync<ArgumentException>(() => InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.security.api-keys-file"] = missing }));
        Assert.Contains("nwdp.security.api-keys-file", e.Message);
    }

    private static async Task<HttpResponseMessage> PostLinesAsync(InProcessNode node, string key, int lines)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events?type=app")
        {
            Content = new StringContent(string.Concat(Enumerable.Range(0, lines).Select(i => $"{{\"msg\":\"m{i}\"}}\n")), Encoding.UTF8, "application/x-ndjson"),
        };
        request.Headers.Add("X-Api-Key", key);
        return await node.Client.SendAsync(request);
    }

    [Fact]
    public async Task Keys_made_with_nwdp_keys_are_taken_and_revoked_without_a_restart_and_their_rate_limits_answer_429_and_413_for_a_request_over_one_second()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "api-keys");

        // nwdp keys add: the key on standard output, once; the file holds its hash.
        var added = await Nwdp.RunAsync("keys", "add", "ops", "--file", file, "--types", "app", "--events-per-second", "1");
        Assert.True(added.ExitCode == 0, added.ToString());
        var key = added.Stdout.Trim();
        Assert.Matches("^nwdp_[A-Za-z0-9_-]{43}$", key);
        var text = await File.ReadAllTextAsync(file);
        Assert.Contains($"ops {SenderKeys.Hash(key)} app events/s=1", text);
        Assert.DoesNotContain(key, text);
        var duplicate = await Nwdp.RunAsync("keys", "add", "ops", "--file", file);
        Assert.Equal(KeysVerbs.NotDone, duplicate.ExitCode);
        Assert.Contains("'ops' is already in", duplicate.Stderr);
        var noFile = await Nwdp.RunAsync("keys", "list");
        Assert.Equal(CliApp.UsageError, noFile.ExitCode);
        Assert.Contains("--file", noFile.Stderr);
        var list = await Nwdp.RunAsync("keys", "list", "--file", file);
        Assert.Equal(0, list.ExitCode);
        Assert.Matches(@"(?m)^ops\s+app\s+1\s+-$", list.Stdout);

        await using var node = await InProcessNode.StartAsync(Path.Combine(dir.Path, "data"), overrides: new() { ["nwdp.security.api-keys-file"] = file });

        // 1 event/s, one second's worth in the bucket: one-event requests as fast as they go run into it (429 with
        // Retry-After, naming the limit); two events in one request can never fit (413, naming the limit).
        HttpResponseMessage? limited = null;
        await Wait.UntilAsync(async () =>
        {
            var response = await PostLinesAsync(node, key, 1);
            if (response.StatusCode == HttpStatusCode.OK) return false;
            limited = response;
            return true;
        }, TimeSpan.FromSeconds(30), () => "one-event requests as fast as they go never ran into the key's 1 event/s");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited!.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Contains("1 events/s", await limited.Content.ReadAsStringAsync());
        using (var response = await PostLinesAsync(node, key, 2))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("send smaller requests", await response.Content.ReadAsStringAsync());
        }
        // The bucket refills: a request is taken again later.
        await Wait.UntilAsync(async () =>
        {
            using var response = await PostLinesAsync(node, key, 1);
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(10), () => "the rate limit did not let an event through again");
        var metrics = await node.Client.GetStringAsync("/metrics");
        Assert.Matches(@"nwdp_ingress_refusals_total\{reason=""rate_limited""\} [1-9]", metrics);
        Assert.Contains("nwdp_ingress_refusals_total{reason=\"rate_limit\"} 1", metrics);

        // nwdp keys revoke: refused (401) within a second or so, no restart.
        var revoked = await Nwdp.RunAsync("keys", "revoke", "ops", "--file", file);
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        await Wait.UntilAsync(async () =>
        {
            using var response = await PostLinesAsync(node, key, 1);
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(30), () => "the revoked key is still taken");
        Assert.Equal(KeysVerbs.NotDone, (await Nwdp.RunAsync("keys", "revoke", "ops", "--file", file)).ExitCode);
    }
}
