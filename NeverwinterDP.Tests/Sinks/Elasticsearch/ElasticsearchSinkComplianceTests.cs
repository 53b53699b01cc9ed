using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Tests.Sinks.Compliance;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>
/// The sink contract against <see cref="FakeElasticsearch"/> as Elasticsearch 8 with the default index names
/// (<c>logs-compliance-2025.11.28</c>), which the built-in <c>logs</c> template makes a data stream with ECS
/// mappings: the rejectable event's <c>ip</c> is no IP address, refused per item with document_parsing_exception.
/// </summary>
[SinkKind("elasticsearch")]
public sealed class ElasticsearchSinkComplianceTests : SinkComplianceSuite
{
    private FakeElasticsearch _fake = null!;

    protected override async Task PrepareStoreAsync() => _fake = await FakeElasticsearch.StartAsync(FakeFlavor.Elasticsearch8);

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

    protected override LogEvent RejectableEvent(long offset) => Event(offset) with { Ip = "not-an-ip" };
}
