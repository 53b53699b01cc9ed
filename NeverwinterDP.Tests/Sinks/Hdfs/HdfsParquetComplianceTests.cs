using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Hdfs;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Tests.Sinks.Compliance;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Hdfs;

/// <summary>
/// The shared sink contract for <c>format = parquet</c> against the WebHDFS fake; the files are read back with
/// DuckDB (an independent Parquet reader), which also checks that every field, <c>type</c> included, is a column.
/// </summary>
[SinkKind("hdfs")]
public sealed class HdfsParquetComplianceTests : SinkComplianceSuite
{
    private readonly string _root = HdfsSinkTestKit.NewRoot();
    private readonly string _local = Path.Combine(Path.GetTempPath(), "nwdp-hdfs-parquet-" + Guid.NewGuid().ToString("N")[..8]);
    private FakeWebHdfs _fake = null!;

    protected override async Task PrepareStoreAsync() => _fake = await FakeWebHdfs.StartAsync();

    protected override async Task CleanUpStoreAsync()
    {
        await _fake.DisposeAsync();
        if (Directory.Exists(_local)) Directory.Delete(_local, recursive: true);
    }

    protected override ISink CreateSink() =>
        new HdfsSink(new HdfsSinkOptions { NamenodeUrls = _fake.NamenodeUrls, Root = _root, User = "nwdp", Format = HdfsFormat.Parquet });

    protected override ISink CreateUnreachableSink() =>
        new HdfsSink(new HdfsSinkOptions { NamenodeUrls = [HdfsSinkTestKit.ClosedPort()], Root = _root, RequestTimeout = TimeSpan.FromSeconds(5), Format = HdfsFormat.Parquet });

    protected override Task<IReadOnlyList<StoredRecord>> ReadStoredAsync()
    {
        // Copy what HDFS holds into a local tree and let DuckDB read it.
        if (Directory.Exists(_local)) Directory.Delete(_local, recursive: true);
        var files = HdfsSinkTestKit.Published(_fake, _root).ToList();
        Assert.All(files, f => Assert.EndsWith(".parquet", f.Path));
        if (files.Count == 0) return Task.FromResult<IReadOnlyList<StoredRecord>>([]);
        var i = 0;
        foreach (var (_, content) in files)
        {
            Directory.CreateDirectory(_local);
            File.WriteAllBytes(Path.Combine(_local, $"f{i++}.parquet"), content);
        }
        var rows = DuckDb.Query($"SELECT topic, partition, \"offset\", message, type, host FROM read_parquet({DuckDb.Literal(Path.Combine(_local, "*.parquet"))})");
        Assert.All(rows, r => Assert.Equal("compliance", r[4]));
        return Task.FromResult<IReadOnlyList<StoredRecord>>(rows
            .Select(r => new StoredRecord((string)r[0]!, Convert.ToInt32(r[1]), Convert.ToInt64(r[2]), (string)r[3]!)).ToList());
    }

    protected override Task FailNextWriteAsync()
    {
        _fake.FailNext(1, FakeHdfsFailure.ServiceUnavailable);
        return Task.CompletedTask;
    }

    /// <summary>A system timestamp after the year 9999: no <c>yyyy/MM/dd/HH</c> directory can hold it.</summary>
    protected override LogEvent RejectableEvent(long offset) => Event(offset) with { SystemTs = long.MaxValue };
}
