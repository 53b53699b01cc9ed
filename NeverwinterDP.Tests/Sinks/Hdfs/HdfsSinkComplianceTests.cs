using Avro.File;
using Avro.Generic;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Hdfs;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Tests.Sinks.Compliance;

namespace NeverwinterDP.Tests.Sinks.Hdfs;

/// <summary>The shared sink contract against the WebHDFS fake; the store is read back by listing it and decoding the Avro files.</summary>
[SinkKind("hdfs")]
public sealed class HdfsSinkComplianceTests : SinkComplianceSuite
{
    private readonly string _root = HdfsSinkTestKit.NewRoot();
    private FakeWebHdfs _fake = null!;

    protected override async Task PrepareStoreAsync() => _fake = await FakeWebHdfs.StartAsync();

    protected override async Task CleanUpStoreAsync() => await _fake.DisposeAsync();

    protected override ISink CreateSink() => new HdfsSink(new HdfsSinkOptions { NamenodeUrls = _fake.NamenodeUrls, Root = _root, User = "nwdp" });

    protected override ISink CreateUnreachableSink() =>
        new HdfsSink(new HdfsSinkOptions { NamenodeUrls = [HdfsSinkTestKit.ClosedPort()], Root = _root, RequestTimeout = TimeSpan.FromSeconds(5) });

    /// <summary>Published files only (not hidden, not markers); partition from the name, offset from the event's attribute.</summary>
    protected override Task<IReadOnlyList<StoredRecord>> ReadStoredAsync()
    {
        var stored = new List<StoredRecord>();
        foreach (var (path, content) in HdfsSinkTestKit.Published(_fake, _root))
        {
            var topic = path[(_root.Length + 1)..].Split('/')[0];
            var name = path[(path.LastIndexOf('/') + 1)..];
            var partition = int.Parse(name[(topic.Length + 2)..(topic.Length + 6)], System.Globalization.CultureInfo.InvariantCulture);
            using var reader = DataFileReader<GenericRecord>.OpenReader(new MemoryStream(content));
            while (reader.HasNext())
            {
                var record = reader.Next();
                var attributes = (IDictionary<string, object>)record["attributes"];
                stored.Add(new StoredRecord(topic, partition, long.Parse((string)attributes["offset"], System.Globalization.CultureInfo.InvariantCulture), (string)record["message"]));
            }
        }
        return Task.FromResult<IReadOnlyList<StoredRecord>>(stored);
    }

    /// <summary>The sink buffers writes in memory, so the next HDFS request (the flush's upload) fails.</summary>
    protected override Task FailNextWriteAsync()
    {
        _fake.FailNext(1, FakeHdfsFailure.ServiceUnavailable);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A system timestamp after the year 9999: no <c>yyyy/MM/dd/HH</c> directory can hold it. (The suite fixes the
    /// topic, so the other permanent refusal, a topic that is no legal path component, is tested in HdfsSinkTests.)
    /// </summary>
    protected override LogEvent RejectableEvent(long offset) => Event(offset) with { SystemTs = long.MaxValue };
}
