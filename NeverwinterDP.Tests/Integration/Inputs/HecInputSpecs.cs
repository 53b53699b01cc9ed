using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using static NeverwinterDP.Tests.TestKit.ClientTestKit;

namespace NeverwinterDP.Tests.Integration.Inputs;

/// <summary>Splunk HEC on a node: token auth, HEC's answers, and every accepted event in the files sink once.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class HecInputSpecs
{
    private const string Token = "11111111-2222-3333-4444-555555555555";

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(InProcessNode node, string path, string body, string? authorization = "Splunk " + Token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await node.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Events_and_raw_lines_with_a_valid_token_land_once_and_are_answered_as_HEC_answers()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.inputs.hec.tokens"] = $"other-token, {Token}" });

        var batch = """{"time":1700000000.5,"host":"web-1","sourcetype":"hec","event":"hec-1"}{"time":1700000001,"sourcetype":"hec","event":{"message":"hec-2","level":"warn"}}""";
        var (status, body) = await PostAsync(node, "/services/collector/event", batch);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"text":"Success","code":0}""", body.GetRawText());

        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("x:" + Token));
        (status, body) = await PostAsync(node, "/services/collector/raw?sourcetype=hec&host=web-2&channel=FE0ECFAD-13D5-401B-847D-77833BD77131", "hec-3\nhec-4\n", basic);
        Assert.Equal(HttpStatusCode.OK, status);

        var topic = TopicNames.ForType("hec");
        await Eventually(() => node.PublishedLines(topic).Count >= 4, TimeSpan.FromSeconds(60));
        var lines = node.PublishedLines(topic).Select(l => JsonDocument.Parse(l).RootElement).OrderBy(l => l.GetProperty("msg").GetString()).ToList();
        Assert.Equal(["hec-1", "hec-2", "hec-3", "hec-4"], lines.Select(l => l.GetProperty("msg").GetString()));
        Assert.Equal((1_700_000_000_500, "web-1"), (lines[0].GetProperty("ts").GetInt64(), lines[0].GetProperty("host").GetString()));
        Assert.Equal("warn", lines[1].GetProperty("level").GetString());
        Assert.Equal("web-2", lines[3].GetProperty("host").GetString());

        var (health, healthBody) = await node.Client.GetAsync("/services/collector/health") is var r ? (r.StatusCode, await r.Content.ReadAsStringAsync()) : default;
        Assert.Equal((HttpStatusCode.OK, """{"text":"HEC is healthy","code":17}"""), (health, healthBody));
    }

    [Fact]
    public async Task A_missing_or_wrong_token_and_a_bad_event_are_refused_in_HECs_shape_and_nothing_lands()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.inputs.hec.tokens"] = Token });

        var (status, body) = await PostAsync(node, "/services/collector/event?x=hecbad", """{"event":"x","sourcetype":"hecbad"}""", authorization: null);
        Assert.Equal((HttpStatusCode.Unauthorized, """{"text":"Token is required","code":2}"""), (status, body.GetRawText()));
        (status, body) = await PostAsync(node, "/services/collector/event", """{"event":"x","sourcetype":"hecbad"}""", "Splunk nope");
        Assert.Equal((HttpStatusCode.Forbidden, """{"text":"Invalid token","code":4}"""), (status, body.GetRawText()));
        (status, body) = await PostAsync(node, "/services/collector/event", """{"event":"x","sourcetype":"hecbad"}{"sourcetype":"hecbad"}""");
        Assert.Equal((HttpStatusCode.BadRequest, """{"text":"Event field is required","code":12,"invalid-event-number":1}"""), (status, body.GetRawText()));
        (status, body) = await PostAsync(node, "/services/collector/event", "");
        Assert.Equal((HttpStatusCode.BadRequest, """{"text":"No data","code":5}"""), (status, body.GetRawText()));

        (status, _) = await PostAsync(node, "/services/collector/event", """{"event":"after","sourcetype":"hecbad"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var topic = TopicNames.ForType("hecbad");
        await Eventually(() => node.PublishedLines(topic).Count >= 1, TimeSpan.FromSeconds(60));
        Assert.Equal(["after"], node.PublishedLines(topic).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()));

        var metrics = await node.Client.GetStringAsync("/metrics");
        Assert.Contains("nwdp_ingress_refusals_total{reason=\"unauthorized\"} 2", metrics);
        Assert.Contains("nwdp_ingress_refusals_total{reason=\"malformed\"} 2", metrics);
    }

    [Fact]
    public async Task Without_tokens_HEC_is_off()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.pump.enabled"] = "off" });

        var (status, _) = await PostAsync(node, "/services/collector/event", """{"event":"x"}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
    }
}
