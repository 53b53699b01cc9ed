using System.Net;
using System.Net.Http.Headers;
using System.Text;
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
}
