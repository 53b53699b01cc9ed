using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Elasticsearch;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>Records, sinks and readers the Elasticsearch sink tests share.</summary>
internal static class EsTestKit
{
    public const string Topic = "nwdp.logs.web";

    /// <summary>2025-11-28T10:00:00Z.</summary>
    public static readonly long Nov28 = new DateTimeOffset(2025, 11, 28, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static ElasticsearchSink Sink(FakeElasticsearch fake, Func<ElasticsearchSinkOptions, ElasticsearchSinkOptions>? change = null) =>
        Sink([fake.Url], change);

    public static ElasticsearchSink Sink(IReadOnlyList<Uri> urls, Func<ElasticsearchSinkOptions, ElasticsearchSinkOptions>? change = null)
    {
        var options = new ElasticsearchSinkOptions { Urls = urls, RequestTimeout = TimeSpan.FromSeconds(10) };
        return new ElasticsearchSink(change is null ? options : change(options), "es-test");
    }

    public static LogEvent Event(long offset, string type = "web", long? ts = null, IReadOnlyDictionary<string, string>? attributes = null) => new()
    {
        Ts = ts ?? Nov28 + offset,
        SystemTs = (ts ?? Nov28 + offset) + 3,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = type,
        Version = "2.1.0",
        Level = "info",
        Message = $"message {offset}",
        Attributes = attributes ?? new Dictionary<string, string> { ["user"] = "4711", ["path"] = "/api/orders" },
        Lineage = new Lineage("node-1", offset),
    };

    public static List<SinkRecord> Records(long from, int count, int partition = 0, string type = "web") =>
        [.. Enumerable.Range(0, count).Select(i => new SinkRecord(Topic, partition, from + i, Event(from + i, type)))];

    public static string Id(long offset, int partition = 0, string topic = Topic) =>
        string.Create(CultureInfo.InvariantCulture, $"{topic}-{partition}-{offset}");

    /// <summary>(topic, partition, offset) from a document id <c>topic-partition-offset</c>.</summary>
    public static (string Topic, int Partition, long Offset) ParseId(string id)
    {
        var last = id.LastIndexOf('-');
        var middle = id.LastIndexOf('-', last - 1);
        return (id[..middle], int.Parse(id[(middle + 1)..last], CultureInfo.InvariantCulture), long.Parse(id[(last + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>An http URL on 127.0.0.1 where nothing listens (a port just bound and released).</summary>
    public static Uri ClosedPortUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    public static async Task<SinkWriteResult> WriteAllDelivered(ISink sink, IReadOnlyList<SinkRecord> batch)
    {
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(result.IsAllDelivered, string.Join(", ", result.Reasons?.Where(r => r is not null).Distinct() ?? []));
        return result;
    }
}
