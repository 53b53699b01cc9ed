using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NeverwinterDP.Actors.Sinks.HBase;
using NeverwinterDP.Tests.Sinks.Compliance;

namespace NeverwinterDP.Tests.Sinks.HBase;

/// <summary>Shared pieces of the HBase sink tests.</summary>
internal static class HBaseTestKit
{
    /// <summary>Options for a sink writing to <paramref name="table"/> on <paramref name="fake"/>.</summary>
    public static HBaseSinkOptions Options(FakeHBaseRest fake, string table) => new() { Url = fake.BaseUrl, Table = table };

    /// <summary>http://127.0.0.1:PORT of a port that was just free and is closed now: connections are refused.</summary>
    public static Uri ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>A stored row as the compliance suite compares it, from the cells the sink documents (family <c>e</c>).</summary>
    public static StoredRecord Decode(FakeHBaseRow row, string family = "e") => new(
        row.Latest(family + ":topic") ?? throw new InvalidOperationException($"row {row.KeyText} has no {family}:topic"),
        int.Parse(row.Latest(family + ":partition")!, CultureInfo.InvariantCulture),
        long.Parse(row.Latest(family + ":offset")!, CultureInfo.InvariantCulture),
        row.Latest(family + ":msg")!);
}
