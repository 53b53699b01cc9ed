using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Hdfs;

/// <summary>The fake keeps the documented WebHDFS behaviour the sink relies on (spoken to with a bare HttpClient).</summary>
public sealed class FakeWebHdfsTests : IAsyncLifetime
{
    private FakeWebHdfs _fake = null!;
    private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false });

    public async Task InitializeAsync() => _fake = await FakeWebHdfs.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _fake.DisposeAsync();
    }

    private Uri Namenode(string pathAndQuery) => new(_fake.NamenodeUrls[0], "/webhdfs/v1" + pathAndQuery);

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    [Fact]
    public async Task CREATE_at_the_namenode_redirects_to_the_datanode_and_drops_a_body_sent_there()
    {
        using var first = await _http.PutAsync(Namenode("/a/b.txt?op=CREATE&user.name=me"), new ByteArrayContent(Encoding.UTF8.GetBytes("lost")));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, first.StatusCode);
        var location = first.Headers.Location!;
        Assert.Equal(_fake.DatanodeUrl.Authority, location.Authority);
        Assert.Contains("namenoderpcaddress=", location.Query, StringComparison.Ordinal);
        Assert.False(_fake.Exists("/a/b.txt"), "the namenode step creates nothing");
        Assert.Equal(4, _fake.BytesSentToNamenode);

        using var second = await _http.PutAsync(location, new ByteArrayContent(Encoding.UTF8.GetBytes("kept")));
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal("kept", Encoding.UTF8.GetString(_fake.Files("/a").Single().Content));
        Assert.Equal("me", _fake.Requests.Last().User);
    }

    [Fact]
    public async Task CREATE_with_noredirect_answers_the_Location_as_JSON()
    {
        using var response = await _http.PutAsync(Namenode("/x?op=CREATE&noredirect=true"), null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(_fake.DatanodeUrl.GetLeftPart(UriPartial.Authority), (await Json(response)).GetProperty("Location").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CREATE_without_overwrite_of_an_existing_file_is_a_FileAlreadyExistsException()
    {
        _fake.PutFile("/f", [1]);
        using var redirect = await _http.PutAsync(Namenode("/f?op=CREATE&overwrite=false"), null);
        using var response = await _http.PutAsync(redirect.Headers.Location, new ByteArrayContent([2]));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var remote = (await Json(response)).GetProperty("RemoteException");
        Assert.Equal("FileAlreadyExistsException", remote.GetProperty("exception").GetString());
        Assert.Equal("org.apache.hadoop.fs.FileAlreadyExistsException", remote.GetProperty("javaClassName").GetString());
        Assert.Equal([1], _fake.Files("/").Single().Content);
    }

    [Fact]
    public async Task RENAME_answers_false_when_the_destination_exists_and_true_when_it_moved()
    {
        _fake.PutFile("/d/a", [1]);
        _fake.PutFile("/d/b", [2]);

        using var refused = await _http.PutAsync(Namenode("/d/a?op=RENAME&destination=/d/b"), null);
        Assert.False((await Json(refused)).GetProperty("boolean").GetBoolean());
        using var moved = await _http.PutAsync(Namenode("/d/a?op=RENAME&destination=/d/c"), null);
        Assert.True((await Json(moved)).GetProperty("boolean").GetBoolean());
        Assert.Equal(["/d/b", "/d/c"], _fake.Files("/d").Select(f => f.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Missing_paths_are_404_FileNotFoundException_and_a_standby_answers_403_StandbyException()
    {
        using var missing = await _http.GetAsync(Namenode("/nope?op=LISTSTATUS"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("java.io.FileNotFoundException", (await Json(missing)).GetProperty("RemoteException").GetProperty("javaClassName").GetString());

        _fake.ActiveNamenode = 1;
        using var standby = await _http.GetAsync(Namenode("/?op=GETFILESTATUS"));
        Assert.Equal(HttpStatusCode.Forbidden, standby.StatusCode);
        Assert.Equal("org.apache.hadoop.ipc.StandbyException", (await Json(standby)).GetProperty("RemoteException").GetProperty("javaClassName").GetString());
    }

    [Fact]
    public async Task Safe_mode_refuses_changes_and_serves_reads()
    {
        _fake.SafeMode = true;
        using var mkdirs = await _http.PutAsync(Namenode("/m?op=MKDIRS"), null);
        Assert.Equal(HttpStatusCode.Forbidden, mkdirs.StatusCode);
        Assert.Equal("SafeModeException", (await Json(mkdirs)).GetProperty("RemoteException").GetProperty("exception").GetString());
        using var read = await _http.GetAsync(Namenode("/?op=LISTSTATUS"));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }
}
