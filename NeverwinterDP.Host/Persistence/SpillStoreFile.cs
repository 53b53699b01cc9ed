using Akka.Configuration;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Query;
using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Persistence;

/// <summary>
/// The node's spill store: a SQLite file in its data directory, on its own disk and independent of the cluster's
/// journal (a shared database may be down when the bus is). <c>&lt;data&gt;/nwdp-state.db</c> when that is the
/// node's journal (one node on its own file: one file, as before), else <c>&lt;data&gt;/nwdp-spill.db</c> with its
/// own journal and query plugins. Each store has a random id (table <c>nwdp_spill_store</c>) that the headers of its
/// replayed records name, and that moves with its batches (<c>nwdp spill export</c> / <c>import</c>).
/// </summary>
public static class SpillStoreFile
{
    public const string OwnFile = "nwdp-spill.db";
    public const string StateFile = "nwdp-state.db";
    public const string JournalPlugin = "akka.persistence.journal.nwdp-spill";
    public const string QueryPlugin = "akka.persistence.query.journal.nwdp-spill";

    /// <summary>Held by a running node (an exclusive lock on this file in the data directory): export and import refuse while it is.</summary>
    public const string LockFile = "spill.lock";

    /// <summary>The store's file and whether it is the node's journal too.</summary>
    public static (string Path, bool IsNodeJournal) Locate(NodeConfig config)
    {
        var own = Path.GetFullPath(Path.Combine(config.DataDir, OwnFile));
        var state = Path.GetFullPath(Path.Combine(config.DataDir, StateFile));
        if (!File.Exists(own) && config.Persistence.Provider == "sqlite"
            && Path.GetFullPath(new SqliteConnectionStringBuilder(config.Persistence.ConnectionString).DataSource) == state)
            return (state, true);
        return (own, false);
    }

    /// <summary>The spill store of a data directory as the CLI finds it (the node's rule, from the files there), or null.</summary>
    public static string? Find(string dataDir)
    {
        var own = Path.Combine(dataDir, OwnFile);
        if (File.Exists(own)) return Path.GetFullPath(own);
        var state = Path.Combine(dataDir, StateFile);
        return File.Exists(state) ? Path.GetFullPath(state) : null;
    }

    /// <summary>Opens (creates) the node's store: its id, its spillover persistence ids, the plugins that use it.</summary>
    public static SpillStoreInfo Open(NodeConfig config)
    {
        var (path, isNodeJournal) = Locate(config);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = Connect(path);
        if (!isNodeJournal) Execute(connection, "PRAGMA journal_mode=WAL"); // the node's journal is put in WAL by StateStoreCheck
        var id = EnsureId(connection);
        var ids = PersistenceIds(connection);
        return isNodeJournal
            ? new SpillStoreInfo(path, id, null, SqlReadJournal.Identifier, null, ids)
            : new SpillStoreInfo(path, id, JournalPlugin, QueryPlugin, Plugins(path), ids);
    }

    public static SqliteConnection Connect(string path, bool readOnly = false)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path, Pooling = false, Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
        }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 10000");
        return connection;
    }

    /// <summary>The store's id (written the first time a store is opened).</summary>
    public static string EnsureId(SqliteConnection connection)
    {
        Execute(connection, "CREATE TABLE IF NOT EXISTS nwdp_spill_store (id TEXT NOT NULL)");
        if (ReadId(connection) is { } id) return id;
        var fresh = Guid.NewGuid().ToString("N");
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO nwdp_spill_store (id) VALUES ($id)";
        insert.Parameters.AddWithValue("$id", fresh);
        insert.ExecuteNonQuery();
        return fresh;
    }

    public static string? ReadId(SqliteConnection connection)
    {
        if (!TableExists(connection, "nwdp_spill_store")) return null;
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT id FROM nwdp_spill_store LIMIT 1";
        return query.ExecuteScalar() as string;
    }

    /// <summary>Every spillover persistence id with rows in the store (replayed ones keep their last row: the journal's highest sequence number).</summary>
    public static IReadOnlyList<string> PersistenceIds(SqliteConnection connection)
    {
        if (!TableExists(connection, "journal")) return [];
        using var query = connection.CreateCommand();
        query.CommandText = $"SELECT DISTINCT persistence_id FROM journal WHERE substr(persistence_id, 1, {SpilloverEntity.TypeName.Length + 1}) = '{SpilloverEntity.TypeName}|' ORDER BY persistence_id";
        using var reader = query.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read()) ids.Add(reader.GetString(0));
        return ids;
    }

    public static bool TableExists(SqliteConnection connection, string table)
    {
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $t";
        query.Parameters.AddWithValue("$t", table);
        return (long)query.ExecuteScalar()! > 0;
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// A journal and a query plugin of their own on the store's file, Akka.Persistence.Sql's defaults otherwise (its
    /// reference configuration and the substitutions parsed together; the class named again, and the plugins fall back
    /// to their defaults themselves). Added under the node's configuration: it
    /// carries the default <c>akka.persistence.journal.sql</c> too, which must not shadow the node's.
    /// </summary>
    public static Config Plugins(string path)
    {
        using var stream = typeof(SqlPersistence).Assembly.GetManifestResourceStream("Akka.Persistence.Sql.persistence.conf")
                           ?? throw new InvalidOperationException("Akka.Persistence.Sql's persistence.conf is not in its assembly");
        using var reader = new StreamReader(stream);
        var cs = Quote($"Data Source={path};Pooling=True");
        return ConfigurationFactory.ParseString(reader.ReadToEnd() + $$"""

            {{JournalPlugin}} = ${akka.persistence.journal.sql}
            {{JournalPlugin}}.class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
            {{JournalPlugin}}.connection-string = {{cs}}
            {{JournalPlugin}}.provider-name = "SQLite.MS"
            {{JournalPlugin}}.auto-initialize = on
            {{JournalPlugin}}.prefer-parameters-on-multirow-insert = on
            {{JournalPlugin}}.parallelism = 1
            {{QueryPlugin}} = ${akka.persistence.query.journal.sql}
            {{QueryPlugin}}.class = "Akka.Persistence.Sql.Query.SqlReadJournalProvider, Akka.Persistence.Sql"
            {{QueryPlugin}}.plugin-id = "{{QueryPlugin}}"
            {{QueryPlugin}}.write-plugin = "{{JournalPlugin}}"
            {{QueryPlugin}}.connection-string = {{cs}}
            {{QueryPlugin}}.provider-name = "SQLite.MS"
            """);
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
