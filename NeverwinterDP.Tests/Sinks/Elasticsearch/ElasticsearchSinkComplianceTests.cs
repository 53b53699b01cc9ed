using System.Text;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.Sinks.Compliance;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>
/// The sink contract against <see cref="FakeElasticsearch"/> (Elasticsearch 8 flavour). The index is created
/// up front with an explicit mapping, as an operator's index template would: <c>attributes.code</c> is a
/// long, so the rejectable event (code = "not-a-number") is refused per item with document_parsing_exception.
/// </summary>
public sealed class ElasticsearchSinkComplianceTests : SinkComplianceSuite
{
    // The suite's events (ts 1_764_300_000_000 + offset) are all of 2025-11-28 UTC, type "compliance".
    private const string Index = "logs-compliance-2025.11.28";

    private FakeElasticsearch _fake = null!;

    protected override async Task PrepareStoreAsync()
    {
        _fake = await FakeElasticsearch.StartAsync(FakeFlavor.Elasticsearch8);
        using var http = new HttpClient();
        var mapping = """{"mappings":{"properties":{"attributes":{"properties":{"code":{"type":"long"}}}}}}""";
        using var response = await http.PutAsync(new Uri(_fake.Url, Index), new StringContent(mapping, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    protected override async Task CleanUpStoreAsync() => await _fake.DisposeAsync();

    protected override ISink CreateSink() => EsTestKit.Sink(_fake);

    protected override ISink CreateUnreachableSink() => EsTestKit.Sink([EsTestKit.ClosedPortUrl()]);

    protected override Task<IReadOnlyList<StoredRecord>> ReadStoredAsync()
    {
        IReadOnlyList<StoredRecord> stored = _fake.Documents()
            .Select(d =>
            {
                var (topic, partition, offset) = EsTestKit.ParseId(d.Id);
                return new StoredRecord(topic, partition, offset, d.Source.GetProperty("msg").GetString()!);
            })
            .ToList();
        return Task.FromResult(stored);
    }

    protected override Task FailNextWriteAsync()
    {
        _fake.FailNextBulkRequests(1, 503);
        return Task.CompletedTask;
    }

    protected override LogEvent RejectableEvent(long offset) =>
        Event(offset) with { Attributes = new Dictionary<string, string> { ["offset"] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture), ["code"] = "not-a-number" } };
}
