using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Actors.Sinks.Elasticsearch;
using NeverwinterDP.Actors.Sinks.Framework;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

public class ElasticsearchSinkOptionsTests
{
    private static ElasticsearchSinkOptions Read(string hocon) => ElasticsearchSinkOptions.FromSection(SinkSection.Parse("es", hocon));

    private static void AssertRefused(string hocon, string key, string words)
    {
        var e = Assert.Throws<SinkConfigException>(() => Read(hocon));
        Assert.Equal($"nwdp.sinks.es.{key}", e.Key);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void Defaults_need_only_urls()
    {
        var o = Read("""urls = "http://es-1:9200" """);
        Assert.Equal([new Uri("http://es-1:9200")], o.Urls);
        Assert.Equal("logs-{type}-{yyyy.MM.dd}", o.Index.Text);
        Assert.Equal(TimeSpan.FromSeconds(30), o.RequestTimeout);
        Assert.Equal(5L * 1024 * 1024, o.MaxBulkBytes);
        Assert.True(o.Compression);
        Assert.Null(o.Username);
        Assert.Null(o.ApiKey);
    }

    [Fact]
    public void Every_key_is_read()
    {
        var o = Read("""
            urls = ["https://es-1:9200", "https://es-2:9200"]
            index = "app-{type}-{yyyy.MM}"
            username = nwdp
            password = "s3cret"
            request-timeout = 5s
            max-bulk-bytes = 2 MiB
            compression = off
            """);
        Assert.Equal([new Uri("https://es-1:9200"), new Uri("https://es-2:9200")], o.Urls);
        Assert.Equal("app-web-2025.11", o.Index.Render("web", new DateTime(2025, 11, 28, 0, 0, 0, DateTimeKind.Utc)));
        Assert.Equal(("nwdp", "s3cret"), (o.Username, o.Password));
        Assert.Equal(TimeSpan.FromSeconds(5), o.RequestTimeout);
        Assert.Equal(2L * 1024 * 1024, o.MaxBulkBytes);
        Assert.False(o.Compression);
        Assert.Equal("abc==", Read("urls = \"http://a:9200, http://b:9200\"\napi-key = \"abc==\"").ApiKey);
        Assert.Equal(2, Read("urls = \"http://a:9200, http://b:9200\"").Urls.Count);
    }

    [Fact]
    public void Bad_values_are_refused_naming_the_key()
    {
        AssertRefused("index = x", "urls", "required");
        AssertRefused("urls = []", "urls", "required");
        AssertRefused("urls = [\"ftp://es:21\"]", "urls", "http(s)");
        AssertRefused("urls = [\"es-1:9200\"]", "urls", "http(s)");
        AssertRefused("urls = [\"http://es:9200/prefix\"]", "urls", "without a path");
        AssertRefused("urls = [\"http://elastic:pw@es:9200\"]", "urls", "credentials");
        AssertRefused("urls = \"http://es:9200\"\nindex = \"logs-{host}\"", "index", "unknown placeholder {host}");
        AssertRefused("urls = \"http://es:9200\"\nindex = \"logs-{type\"", "index", "without");
        AssertRefused("urls = \"http://es:9200\"\nindex = \"logs*{type}\"", "index", "'*' is not allowed");
        AssertRefused("urls = \"http://es:9200\"\nindex = \"_logs-{type}\"", "index", "must not start");
        AssertRefused("urls = \"http://es:9200\"\nusername = u", "password", "required when username");
        AssertRefused("urls = \"http://es:9200\"\npassword = p", "username", "required when password");
        AssertRefused("urls = \"http://es:9200\"\nusername = u\npassword = p\napi-key = k", "api-key", "not both");
        AssertRefused("urls = \"http://es:9200\"\nrequest-timeout = soon", "request-timeout", "duration");
        AssertRefused("urls = \"http://es:9200\"\nmax-bulk-bytes = lots", "max-bulk-bytes", "size");
        AssertRefused("urls = \"http://es:9200\"\nmax-bulk-bytes = 0", "max-bulk-bytes", "positive");
        AssertRefused("urls = \"http://es:9200\"\ncompression = maybe", "compression", "on or off");
    }

    [Theory]
    [InlineData("logs-{type}-{yyyy.MM.dd}", "Web App", "logs-web_app-2025.11.28")]
    [InlineData("logs-{type}-{yyyy.MM.dd}", "a\\b/c*d?e\"f<g>h|i,j#k:l", "logs-a_b_c_d_e_f_g_h_i_j_k_l-2025.11.28")]
    [InlineData("{type}-{yyyy}", "_-+hidden", "hidden-2025")]
    [InlineData("{type}", "Über", "über")]
    [InlineData("Logs.{type}.{yyyyMMddHH}", "x", "logs.x.2025112803")]
    public void Index_names_follow_the_rules_of_Elasticsearch(string template, string type, string expected) =>
        Assert.Equal(expected, IndexNameTemplate.Parse(template).Render(type, new DateTime(2025, 11, 28, 3, 20, 0, DateTimeKind.Utc)));

    [Fact]
    public void A_long_type_is_cut_to_255_bytes()
    {
        // 'ä' is two bytes in UTF-8: "logs-" + 125 of them is exactly 255; after "log-" the cut falls between characters.
        Assert.Equal(255, System.Text.Encoding.UTF8.GetByteCount(IndexNameTemplate.Parse("logs-{type}").Render(new string('ä', 300), DateTime.UnixEpoch)));
        var odd = IndexNameTemplate.Parse("log-{type}").Render(new string('ä', 300), DateTime.UnixEpoch);
        Assert.Equal(254, System.Text.Encoding.UTF8.GetByteCount(odd));
        Assert.EndsWith("ä", odd);
    }
}

public class ElasticsearchSinkRegistrationTests
{
    [Fact]
    public async Task The_host_builds_an_elasticsearch_instance_from_its_section()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddSinkKinds();
        var kinds = services.Select(d => d.ImplementationInstance).OfType<SinkKind>();
        var sinks = Akka.Configuration.ConfigurationFactory.ParseString("""
            es-main { kind = elasticsearch, urls = ["http://es-1:9200"], index = "app-{type}-{yyyy.MM.dd}" }
            """);

        var built = SinkKind.CreateAll(kinds, sinks, Path.GetTempPath());

        var (section, sink) = Assert.Single(built);
        Assert.Equal("es-main", section.Name);
        Assert.IsType<ElasticsearchSink>(sink);
        Assert.Equal("es-main", sink.Name);
        await sink.DisposeAsync();
        var bad = Akka.Configuration.ConfigurationFactory.ParseString("es-main { kind = elasticsearch }");
        Assert.Equal("nwdp.sinks.es-main.urls", Assert.Throws<SinkConfigException>(() => SinkKind.CreateAll(kinds, bad, Path.GetTempPath())).Key);
    }
}
