using MySqlConnector;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// A database of its own on the test MariaDB server (started by test.sh, address in NWDP_TEST_MARIADB; its user may
/// create databases named <c>nwdpj_*</c>), dropped at the end of the test.
/// </summary>
public sealed class MariaDbDatabase : IAsyncDisposable
{
    private readonly string _server;

    private MariaDbDatabase(string server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = new MySqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<MariaDbDatabase> CreateAsync()
    {
        var server = Environment.GetEnvironmentVariable("NWDP_TEST_MARIADB") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException("NWDP_TEST_MARIADB is not set: run the tests with ./test.sh, which starts a private MariaDB server");
        var name = "nwdpj_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new MySqlConnection(server);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", connection);
        await command.ExecuteNonQueryAsync();
        return new MariaDbDatabase(server, name);
    }

    public async ValueTask DisposeAsync()
    {
        MySqlConnection.ClearAllPools();
        await using var connection = new MySqlConnection(_server);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS {Name}", connection);
        await command.ExecuteNonQueryAsync();
    }
}
