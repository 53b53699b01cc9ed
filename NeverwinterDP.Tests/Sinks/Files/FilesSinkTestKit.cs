using System.Globalization;
using System.Text.Json;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Files;

/// <summary>Records, sinks and file readers the files sink tests share.</summary>
internal static class FilesSinkTestKit
{
    public const string Topic = "nwdp.logs.web";

    /// <summary>2024-03-05T10:00:00Z, the start of an hour.</summary>
    public static readonly long TenOClock = new DateTimeOffset(2024, 3, 5, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static readonly long ElevenOClock = TenOClock + 3_600_000;

    public static FilesSink Sink(string directory, long rollSize = FilesSinkOptions.DefaultRollSize, FilesFormat format = FilesFormat.Ndjson,
        AvroCodec codec = AvroCodec.Deflate) =>
        new(new FilesSinkOptions { Directory = directory, RollSize = rollSize, Format = format, AvroCodec = codec });

    /// <summary>An event of about 200 bytes as NDJSON whose message names where it came from: <c>topic/partition/offset</c>.</summary>
    public static LogEvent Event(string topic, int partition, long offset, long systemTs) => new()
    {
        Ts = systemTs - 5,
        SystemTs = systemTs,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = "web",
        Version = "2.1.0",
        Level = "info",
        Message = Key(topic, partition, offset),
        Attributes = new Dictionary<string, string> { ["user"] = "4711", ["path"] = "/api/orders" },
        Lineage = new Lineage("node-1", offset),
    };

    public static string Key(string topic, int partition, long offset) => $"{topic}/{partition}/{offset}";

    public static SinkRecord Record(long offset, long systemTs, int partition = 0, string topic = Topic) =>
        new(topic, partition, offset, Event(topic, partition, offset, systemTs));

    /// <summary>Records <paramref name="from"/>..<paramref name="to"/> of one partition, all in the hour starting at <paramref name="hour"/>.</summary>
    public static List<SinkRecord> Records(long from, long to, long hour, int partition = 0, string topic = Topic) =>
        [.. Enumerable.Range(0, (int)(to - from + 1)).Select(i => Record(from + i, hour + i, partition, topic))];

    public static async Task<SinkWriteResult> WriteAllDelivered(ISink sink, IReadOnlyList<SinkRecord> batch)
    {
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(result.IsAllDelivered, string.Join(", ", result.Reasons?.Where(r => r is not null) ?? []));
        return result;
    }

    /// <summary>The final name the sink must give a file.</summary>
    public static string FinalName(int partition, long first, long last, string extension = ".ndjson", string topic = Topic) =>
        string.Create(CultureInfo.InvariantCulture, $"{topic}-p{partition:D4}-o{first:D20}-o{last:D20}{extension}");

    public static string HourDirectory(string root, long hourStart, string topic = Topic) =>
        Path.Combine(root, topic, DateTimeOffset.FromUnixTimeMilliseconds(hourStart).UtcDateTime.ToString("yyyy/MM/dd/HH", CultureInfo.InvariantCulture));

    /// <summary>Every file in the tree.</summary>
    public static string[] AllFiles(string root) =>
        Directory.GetFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 });

    /// <summary>The files a reader sees: published ones, not the dotted temporary ones.</summary>
    public static string[] PublishedFiles(string root) =>
        [.. AllFiles(root).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)];

    public static string[] TemporaryFiles(string root) =>
        [.. AllFiles(root).Where(f => Path.GetFileName(f).StartsWith('.') && f.EndsWith(".tmp", StringComparison.Ordinal))];

    /// <summary>The message of every NDJSON line in the published files: one per record written, so duplicates show.</summary>
    public static List<string> PublishedMessages(string root)
    {
        var messages = new List<string>();
        foreach (var file in PublishedFiles(root))
        {
            foreach (var line in File.ReadLines(file))
            {
                using var json = JsonDocument.Parse(line);
                messages.Add(json.RootElement.GetProperty("msg").GetString()!);
            }
        }
        return messages;
    }

    /// <summary>Asserts every record of <paramref name="expected"/> is published exactly once, and nothing else.</summary>
    public static void AssertPublishedExactly(string root, IEnumerable<SinkRecord> expected)
    {
        var want = expected.Select(r => Key(r.Topic, r.Partition, r.Offset)).Distinct().Order(StringComparer.Ordinal).ToList();
        var got = PublishedMessages(root).Order(StringComparer.Ordinal).ToList();
        var duplicates = got.GroupBy(m => m).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(duplicates.Count == 0, "duplicated: " + string.Join(", ", duplicates));
        Assert.Equal(want, got);
    }
}
