using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.HBase;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Tests.Sinks.Compliance;

namespace NeverwinterDP.Tests.Sinks.HBase;

/// <summary>
/// The sink contract against <see cref="FakeHBaseRest"/>. The fake refuses cells over 64 KiB (its
/// <c>hbase.client.keyvalue.maxsize</c>) while the sink keeps HBase's default of 10 MiB, so the rejectable
/// record reaches the server, is refused with 400 inside a batch of 50, and the sink must bisect to find it.
/// </summary>
[SinkKind("hbase")]
public sealed class HBaseSinkComplianceTests : SinkComplianceSuite
{
    private const long FakeMaxCellSize = 64 * 1024;

    private readonly string _table = "compliance_" + Guid.NewGuid().ToString("N")[..8];
    private FakeHBaseRest _fake = null!;

    protected override async Task PrepareStoreAsync()
    {
        _fake = await FakeHBaseRest.StartAsync();
        _fake.MaxCellSize = FakeMaxCellSize;
    }

    protected override async Task CleanUpStoreAsync() => await _fake.DisposeAsync();

    protected override ISink CreateSink() => new HBaseSink(HBaseTestKit.Options(_fake, _table));

    protected override ISink CreateUnreachableSink() =>
        new HBaseSink(new HBaseSinkOptions { Url = HBaseTestKit.ClosedPort(), Table = _table, RequestTimeout = TimeSpan.FromSeconds(5) });

    protected override Task<IReadOnlyList<StoredRecord>> ReadStoredAsync() =>
        Task.FromResult<IReadOnlyList<StoredRecord>>(_fake.ReadRows(_table).Select(r => HBaseTestKit.Decode(r)).ToList());

    protected override Task FailNextWriteAsync()
    {
        _fake.FailNextWrites(1, 503);
        return Task.CompletedTask;
    }

    protected override LogEvent RejectableEvent(long offset) => Event(offset, new string('x', (int)FakeMaxCellSize + 1));
}
