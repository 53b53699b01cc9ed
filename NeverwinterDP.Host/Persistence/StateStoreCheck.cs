using System.Text.Json;
using Microsoft.Data.Sqlite;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Persistence;

/// <summary>What <see cref="StateStoreCheck"/> found and did.</summary>
public sealed record StateStoreReport(string Path, bool Healthy, string Detail, string? QuarantinedTo, IReadOnlyDictionary<string, long> SalvagedRows,
    IReadOnlyDictionary<string, long> LostRows)
{
    public long Salvaged => SalvagedRows.Values.Sum();
    public long Lost => LostRows.Values.Sum();
}

/// <summary>
/// Checks the node's SQLite state store (journal of the registry, watchdog and spillover) before the actor system
/// opens it. A damaged file (a truncated or garbled tail after a crash or a full disk) must not keep the node
/// from starting: it is moved aside to <c>&lt;data&gt;/quarantine/&lt;time&gt;/</c> with a report, and every row
/// that can still be read is copied into a fresh store, so what survived is replayed and the rest is kept for
/// inspection. (PostgreSQL and MySQL look after their own files.)
/// </summary>
public static class StateStoreCheck
{
    public const string ReportFile = "report.json";

    public static StateStoreReport? Run(NodeConfig config, ILogger? log = null)
    {
        if (config.Persistence.Provider != "sqlite") return null;
        var path = new SqliteConnectionStringBuilder(config.Persistence.ConnectionString).DataSource;
        var report = CheckAndSalvage(config, path, log);
        UseWriteAheadLog(path); // on the store the node opens: new, sound, or the salvaged copy
        return report;
    }

    private static StateStoreReport CheckAndSalvage(NodeConfig config, string path, ILogger? log)
    {
        if (!File.Exists(path)) return new StateStoreReport(path, true, "no store yet", null, new Dictionary<string, long>(), new Dictionary<string, long>());
        var problem = Inspect(path);
        if (problem is null) return new StateStoreReport(path, true, "ok", null, new Dictionary<string, long>(), new Dictionary<string, long>());

        var quarantine = Path.Combine(config.DataDir, "quarantine", DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'"));
        Directory.CreateDirectory(quarantine);
        var kept = Path.Combine(quarantine, Path.GetFileName(path));
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
            if (File.Exists(path + suffix)) File.Move(path + suffix, kept + suffix);
        log?.LogError("The state store {Path} is damaged ({Problem}); it was moved to {Kept}. Salvaging what can be read...", path, problem, kept);

        var (salvaged, lost) = Salvage(kept, path);
        var report = new StateStoreReport(path, false, problem, kept, salvaged, lost);
        File.WriteAllText(Path.Combine(quarantine, ReportFile), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        log?.LogError("State store salvaged: {Salvaged} rows copied to a new store, {Lost} rows unreadable and left in quarantine ({Report})",
            report.Salvaged, report.Lost, Path.Combine(quarantine, ReportFile));
        return report;
    }

    /// <summary>The reports of earlier quarantines, newest first.</summary>
    public static IReadOnlyList<StateStoreReport> Quarantined(string dataDir)
    {
        var root = Path.Combine(dataDir, "quarantine");
        if (!Directory.Exists(root)) return [];
        return Directory.EnumerateFiles(root, ReportFile, SearchOption.AllDirectories)
            .OrderByDescending(f => f, StringComparer.Ordinal)
            .Select(f => JsonSerializer.Deserialize<StateStoreReport>(File.ReadAllText(f))!)
            .ToList();
    }

    /// <summary>
    /// Puts the store in WAL mode (kept in the file): a commit is one append and one fsync of the log instead of a
    /// rollback journal written, synced and deleted, which more than doubles how fast spilled batches are written.
    /// synchronous stays FULL (SQLite's default), so an acknowledged write survives a crash or a power cut.
    /// </summary>
    private static void UseWriteAheadLog(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL";
        command.ExecuteScalar();
    }

    /// <summary>Null when the file passes SQLite's own check; else what is wrong.</summary>
    public static string? Inspect(string path)
    {
        try
        {
            // Read-write (never creating): a log left by a crash is folded in on open, which read-only cannot do.
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA quick_check";
            using var reader = command.ExecuteReader();
            var lines = new List<string>();
            while (reader.Read()) lines.Add(reader.GetString(0));
            return lines is ["ok"] ? null : string.Join("; ", lines.Take(5));
        }
        catch (SqliteException e)
        {
            return e.Message;
        }
    }

    private static (Dictionary<string, long> Salvaged, Dictionary<string, long> Lost) Salvage(string kept, string fresh)
    {
        // Read from a copy padded back to the size its header claims: SQLite refuses a truncated file outright,
        // but reads every page still there once the missing ones exist (as zeros, which fail on their own).
        var damaged = kept + ".salvage";
        File.Copy(kept, damaged, overwrite: true);
        if (File.Exists(kept + "-wal")) File.Copy(kept + "-wal", damaged + "-wal", overwrite: true); // committed rows not yet in the file
        try
        {
            PadToHeaderSize(damaged);
            return SalvageFrom(damaged, fresh);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(damaged + suffix);
        }
    }

    private static void PadToHeaderSize(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        var header = new byte[100];
        if (file.Read(header, 0, header.Length) < header.Length) return;
        var pageSize = (header[16] << 8) | header[17];
        if (pageSize == 1) pageSize = 65536;
        var pages = (long)((uint)header[28] << 24 | (uint)header[29] << 16 | (uint)header[30] << 8 | header[31]);
        var claimed = pages * pageSize;
        if (pageSize >= 512 && claimed > file.Length && claimed < (1L << 40)) file.SetLength(claimed);
    }

    private static (Dictionary<string, long> Salvaged, Dictionary<string, long> Lost) SalvageFrom(string damaged, string fresh)
    {
        var salvaged = new Dictionary<string, long>();
        var lost = new Dictionary<string, long>();
        using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = damaged, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        using var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = fresh, Pooling = false }.ToString());
        try
        {
            source.Open();
        }
        catch (SqliteException)
        {
            return (salvaged, lost); // nothing readable: the node starts empty; the file stays in quarantine
        }
        target.Open();
        List<(string Name, string Sql)> tables;
        try
        {
            tables = Query(source, "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", r => (r.GetString(0), r.GetString(1)));
        }
        catch (SqliteException)
        {
            return (salvaged, lost); // the schema itself is unreadable: Akka recreates the tables
        }
        foreach (var (name, sql) in tables)
        {
            Execute(target, sql);
            var quoted = "\"" + name.Replace("\"", "\"\"") + "\"";
            // Row ids as far as the table's b-tree can be walked; each row copied on its own, so one bad page costs its rows only.
            var ids = new List<long>();
            try
            {
                using var command = source.CreateCommand();
                command.CommandText = $"SELECT rowid FROM {quoted} ORDER BY rowid";
                using var reader = command.ExecuteReader();
                while (reader.Read()) ids.Add(reader.GetInt64(0));
            }
            catch (SqliteException)
            {
                lost[name] = lost.GetValueOrDefault(name) + 1; // at least the rows past the damaged page
            }
            using var transaction = target.BeginTransaction();
            foreach (var id in ids)
            {
                try
                {
                    using var read = source.CreateCommand();
                    read.CommandText = $"SELECT * FROM {quoted} WHERE rowid = $id";
                    read.Parameters.AddWithValue("$id", id);
                    using var reader = read.ExecuteReader();
                    if (!reader.Read()) continue;
                    using var write = target.CreateCommand();
                    write.Transaction = transaction;
                    var names = Enumerable.Range(0, reader.FieldCount).Select(i => "\"" + reader.GetName(i).Replace("\"", "\"\"") + "\"").ToList();
                    write.CommandText = $"INSERT INTO {quoted} ({string.Join(",", names)}) VALUES ({string.Join(",", names.Select((_, i) => "$p" + i))})";
                    for (var i = 0; i < reader.FieldCount; i++) write.Parameters.AddWithValue("$p" + i, reader.GetValue(i));
                    write.ExecuteNonQuery();
                    salvaged[name] = salvaged.GetValueOrDefault(name) + 1;
                }
                catch (SqliteException)
                {
                    lost[name] = lost.GetValueOrDefault(name) + 1;
                }
            }
            transaction.Commit();
        }
        // Indexes are rebuilt from the salvaged rows.
        List<string> indexes;
        try
        {
            indexes = Query(source, "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL", r => r.GetString(0));
        }
        catch (SqliteException)
        {
            indexes = [];
        }
        foreach (var sql in indexes)
        {
            try
            {
                Execute(target, sql);
            }
            catch (SqliteException)
            {
                // A unique index the salvaged rows break would fail; the journal works without it.
            }
        }
        return (salvaged, lost);
    }

    private static List<T> Query<T>(SqliteConnection c, string sql, Func<SqliteDataReader, T> map)
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read()) list.Add(map(reader));
        return list;
    }

    private static void Execute(SqliteConnection c, string sql)
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
