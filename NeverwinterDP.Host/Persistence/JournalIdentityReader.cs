using System.Data.Common;
using Microsoft.Data.Sqlite;
using MySqlConnector;
using NeverwinterDP.Actors.Journal;
using NeverwinterDP.Host.Configuration;
using Npgsql;

namespace NeverwinterDP.Host.Persistence;

/// <summary>
/// Reads which database a node's journal is (<see cref="JournalIdentity"/>): a random id kept in the table
/// <c>nwdp_journal_identity</c> of that database, written by the first node that opens it. Comparing these ids, not
/// connection strings, tells "the same database" exactly: one SQLite file opened by two nodes of one machine under
/// any path, or one PostgreSQL database reached by two host names, is one journal; two files are two.
/// </summary>
public static class JournalIdentityReader
{
    public const string Table = "nwdp_journal_identity";

    public static async Task<JournalIdentity> ReadAsync(PersistenceOptions options, CancellationToken cancellation)
    {
        await using var connection = Open(options);
        await connection.OpenAsync(cancellation).ConfigureAwait(false);
        await ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {Table} (k INTEGER NOT NULL PRIMARY KEY, id VARCHAR(64) NOT NULL)", null, cancellation).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, $"INSERT INTO {Table} (k, id) VALUES (1, @id)", Guid.NewGuid().ToString("N"), cancellation).ConfigureAwait(false);
        }
        catch (DbException)
        {
            // Another node (or an earlier start) wrote it first: that one is the journal's id.
        }
        await using var read = connection.CreateCommand();
        read.CommandText = $"SELECT id FROM {Table} WHERE k = 1";
        var id = (string?)await read.ExecuteScalarAsync(cancellation).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{Table} has no row after it was written");
        return new JournalIdentity(id, Location(options));
    }

    /// <summary>Where the journal is, for the log: the SQLite file's absolute path and this host, or the server and database.</summary>
    public static string Location(PersistenceOptions options)
    {
        switch (options.Provider)
        {
            case "sqlite":
                var source = new SqliteConnectionStringBuilder(options.ConnectionString).DataSource;
                var file = string.IsNullOrEmpty(source) || source == ":memory:" ? "in memory" : Path.GetFullPath(source);
                return $"sqlite file {file} on {Environment.MachineName}";
            case "postgresql":
                var pg = new NpgsqlConnectionStringBuilder(options.ConnectionString);
                return $"postgresql database {pg.Database} on {pg.Host}:{pg.Port}";
            default:
                var my = new MySqlConnectionStringBuilder(options.ConnectionString);
                return $"mysql database {my.Database} on {my.Server}:{my.Port}";
        }
    }

    private static DbConnection Open(PersistenceOptions options) => options.Provider switch
    {
        "postgresql" => new NpgsqlConnection(options.ConnectionString),
        "mysql" => new MySqlConnection(options.ConnectionString),
        _ => new SqliteConnection(options.ConnectionString),
    };

    private static async Task ExecuteAsync(DbConnection connection, string sql, string? id, CancellationToken cancellation)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (id is not null)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@id";
            parameter.Value = id;
            command.Parameters.Add(parameter);
        }
        await command.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
    }
}
