using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.ClickHouse;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Tests.Sinks.Compliance;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.ClickHouse;

/// <summary>
/// The ClickHouse sink against the shared contract and the private server test.sh starts. Stored records
/// are read with <c>SELECT ... FINAL FORMAT JSONEachRow</c> over HTTP (FINAL: what readers see once replays
/// are merged away). Transient fault: the table is detached for one write (the server answers 404, code 60
/// UNKNOWN_TABLE) and attached again after it. Rejectable: a lone high surrogate in the message, which the
/// server refuses (code 25, CANNOT_PARSE_ESCAPE_SEQUENCE), found by bisecting the batch.
/// </summary>
[SinkKind("clickhouse")]
[Trait("Category", TestCategories.Integration)]
public sealed class ClickHouseSinkComplianceTests : SinkComplianceSuite
{
    private readonly string _table = ClickHouseServer.UniqueTable("compliance");
    private readonly List<FaultOnNextWriteSink> _sinks = [];

    protected override Task PrepareStoreAsync() => Task.CompletedTask;

    protected override Task CleanUpStoreAsync() => ClickHouseServer.QueryAsync($"DROP TABLE IF EXISTS `{_table}`");

    protected override ISink CreateSink()
    {
        var sink = new FaultOnNextWriteSink(new ClickHouseSink(new ClickHouseSinkOptions { Url = ClickHouseServer.Url, Table = _table }, "clickhouse-compliance"));
        _sinks.Add(sink);
        return sink;
    }

    protected override ISink CreateUnreachableSink() =>
        new ClickHouseSink(new ClickHouseSinkOptions { Url = new Uri($"http://127.0.0.1:{ClickHouseServer.ClosedPort()}/"), Table = _table, RequestTimeout = TimeSpan.FromSeconds(5) });

    protected override Task FailNextWriteAsync()
    {
        _sinks[^1].Arm(() => ClickHouseServer.QueryAsync($"DETACH TABLE `{_table}`"), () => ClickHouseServer.QueryAsync($"ATTACH TABLE `{_table}`"));
        return Task.CompletedTask;
    }

    protected override LogEvent RejectableEvent(long offset) => Event(offset, "half a surrogate pair: \uD83D!");

    protected override async Task<IReadOnlyList<StoredRecord>> ReadStoredAsync()
    {
        var rows = await ClickHouseServer.RowsAsync($"SELECT topic, partition, offset, message FROM `{_table}` FINAL");
        return rows.Select(r => new StoredRecord(r.GetProperty("topic").GetString()!, r.GetProperty("partition").GetInt32(),
            ClickHouseServer.Int64(r.GetProperty("offset")), r.GetProperty("message").GetString()!)).ToList();
    }
}
