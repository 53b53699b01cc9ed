using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.HBase;

/// <summary>The fake keeps the REST server's rules the sink tests rely on (spoken to in raw HTTP, not through the sink).</summary>
public sealed class FakeHBaseRestTests : IAsyncLifetime
{
    private FakeHBaseRest _fake = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _fake = await FakeHBaseRest.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _fake.DisposeAsync();
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null)
    {
        var request = new HttpRequestMessage(method, new Uri(_fake.BaseUrl, path));
        request.Headers.Accept.ParseAdd("application/json");
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return _http.SendAsync(request);
    }

    private Task<HttpResponseMessage> PutCellAsync(string row, long ts, string value, int size = 0) =>
        SendAsync(HttpMethod.Put, "t/fakerow", $$"""{"Row":[{"key":"{{B64(row)}}","Cell":[{"column":"{{B64("f:q")}}","timestamp":{{ts}},"$":"{{B64(size > 0 ? new string('v', size) : value)}}"}]}]}""");

    [Fact]
    public async Task Versions_are_kept_by_timestamp_and_a_put_of_the_same_timestamp_replaces_its_version()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "t/schema")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PutCellAsync("r1", 1, "a")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Put, "t/schema", """{"name":"t","ColumnSchema":[{"name":"f","VERSIONS":"3"}]}""")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await PutCellAsync("r1", 1, "a")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PutCellAsync("r1", 2, "b")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PutCellAsync("r1", 2, "c")).StatusCode);

        var response = await SendAsync(HttpMethod.Get, "t/r1?v=3");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var cells = doc.RootElement.GetProperty("Row")[0].GetProperty("Cell").EnumerateArray()
            .Select(c => (c.GetProperty("timestamp").GetInt64(), Encoding.UTF8.GetString(c.GetProperty("$").GetBytesFromBase64()))).ToList();
        Assert.Equal([(2L, "c"), (1L, "a")], cells);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "t/r2")).StatusCode);
    }

    [Fact]
    public async Task A_request_with_one_cell_over_the_limit_is_400_and_writes_nothing()
    {
        _fake.CreateTable("t", 1, "f");
        _fake.MaxCellSize = 100;
        var body = $$"""{"Row":[{"key":"{{B64("ok")}}","Cell":[{"column":"{{B64("f:q")}}","$":"{{B64("small")}}"}]},{"key":"{{B64("big")}}","Cell":[{"column":"{{B64("f:q")}}","$":"{{B64(new string('x', 200))}}"}]}]}""";

        var response = await SendAsync(HttpMethod.Put, "t/fakerow", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("KeyValue size too large", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_fake.ReadRows("t"));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Put, "t/fakerow", body.Replace(B64("f:q"), B64("g:q"), StringComparison.Ordinal))).StatusCode);
    }
}
