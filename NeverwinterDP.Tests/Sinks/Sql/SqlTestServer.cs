using System.Data.Common;
using MySqlConnector;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Sql;
using NeverwinterDP.Protocol;
using Npgsql;
using NeverwinterDP.Tests.Sinks.Compliance;

namespace NeverwinterDP.Tests.Sinks.Sql;

/// <summary>
/// One of the servers test.sh starts (scripts/services/postgresql.sh, mariadb.sh), reached with plain ADO.NET
/// so the tests read back independently of the sinks' code. Each test uses its own table, dropped afterwards.
/// </summary>
public abstract class SqlTestServer
{
    public static SqlTestServer PostgreSql { get; } = new PostgreSqlTestServer();

    public static SqlTestServer MariaDb { get; } = new MariaDbTestServer();

    protected abstract string EnvironmentVariable { get; }

    /// <summary>The server's connection string, or a failure that says how to get one.</summary>
    public string ConnectionString =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException($"{EnvironmentVariable} is not set: run the tests with ./test.sh, which starts a private server (scripts/services/) and sets it.");

    /// <summary>A connection string naming a socket nobody listens on.</summary>
    public abstract string UnreachableConnectionString { get; }

    public abstract SqlSink CreateSink(SqlSinkOptions options, string name);

    public abstract DbConnection Connect(string? connectionString = null);

    /// <summary>The same connection string with the unix socket at <paramref name="socketDirectory"/> (see <see cref="ProxySocketPath"/>).</summary>
    public abstract string WithSocketDirectory(string socketDirectory);

    /// <summary>Where the server's unix socket is (the proxy's target).</summary>
    public abstract string ServerSocketPath { get; }

    /// <summary>The socket file a client of <see cref="WithSocketDirectory"/> connects to.</summary>
    public abstract string ProxySocketPath(string socketDirectory);

    /// <summary>Ends every other session of the test user on the server (the sink's connection among them).</summary>
    public abstract Task KillOtherSessionsAsync();

    /// <summary>An event this server refuses.</summary>
    public abstract LogEvent Rejectable(LogEvent e);

    public abstract string Quote(string identifier);

    public static string NewTableName() => "t_" + Guid.NewGuid().ToString("N")[..16];

    public async Task<IReadOnlyList<StoredRecord>> ReadAsync(string table)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var select = connection.CreateCommand();
        select.CommandText = $"SELECT topic, {Quote("partition")}, {Quote("offset")}, message FROM {Quote(table)}";
        var stored = new List<StoredRecord>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync()) stored.Add(new StoredRecord(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetString(3)));
        return stored;
    }

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public Task DropAsync(string table) => ScalarAsync($"DROP TABLE IF EXISTS {Quote(table)}");

    public async Task<bool> TableExistsAsync(string table) =>
        Convert.ToInt64(await ScalarAsync($"SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '{table}'"), System.Globalization.CultureInfo.InvariantCulture) == 1;

    private sealed class PostgreSqlTestServer : SqlTestServer
    {
        protected override string EnvironmentVariable => "NWDP_TEST_POSTGRES";

        public override string UnreachableConnectionString => "Host=/nonexistent/nwdp-test;Username=nwdp;Database=nwdp_test;Timeout=3";

        public override SqlSink CreateSink(SqlSinkOptions options, string name) => new PostgreSqlSink(options, name);

        public override DbConnection Connect(string? connectionString = null) => new NpgsqlConnection(connectionString ?? ConnectionString);

        public override string WithSocketDirectory(string socketDirectory) =>
            new NpgsqlConnectionStringBuilder(ConnectionString) { Host = socketDirectory, Pooling = false }.ConnectionString;

        public override string ServerSocketPath
        {
            get
            {
                var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
                return Path.Combine(builder.Host!, $".s.PGSQL.{builder.Port}");
            }
        }

        public override string ProxySocketPath(string socketDirectory) =>
            Path.Combine(socketDirectory, $".s.PGSQL.{new NpgsqlConnectionStringBuilder(ConnectionString).Port}");

        public override Task KillOtherSessionsAsync() =>
            ScalarAsync("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");

        // PostgreSQL text cannot hold NUL (SQLSTATE 22021).
        public override LogEvent Rejectable(LogEvent e) => e with { Message = "before\0after" };

        public override string Quote(string identifier) => PostgreSqlDialect.Instance.Quote(identifier);
    }

    private sealed class MariaDbTestServer : SqlTestServer
    {
        protected override string EnvironmentVariable => "NWDP_TEST_MARIADB";

        public override string UnreachableConnectionString => "Server=/nonexistent/nwdp-test.sock;Protocol=Unix;User ID=nwdp;Database=nwdp_test;Connection Timeout=3";

        public override SqlSink CreateSink(SqlSinkOptions options, string name) => new MySqlSink(options, name);

        public override DbConnection Connect(string? connectionString = null) => new MySqlConnection(connectionString ?? ConnectionString);

        public override string WithSocketDirectory(string socketDirectory) =>
            new MySqlConnectionStringBuilder(ConnectionString) { Server = ProxySocketPath(socketDirectory), Pooling = false }.ConnectionString;

        public override string ServerSocketPath => new MySqlConnectionStringBuilder(ConnectionString).Server;

        public override string ProxySocketPath(string socketDirectory) => Path.Combine(socketDirectory, "mariadb.sock");

        public override async Task KillOtherSessionsAsync()
        {
            await using var connection = Connect();
            await connection.OpenAsync();
            var ids = new List<long>();
            await using (var list = connection.CreateCommand())
            {
                list.CommandText = "SELECT id FROM information_schema.processlist WHERE user = SUBSTRING_INDEX(USER(), '@', 1)";
                await using var reader = await list.ExecuteReaderAsync();
                while (await reader.ReadAsync()) ids.Add(Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
            }
            var own = Convert.ToInt64(await new MySqlCommand("SELECT CONNECTION_ID()", (MySqlConnection)connection).ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
            foreach (var id in ids.Where(id => id != own))
            {
                await using var kill = connection.CreateCommand();
                kill.CommandText = $"KILL CONNECTION {id}";
                try
                {
                    await kill.ExecuteNonQueryAsync();
                }
                catch (MySqlException e) when (e.Number == 1094)
                {
                    // Unknown thread id: it ended by itself meanwhile.
                }
            }
        }

        // VARCHAR(255): a longer host is refused in strict mode (1406 data too long).
        public override LogEvent Rejectable(LogEvent e) => e with { Host = new string('h', 300) };

        public override string Quote(string identifier) => MySqlDialect.Instance.Quote(identifier);
    }
}
