using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.Sql;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Sql;

public class SqlSinkOptionsTests
{
    [Fact]
    public void Options_are_read_from_the_sink_section()
    {
        var options = SqlSinkOptions.FromSection(SinkSection.Parse("pg", """
            kind = postgresql
            connection-string = "Host=db;Username=nwdp"
            table = logs.events
            create-table = off
            command-timeout = 5s
            max-rows-per-statement = 250
            """));

        Assert.Equal(new SqlSinkOptions
        {
            ConnectionString = "Host=db;Username=nwdp",
            Table = "logs.events",
            CreateTable = false,
            CommandTimeout = TimeSpan.FromSeconds(5),
            MaxRowsPerStatement = 250,
        }, options);
        Assert.Equal(["logs", "events"], options.TableParts);
    }

    [Fact]
    public void Keys_left_out_keep_their_defaults()
    {
        var options = SqlSinkOptions.FromSection(SinkSection.Parse("pg", "connection-string = \"Host=db\""));

        Assert.Equal("nwdp_logs", options.Table);
        Assert.True(options.CreateTable);
        Assert.Equal(TimeSpan.FromSeconds(30), options.CommandTimeout);
        Assert.Equal(30, options.CommandTimeoutSeconds);
        Assert.Equal(1000, options.MaxRowsPerStatement);
    }

    [Theory]
    [InlineData("table = \"x\"", "connection-string")]
    [InlineData("connection-string = \"\"", "connection-string")]
    [InlineData("connection-string = x\ntable = \"logs; DROP TABLE users\"", "table")]
    [InlineData("connection-string = x\ntable = \"a.b.c\"", "table")]
    [InlineData("connection-string = x\ncreate-table = maybe", "create-table")]
    [InlineData("connection-string = x\ncommand-timeout = soon", "command-timeout")]
    [InlineData("connection-string = x\ncommand-timeout = 0s", "command-timeout")]
    [InlineData("connection-string = x\nmax-rows-per-statement = 0", "max-rows-per-statement")]
    [InlineData("connection-string = x\nmax-rows-per-statement = many", "max-rows-per-statement")]
    public void A_bad_value_fails_naming_the_key(string hocon, string key)
    {
        var e = Assert.Throws<SinkConfigException>(() => SqlSinkOptions.FromSection(SinkSection.Parse("pg", hocon)));

        Assert.Equal($"nwdp.sinks.pg.{key}", e.Key);
        Assert.StartsWith($"nwdp.sinks.pg.{key}:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_connection_string_the_client_cannot_read_fails_at_construction_naming_the_key()
    {
        var options = new SqlSinkOptions { ConnectionString = "Host=db;NoSuchKeyword=1" };

        var pg = Assert.Throws<ArgumentException>(() => new PostgreSqlSink(options, "pg"));
        var my = Assert.Throws<ArgumentException>(() => new MySqlSink(options, "my"));

        Assert.StartsWith("nwdp.sinks.pg.connection-string: ", pg.Message, StringComparison.Ordinal);
        Assert.StartsWith("nwdp.sinks.my.connection-string: ", my.Message, StringComparison.Ordinal);
    }
}
