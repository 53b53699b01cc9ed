using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Sql;
using NeverwinterDP.Protocol;
using NeverwinterDP.Actors.Sinks.Catalog;
using NeverwinterDP.Tests.Sinks.Compliance;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Sql;

/// <summary>The compliance suite against a real server; each test writes its own table, dropped afterwards.</summary>
public abstract class SqlSinkComplianceTests(SqlTestServer server) : SinkComplianceSuite
{
    private readonly string _table = SqlTestServer.NewTableName();

    protected override Task PrepareStoreAsync() => server.DropAsync(_table);

    protected override Task CleanUpStoreAsync() => server.DropAsync(_table);

    protected override ISink CreateSink() => server.CreateSink(new SqlSinkOptions { ConnectionString = server.ConnectionString, Table = _table }, "sql-compliance");

    protected override ISink CreateUnreachableSink() =>
        server.CreateSink(new SqlSinkOptions { ConnectionString = server.UnreachableConnectionString, Table = _table }, "sql-unreachable");

    protected override Task<IReadOnlyList<StoredRecord>> ReadStoredAsync() => server.ReadAsync(_table);

    // The server ends the sink's session (pg_terminate_backend / KILL CONNECTION): its next statement fails.
    protected override Task FailNextWriteAsync() => server.KillOtherSessionsAsync();

    protected override LogEvent RejectableEvent(long offset) => server.Rejectable(Event(offset));
}

[SinkKind("postgresql")]
[Trait("Category", TestCategories.Integration)]
public sealed class PostgreSqlSinkComplianceTests() : SqlSinkComplianceTests(SqlTestServer.PostgreSql);

[SinkKind("mariadb", "mysql")]
[Trait("Category", TestCategories.Integration)]
public sealed class MariaDbSinkComplianceTests() : SqlSinkComplianceTests(SqlTestServer.MariaDb);
