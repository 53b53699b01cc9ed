using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Avro.File;
using Avro.Generic;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Hdfs;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.Sinks.Files;

namespace NeverwinterDP.Tests.Sinks.Hdfs;

/// <summary>A clock the test moves.</summary>
internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>One record of a published file, read back with Apache.Avro's reader.</summary>
internal sealed record HdfsStored(string Path, string Topic, int Partition, string Message, long SystemTs, GenericRecord Record);

/// <summary>Sinks, records and readers the HDFS sink tests share.</summary>
internal static partial class HdfsSinkTestKit
{
    // The records are the files sink tests' (same layout, same names).
    public const string Topic = FilesSinkTestKit.Topic;

    public static readonly long TenOClock = FilesSinkTestKit.TenOClock;

    public static readonly long ElevenOClock = FilesSinkTestKit.ElevenOClock;

    public static string NewRoot() => "/nwdp/test-" + Guid.NewGuid().ToString("N")[..8];

    public static HdfsSinkOptions Options(FakeWebHdfs fake, string root, long rollSize = HdfsSinkOptions.DefaultRollSize) => new()
    {
        NamenodeUrls = fake.NamenodeUrls,
        Root = root,
        User = "nwdp",
        RollSize = rollSize,
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>A sink whose clock stands at the start of 2024-03-05 10:00 (so no hour closes by age unless a test moves it).</summary>
    public static HdfsSink Sink(FakeWebHdfs fake, string root, long rollSize = HdfsSinkOptions.DefaultRollSize, TimeProvider? time = null) =>
        new(Options(fake, root, rollSize), "hdfs", time ?? new ManualTime(DateTimeOffset.FromUnixTimeMilliseconds(TenOClock)));

    public static async Task<HdfsSink> OpenAsync(HdfsSink sink)
    {
        await sink.OpenAsync(CancellationToken.None);
        return sink;
    }

    public static LogEvent Event(string topic, int partition, long offset, long systemTs) => FilesSinkTestKit.Event(topic, partition, offset, systemTs);

    public static string Key(string topic, int partition, long offset) => FilesSinkTestKit.Key(topic, partition, offset);

    public static SinkRecord Record(long offset, long systemTs, int partition = 0, string topic = Topic) =>
        FilesSinkTestKit.Record(offset, systemTs, partition, topic);

    public static List<SinkRecord> Records(long from, long to, long hour, int partition = 0, string topic = Topic) =>
        FilesSinkTestKit.Records(from, to, hour, partition, topic);

    public static Task WriteAllDelivered(ISink sink, IReadOnlyList<SinkRecord> batch) => FilesSinkTestKit.WriteAllDelivered(sink, batch);

    public static string FinalName(int partition, long first, long last, string topic = Topic) =>
        FilesSinkTestKit.FinalName(partition, first, last, ".avro", topic);

    public static string HourDirectory(string root, long hourStart, string topic = Topic) =>
        $"{root}/{topic}/{DateTimeOffset.FromUnixTimeMilliseconds(hourStart).UtcDateTime.ToString("yyyy'/'MM'/'dd'/'HH", CultureInfo.InvariantCulture)}";

    private static string NameOf(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>What a reader sees: files whose names start with neither '.' nor '_'.</summary>
    public static List<(string Path, byte[] Content)> Published(FakeWebHdfs fake, string root) =>
        [.. fake.Files(root).Where(f => NameOf(f.Path) is var n && !n.StartsWith('.') && !n.StartsWith('_')).OrderBy(f => f.Path, StringComparer.Ordinal)];

    public static List<string> Hidden(FakeWebHdfs fake, string root) =>
        [.. fake.Files(root).Select(f => f.Path).Where(p => NameOf(p).StartsWith('.'))];

    public static List<string> PublishedPaths(FakeWebHdfs fake, string root) => [.. Published(fake, root).Select(f => f.Path)];

    [GeneratedRegex(@"^(?<topic>[a-zA-Z0-9._-]+)-p(?<p>\d{4})-o\d{20}-o\d{20}\.(avro|parquet)$")]
    private static partial Regex PublishedName();

    /// <summary>Every record of every published file, decoded by Apache.Avro's DataFileReader; topic and partition from the path.</summary>
    public static List<HdfsStored> ReadAll(FakeWebHdfs fake, string root)
    {
        var stored = new List<HdfsStored>();
        foreach (var (path, content) in Published(fake, root))
        {
            var match = PublishedName().Match(NameOf(path));
            Assert.True(match.Success, $"unexpected published file {path}");
            var topic = path[(root.Length + 1)..].Split('/')[0];
            Assert.Equal(topic, match.Groups["topic"].Value);
            using var reader = DataFileReader<GenericRecord>.OpenReader(new MemoryStream(content));
            while (reader.HasNext())
            {
                var record = reader.Next();
                stored.Add(new HdfsStored(path, topic, int.Parse(match.Groups["p"].Value, CultureInfo.InvariantCulture),
                    (string)record["message"], (long)record["system_ts"], record));
            }
        }
        return stored;
    }

    /// <summary>Asserts every record of <paramref name="expected"/> is published exactly once, and nothing else.</summary>
    public static void AssertPublishedExactly(FakeWebHdfs fake, string root, IEnumerable<SinkRecord> expected)
    {
        var want = expected.Select(r => Key(r.Topic, r.Partition, r.Offset)).Distinct().Order(StringComparer.Ordinal).ToList();
        var got = ReadAll(fake, root).Select(s => s.Message).Order(StringComparer.Ordinal).ToList();
        var duplicates = got.GroupBy(m => m).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(duplicates.Count == 0, "duplicated: " + string.Join(", ", duplicates));
        Assert.Equal(want, got);
    }

    /// <summary>An http URL on 127.0.0.1 where nothing listens (a port just released).</summary>
    public static Uri ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }
}
