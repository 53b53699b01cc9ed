using System.Globalization;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Tests.Sinks.Compliance;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Files;

/// <summary>
/// The files sink against the shared contract. Stored records are read back from the published NDJSON files
/// with System.Text.Json (not the sink's code): topic from the directory, partition from the file name, offset
/// from the compliance events' <c>offset</c> attribute. The transient fault: for one write, each directory holding
/// files is replaced by a regular file (new files cannot be created there, even by root); unreachable is a directory under a
/// regular file; rejectable is an event whose system_ts no hour directory can name.
/// </summary>
[SinkKind("files")]
public sealed class FilesSinkComplianceTests : SinkComplianceSuite
{
    private readonly TempDir _dir = new();
    private readonly List<FaultOnNextWriteSink> _sinks = [];
    private readonly DirectoriesReplacedByFiles _fault = new();

    private string Root => Path.Combine(_dir.Path, "files");

    protected override Task PrepareStoreAsync() => Task.CompletedTask;

    protected override async Task CleanUpStoreAsync()
    {
        await _fault.Repair();
        _dir.Dispose();
    }

    protected override ISink CreateSink()
    {
        var sink = new FaultOnNextWriteSink(new FilesSink(new FilesSinkOptions { Directory = Root }, "files-compliance"));
        _sinks.Add(sink);
        return sink;
    }

    protected override ISink CreateUnreachableSink()
    {
        var file = Path.Combine(_dir.Path, "a-regular-file");
        File.WriteAllText(file, "not a directory");
        return new FilesSink(new FilesSinkOptions { Directory = Path.Combine(file, "files") }, "files-unreachable");
    }

    protected override Task FailNextWriteAsync()
    {
        _sinks[^1].Arm(() => _fault.Fault(Root), _fault.Repair);
        return Task.CompletedTask;
    }

    protected override LogEvent RejectableEvent(long offset) => Event(offset) with { SystemTs = long.MaxValue };

    protected override Task<IReadOnlyList<StoredRecord>> ReadStoredAsync()
    {
        var stored = new List<StoredRecord>();
        var topicDirectory = Path.Combine(Root, Topic);
        foreach (var file in Directory.GetFiles(topicDirectory, "*.ndjson", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            Assert.StartsWith(Topic + "-p", name);
            var partition = int.Parse(name.AsSpan(Topic.Length + 2, 4), CultureInfo.InvariantCulture);
            foreach (var line in File.ReadLines(file))
            {
                using var json = JsonDocument.Parse(line);
                var offset = long.Parse(json.RootElement.GetProperty("attributes").GetProperty("offset").GetString()!, CultureInfo.InvariantCulture);
                stored.Add(new StoredRecord(Topic, partition, offset, json.RootElement.GetProperty("msg").GetString()!));
            }
        }
        return Task.FromResult<IReadOnlyList<StoredRecord>>(stored);
    }
}
