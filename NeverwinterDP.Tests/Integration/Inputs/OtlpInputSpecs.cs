using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Resources;
using Xunit;
using static NeverwinterDP.Tests.TestKit.ClientTestKit;

namespace NeverwinterDP.Tests.Integration.Inputs;

/// <summary>
/// OTLP/HTTP logs on a node: OpenTelemetry's own .NET exporter (HttpProtobuf) behind an ILogger, a JSON body as
/// OTLP's JSON mapping writes it (gzip), partial success, and a malformed body refused whole.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class OtlpInputSpecs
{
    private static List<JsonElement> Lines(InProcessNode node, string topic) =>
        [.. node.PublishedLines(topic).Select(l => JsonDocument.Parse(l).RootElement)];

    [Fact]
    public async Task Records_from_the_OpenTelemetry_exporter_behind_an_ILogger_land_once_with_the_documented_mapping()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var exports = new List<string>();
        const int count = 25;
        string traceId, spanId;
        using (var activitySource = new ActivitySource("otlp-specs"))
        using (var listener = new ActivityListener { ShouldListenTo = _ => true, Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded })
        {
            ActivitySource.AddActivityListener(listener);
            using var factory = LoggerFactory.Create(logging => logging
                .SetMinimumLevel(LogLevel.Trace)
                .AddOpenTelemetry(otel =>
                {
                    otel.SetResourceBuilder(ResourceBuilder.CreateEmpty()
                        .AddService("checkout", serviceVersion: "2.1.0")
                        .AddAttributes([new("host.name", "web-7"), new("deployment.environment", "test")]));
                    otel.IncludeScopes = true;
                    otel.IncludeFormattedMessage = true; // else the exporter sends the template as the body (the arguments are attributes either way)
                    otel.AddOtlpExporter(exporter =>
                    {
                        exporter.Endpoint = new Uri(node.Http, "/v1/logs");
                        exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                    });
                }));
            var logger = factory.CreateLogger("Shop.Checkout");
            using var activity = activitySource.StartActivity("order");
            traceId = activity!.TraceId.ToHexString();
            spanId = activity.SpanId.ToHexString();
            for (var i = 0; i < count; i++)
                logger.Log(i % 5 == 0 ? LogLevel.Error : LogLevel.Information, "order {OrderId} took {Ms} ms", $"o-{i}", i * 10);
        } // disposing the factory flushes the exporter

        var topic = TopicNames.ForType("checkout");
        await Eventually(() => node.PublishedLines(topic).Count >= count, TimeSpan.FromSeconds(60), () => $"{node.PublishedLines(topic).Count} lines");
        var lines = Lines(node, topic);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"order o-{i} took {i * 10} ms").Order(), lines.Select(l => l.GetProperty("msg").GetString()).Order());
        Assert.All(lines, l =>
        {
            var i = int.Parse(l.GetProperty("attributes").GetProperty("Ms").GetString()!) / 10;
            Assert.Equal(i % 5 == 0 ? "error" : "info", l.GetProperty("level").GetString());
            Assert.Equal("checkout", l.GetProperty("process").GetString());
            Assert.Equal("web-7", l.GetProperty("host").GetString());
            Assert.Equal("2.1.0", l.GetProperty("version").GetString());
            var attributes = l.GetProperty("attributes");
            Assert.Equal($"o-{i}", attributes.GetProperty("OrderId").GetString());
            Assert.Equal("order {OrderId} took {Ms} ms", attributes.GetProperty("{OriginalFormat}").GetString());
            Assert.Equal("test", attributes.GetProperty("deployment.environment").GetString());
            Assert.Equal("Shop.Checkout", attributes.GetProperty("otel.scope.name").GetString());
            Assert.Equal(traceId, attributes.GetProperty("trace_id").GetString());
            Assert.Equal(spanId, attributes.GetProperty("span_id").GetString());
            Assert.InRange(l.GetProperty("ts").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        });
    }

    /// <summary>What the OpenTelemetry Collector's otlphttp exporter sends with <c>encoding: json</c> and gzip.</summary>
    private const string JsonRequest = """
        {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"billing"}},{"key":"host.name","value":{"stringValue":"db-2"}}]},
         "scopeLogs":[{"scope":{"name":"billing.jobs","version":"1.0"},"logRecords":[
          {"timeUnixNano":"1700000000123456789","observedTimeUnixNano":"1700000001000000000","severityNumber":13,"severityText":"WARN",
           "body":{"stringValue":"invoice late"},"attributes":[{"key":"log.type","value":{"stringValue":"invoices"}},{"key":"attempt","value":{"intValue":"3"}},
           {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"boolValue":true}]}}}],
           "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","flags":1},
          {"observedTimeUnixNano":"1700000002000000000","severityText":"Notice","body":{"kvlistValue":{"values":[{"key":"k","value":{"doubleValue":1.5}}]}}},
          {"timeUnixNano":"1700000003000000000","attributes":[{"key":"x","value":{"stringValue":"no body"}}]},
          {"timeUnixNano":"1700000004000000000","eventName":"billing.closed"}
         ]}]}]}
        """;

    [Fact]
    public async Task A_gzip_JSON_request_maps_ids_from_hex_and_answers_partial_success_in_JSON()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var gzipped = new MemoryStream();
        using (var gz = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(Encoding.UTF8.GetBytes(JsonRequest));
        var content = new ByteArrayContent(gzipped.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await node.Client.PostAsync("/v1/logs", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("partialSuccess");
        Assert.Equal("1", answer.GetProperty("rejectedLogRecords").GetString()); // int64 as a string, as OTLP's JSON writes it
        Assert.Contains("neither a body nor an event name", answer.GetProperty("errorMessage").GetString());

        await Eventually(() => node.PublishedLines(TopicNames.ForType("invoices")).Count >= 1 && node.PublishedLines(TopicNames.ForType("billing")).Count >= 2,
            TimeSpan.FromSeconds(60));
        var invoice = Assert.Single(Lines(node, TopicNames.ForType("invoices")));
        Assert.Equal(("invoice late", 1_700_000_000_123L, "warn", "billing", "db-2"),
            (invoice.GetProperty("msg").GetString(), invoice.GetProperty("ts").GetInt64(), invoice.GetProperty("level").GetString(),
             invoice.GetProperty("process").GetString(), invoice.GetProperty("host").GetString()));
        var attributes = invoice.GetProperty("attributes");
        Assert.Equal("5b8efff798038103d269b633813fc60c", attributes.GetProperty("trace_id").GetString());
        Assert.Equal("eee19b7ec3c1b174", attributes.GetProperty("span_id").GetString());
        Assert.Equal("1", attributes.GetProperty("trace_flags").GetString());
        Assert.Equal("3", attributes.GetProperty("attempt").GetString());
        Assert.Equal("""["a",true]""", attributes.GetProperty("tags").GetString());
        Assert.Equal("WARN", attributes.GetProperty("severity_text").GetString());
        Assert.Equal(("billing.jobs", "1.0"), (attributes.GetProperty("otel.scope.name").GetString(), attributes.GetProperty("otel.scope.version").GetString()));

        var billing = Lines(node, TopicNames.ForType("billing")).OrderBy(l => l.GetProperty("ts").GetInt64()).ToList();
        Assert.Equal(2, billing.Count);
        Assert.Equal(("""{"k":1.5}""", 1_700_000_002_000L, "Notice"), (billing[0].GetProperty("msg").GetString(), billing[0].GetProperty("ts").GetInt64(), billing[0].GetProperty("level").GetString()));
        Assert.Equal(("billing.closed", 1_700_000_004_000L, "info"), (billing[1].GetProperty("msg").GetString(), billing[1].GetProperty("ts").GetInt64(), billing[1].GetProperty("level").GetString()));
    }

    [Fact]
    public async Task A_protobuf_request_is_answered_in_protobuf_and_a_malformed_one_is_refused_whole()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new() { ["nwdp.pump.enabled"] = "off" });
        var request = new ExportLogsServiceRequest();
        var scope = new ScopeLogs();
        scope.LogRecords.Add(new OpenTelemetry.Proto.Logs.V1.LogRecord { TimeUnixNano = 1_700_000_000_000_000_000, Body = new AnyValue { StringValue = "ok" } });
        scope.LogRecords.Add(new OpenTelemetry.Proto.Logs.V1.LogRecord { TimeUnixNano = 1_700_000_000_000_000_000 });
        request.ResourceLogs.Add(new ResourceLogs { ScopeLogs = { scope } });

        var content = new ByteArrayContent(request.ToByteArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "application/x-protobuf");
        using (var response = await node.Client.PostAsync("/v1/logs", content))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
            var answer = ExportLogsServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(1, answer.PartialSuccess.RejectedLogRecords);
        }

        var cut = request.ToByteArray()[..^3];
        foreach (var (body, type, expected) in new[]
                 {
                     (cut, "application/x-protobuf", "not an OTLP ExportLogsServiceRequest in protobuf"),
                     (Encoding.UTF8.GetBytes("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"},"traceId":"xyz"}]}]}]}"""), "application/json",
                         "field 'traceId' must be 32 hex digits"),
                     (Encoding.UTF8.GetBytes("""{"resourceLogs":[{"scopeLogs":"""), "application/json", "not an OTLP ExportLogsServiceRequest in JSON"),
                 })
        {
            var bad = new ByteArrayContent(body);
            bad.Headers.TryAddWithoutValidation("Content-Type", type);
            using var response = await node.Client.PostAsync("/v1/logs", bad);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(expected, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        }
        var other = new StringContent("x", Encoding.UTF8, "text/plain");
        using (var response = await node.Client.PostAsync("/v1/logs", other)) Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);

        var metrics = await node.Client.GetStringAsync("/metrics");
        Assert.Contains("nwdp_ingress_refusals_total{reason=\"malformed\"} 3", metrics);
    }
}
