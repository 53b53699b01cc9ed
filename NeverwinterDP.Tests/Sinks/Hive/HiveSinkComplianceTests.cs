using System.Globalization;
using Avro.File;
using Avro.Generic;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Hive;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Tests.Sinks.Compliance;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Hive;

/// <summary>
/// The Hive sink against the shared contract, Parquet files read back by DuckDB (<c>read_parquet</c> with hive
/// partitioning). Transient fault: for one write, each directory holding files is replaced by a regular file
/// (new files cannot be created there, even by root). Unreachable: a directory under a regular file. Rejectable: a lone UTF-16 surrogate
/// in the message, which Parquet's UTF-8 strings cannot hold.
/// </summary>
[SinkKind("hive")]
public sealed class HiveSinkParquetComplianceTests : SinkComplianceSuite
{
    private readonly TempDir _dir = new();
    private readonly List<FaultOnNextWriteSink> _sinks = [];
    private readonly DirectoriesReplacedByFiles _fault = new();

    private string Root => Path.Combine(_dir.Path, "hive");

    protected override Task PrepareStoreAsync() => Task.CompletedTask;

    protected override async Task CleanUpStoreAsync()
    {
        await _fault.Repair();
        _dir.Dispose();
    }

    protected override ISink CreateSink()
    {
        var sink = new FaultOnNextWriteSink(new HiveSink(new HiveSinkOptions { Directory = Root }, "hive-compliance"));
        _sinks.Add(sink);
        return sink;
    }

    protected override ISink CreateUnreachableSink()
    {
        var file = Path.Combine(_dir.Path, "a-regular-file");
        File.WriteAllText(file, "not a directory");
        return new HiveSink(new HiveSinkOptions { Directory = Path.Combine(file, "hive") }, "hive-unreachable");
    }

    protected override Task FailNextWriteAsync()
    {
        _sinks[^1].Arm(() => _fault.Fault(Root), _fault.Repair);
        return Task.CompletedTask;
    }

    protected override LogEvent RejectableEvent(long offset) => Event(offset, "half a surrogate pair: \uD83D");

    protected override Task<IReadOnlyList<StoredRecord>> ReadStoredAsync()
    {
        if (!Directory.Exists(Root) || Directory.GetFiles(Root, "*.parquet", SearchOption.AllDirectories).Length == 0)
        {
            return Task.FromResult<IReadOnlyList<StoredRecord>>([]);
        }
        var rows = DuckDb.Query($"SELECT topic, \"partition\", \"offset\", message FROM {DuckDb.AllParquet(Root)}");
        return Task.FromResult<IReadOnlyList<StoredRecord>>(
            rows.Select(r => new StoredRecord((string)r[0]!, (int)r[1]!, (long)r[2]!, (string)r[3]!)).ToList());
    }
}

/// <summary>
/// The Hive sink with <c>format = avro</c> against the shared contract, read back with Apache.Avro's container
/// reader: topic and partition from the file name, the offset from the compliance events' <c>offset</c>
/// attribute. Rejectable: a type that cannot name a partition directory.
/// </summary>
[SinkKind("hive")]
public sealed class HiveSinkAvroComplianceTests : SinkComplianceSuite
{
    private readonly TempDir _dir = new();
    private readonly List<FaultOnNextWriteSink> _sinks = [];
    private readonly DirectoriesReplacedByFiles _fault = new();

    private string Root => Path.Combine(_dir.Path, "hive");

    protected override Task PrepareStoreAsync() => Task.CompletedTask;

    protected override async Task CleanUpStoreAsync()
    {
        await _fault.Repair();
        _dir.Dispose();
    }

    protected override ISink CreateSink()
    {
        var sink = new FaultOnNextWriteSink(new HiveSink(new HiveSinkOptions { Directory = Root, Format = HiveFormat.Avro }, "hive-avro"));
        _sinks.Add(sink);
        return sink;
    }

    protected override ISink CreateUnreachableSink()
    {
        var file = Path.Combine(_dir.Path, "a-regular-file");
        File.WriteAllText(file, "not a directory");
        return new HiveSink(new HiveSinkOptions { Directory = Path.Combine(file, "hive"), Format = HiveFormat.Avro }, "hive-unreachable");
    }

    protected override Task FailNextWriteAsync()
    {
        _sinks[^1].Arm(() => _fault.Fault(Root), _fault.Repair);
        return Task.CompletedTask;
    }

    protected override LogEvent RejectableEvent(long offset) => Event(offset) with { Type = "no/such/dir" };

    protected override Task<IReadOnlyList<StoredRecord>> ReadStoredAsync()
    {
        var stored = new List<StoredRecord>();
        if (!Directory.Exists(Root)) return Task.FromResult<IReadOnlyList<StoredRecord>>(stored);
        foreach (var file in Directory.GetFiles(Root, "*.avro", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            Assert.StartsWith($"part-{Topic}-p", name);
            var partition = int.Parse(name.AsSpan($"part-{Topic}-p".Length, 4), CultureInfo.InvariantCulture);
            using var reader = DataFileReader<GenericRecord>.OpenReader(file);
            foreach (var record in reader.NextEntries)
            {
                var attributes = (IDictionary<string, object>)record["attributes"];
                stored.Add(new StoredRecord(Topic, partition, long.Parse((string)attributes["offset"], CultureInfo.InvariantCulture), (string)record["message"]));
            }
        }
        return Task.FromResult<IReadOnlyList<StoredRecord>>(stored);
    }
}
