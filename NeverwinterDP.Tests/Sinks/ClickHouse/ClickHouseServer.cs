using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace NeverwinterDP.Tests.Sinks.ClickHouse;

/// <summary>The private ClickHouse server test.sh starts (scripts/services/clickhouse.sh), reached over its HTTP interface.</summary>
internal static class ClickHouseServer
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static Uri Url
    {
        get
        {
            var url = Environment.GetEnvironmentVariable("NWDP_TEST_CLICKHOUSE");
            if (string.IsNullOrWhiteSpace(url))
            {
                throw new InvalidOperationException(
                    "NWDP_TEST_CLICKHOUSE is not set: run the tests with ./test.sh, which starts a private ClickHouse server " +
                    "(scripts/services/clickhouse.sh) and exports its HTTP URL.");
            }
            return new Uri(url);
        }
    }

    /// <summary>The server's process id (the service script's pid file), for tests that freeze it.</summary>
    public static int ProcessId
    {
        get
        {
            var services = Environment.GetEnvironmentVariable("NWDP_TEST_SERVICES") ?? throw new InvalidOperationException("NWDP_TEST_SERVICES is not set: run ./test.sh");
            return int.Parse(File.ReadAllText(Path.Combine(services, "clickhouse", "server.pid")).Trim(), CultureInfo.InvariantCulture);
        }
    }

    public static string UniqueTable(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)];

    /// <summary>Runs a statement; its output as text. Throws with the server's message when it fails.</summary>
    public static async Task<string> QueryAsync(string sql)
    {
        using var response = await Http.PostAsync(Url, new StringContent(sql, Encoding.UTF8));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"ClickHouse: {sql} -> {(int)response.StatusCode} {text}");
        return text;
    }

    /// <summary>Rows of a <c>SELECT ... FORMAT JSONEachRow</c>.</summary>
    public static async Task<List<JsonElement>> RowsAsync(string select)
    {
        var text = await QueryAsync(select + " FORMAT JSONEachRow");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    /// <summary>An Int64 of JSONEachRow output: quoted by default (output_format_json_quote_64bit_integers), a number otherwise.</summary>
    public static long Int64(JsonElement e) => e.ValueKind == JsonValueKind.String ? long.Parse(e.GetString()!, CultureInfo.InvariantCulture) : e.GetInt64();

    /// <summary>A port nothing listens on: bound, then released.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
