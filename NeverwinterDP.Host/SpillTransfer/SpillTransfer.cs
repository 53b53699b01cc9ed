using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Host.Persistence;
using NeverwinterDP.Protocol.AtRest;

namespace NeverwinterDP.Host.SpillTransfer;

/// <summary>What an export did: the file, its manifest, and the rows sealed in the source store.</summary>
public sealed record SpillExportResult(string File, SpillExportManifest Manifest);

/// <summary>What an import did: rows and batches added, rows skipped because this store had them already (an earlier import of the same batches).</summary>
public sealed record SpillImportResult(string Store, SpillExportManifest Manifest, long ImportedRows, long SkippedRows, long ImportedBatches, bool AlreadyImported);

/// <summary>
/// Moves a stopped node's spill store to another node, exactly once. <see cref="Export"/> writes every live spillover
/// row of the store to a file and then <b>seals</b> them in the source (marked deleted, all but each persistence id's
/// last row removed, the export recorded in <c>nwdp_spill_exports</c>): a restarted source never replays them.
/// <see cref="Import"/> adds the rows to the target's store under persistence ids that name the source store
/// (<c>spillover|TOPIC@STORE</c>; their replay headers stay the source's), and records, per persistence id, the last
/// sequence number imported (<c>nwdp_spill_imports</c>): a row at or below it is skipped, so an import run twice, or
/// two exports holding the same rows (an export interrupted before its seal, run again), import each batch once.
/// </summary>
public static class SpillTransfer
{
    /// <summary>Rows between two progress lines.</summary>
    public const int ProgressEvery = 5_000;

    private const string BatchManifests = "('B2', 'B3', 'E')";

    public static SpillExportResult Export(string dataDir, string outFile, Action<string> progress)
    {
        dataDir = Path.GetFullPath(dataDir);
        outFile = Path.GetFullPath(outFile);
        if (!Directory.Exists(dataDir)) throw new SpillTransferException($"flag '--data': {dataDir} is not a directory");
        if (File.Exists(outFile)) throw new SpillTransferException($"flag '--out': {outFile} exists; an export is never overwritten (it may be the only copy of its batches)");
        if (!Directory.Exists(Path.GetDirectoryName(outFile))) throw new SpillTransferException($"flag '--out': the directory of {outFile} does not exist");
        var store = SpillStoreFile.Find(dataDir) ?? throw new SpillTransferException(
            $"flag '--data': {dataDir} holds no spill store ({SpillStoreFile.OwnFile} or {SpillStoreFile.StateFile})");
        using var held = SpillStoreLock.TakeOrThrow(dataDir, "--data");
        using var db = SpillStoreFile.Connect(store);
        var storeId = SpillStoreFile.EnsureId(db);
        var pids = SpillStoreFile.PersistenceIds(db);
        var columns = Columns(db).Where(c => c != "ordering").ToList();
        var tableSql = TableSql(db);

        // What is exported: every live row of every spillover persistence id, in order.
        var ranges = new Dictionary<string, long[]>(StringComparer.Ordinal);
        long rows = 0, batches = 0, events = 0;
        var keyIds = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var pid in pids)
        {
            using var q = db.CreateCommand();
            q.CommandText = "SELECT min(sequence_number), max(sequence_number), count(*) FROM journal WHERE persistence_id = $p AND deleted = 0";
            q.Parameters.AddWithValue("$p", pid);
            using var r = q.ExecuteReader();
            if (!r.Read() || r.GetInt64(2) == 0) continue;
            ranges[pid] = [r.GetInt64(0), r.GetInt64(1)];
            rows += r.GetInt64(2);
        }
        foreach (var (pid, range) in ranges)
        {
            using var q = db.CreateCommand();
            q.CommandText = $"SELECT manifest, message FROM journal WHERE persistence_id = $p AND deleted = 0 AND manifest IN {BatchManifests}";
            q.Parameters.AddWithValue("$p", pid);
            using var r = q.ExecuteReader();
            while (r.Read())
            {
                batches++;
                var message = (byte[])r.GetValue(1);
                if (r.GetString(0) == "E" && message.Length > 4 + SpillKeyRing.HeaderBytes) keyIds.Add(SpillKeyRing.KeyIdOf(message.AsSpan(4)).ToString("x16"));
                else if (r.GetString(0) != "E") events += EventsOf(message);
            }
        }
        var manifest = new SpillExportManifest(1, Guid.NewGuid().ToString("N"), storeId, store, DateTimeOffset.UtcNow, columns, rows, batches, events,
            ranges.ToDictionary(kv => Imported(kv.Key, storeId), kv => kv.Value, StringComparer.Ordinal), tableSql, keyIds.ToList());
        progress($"exporting {rows} rows ({batches} spilled batches) of {ranges.Count} topics from {store} (store {storeId}) to {outFile}");

        using (var writer = new SpillExportFile.Writer(outFile, manifest))
        {
            long done = 0;
            var pidColumn = columns.IndexOf("persistence_id");
            foreach (var pid in ranges.Keys)
            {
                using var q = db.CreateCommand();
                q.CommandText = $"SELECT {string.Join(", ", columns.Select(Quote))} FROM journal WHERE persistence_id = $p AND deleted = 0 ORDER BY sequence_number";
                q.Parameters.AddWithValue("$p", pid);
                using var r = q.ExecuteReader();
                var values = new object?[columns.Count];
                while (r.Read())
                {
                    for (var i = 0; i < values.Length; i++) values[i] = r.IsDBNull(i) ? null : r.GetValue(i);
                    values[pidColumn] = Imported(pid, storeId);
                    writer.WriteRow(values);
                    if (++done % ProgressEvery == 0) progress($"exported {done} of {rows} rows");
                }
            }
            writer.Complete();
        }
        // Checked as the importer will check it, before the source gives its batches up.
        SpillExportFile.Verify(outFile, "--out");

        // The seal: one transaction. A crash before it leaves the rows live (export again: the import skips what it has).
        using (var tx = db.BeginTransaction())
        {
            SpillStoreFile.Execute(db, "CREATE TABLE IF NOT EXISTS nwdp_spill_exports (export_id TEXT PRIMARY KEY, exported_at INTEGER NOT NULL, file TEXT NOT NULL, rows INTEGER NOT NULL)");
            foreach (var (pid, range) in ranges)
            {
                using var mark = db.CreateCommand();
                // As the journal deletes: every row marked deleted, all but the last removed (it keeps the highest
                // sequence number, so the source's next batch of the topic gets a new one).
                mark.CommandText = """
                    UPDATE journal SET deleted = 1 WHERE persistence_id = $p AND sequence_number <= $to;
                    DELETE FROM journal WHERE persistence_id = $p AND sequence_number < $to;
                    """;
                mark.Parameters.AddWithValue("$p", pid);
                mark.Parameters.AddWithValue("$to", range[1]);
                mark.ExecuteNonQuery();
            }
            using var record = db.CreateCommand();
            record.CommandText = "INSERT INTO nwdp_spill_exports (export_id, exported_at, file, rows) VALUES ($id, $at, $file, $rows)";
            record.Parameters.AddWithValue("$id", manifest.ExportId);
            record.Parameters.AddWithValue("$at", manifest.CreatedAt.ToUnixTimeMilliseconds());
            record.Parameters.AddWithValue("$file", outFile);
            record.Parameters.AddWithValue("$rows", rows);
            record.ExecuteNonQuery();
            tx.Commit();
        }
        progress($"exported {rows} rows ({batches} batches); sealed in {store}: the source node will not replay them");
        return new SpillExportResult(outFile, manifest);
    }

    public static SpillImportResult Import(string dataDir, string inFile, Action<string> progress)
    {
        dataDir = Path.GetFullPath(dataDir);
        inFile = Path.GetFullPath(inFile);
        if (!File.Exists(inFile)) throw new SpillTransferException($"flag '--in': {inFile} does not exist");
        progress($"checking {inFile}");
        var manifest = SpillExportFile.Verify(inFile, "--in");
        Directory.CreateDirectory(dataDir);
        using var held = SpillStoreLock.TakeOrThrow(dataDir, "--data");
        // The store the node on this directory opens (SpillStoreFile.Locate): nwdp-spill.db if there, else its own
        // nwdp-state.db if there; a directory no node has used yet gets nwdp-spill.db, which the node then opens.
        var store = SpillStoreFile.Find(dataDir) ?? Path.Combine(dataDir, SpillStoreFile.OwnFile);
        using var db = SpillStoreFile.Connect(store);
        var storeId = SpillStoreFile.EnsureId(db);
        if (storeId == manifest.SourceStoreId)
            throw new SpillTransferException($"flag '--in': {inFile} was exported from this store ({store}, store {storeId}); its batches are sealed here and are replayed by the node it is imported into");
        if (!SpillStoreFile.TableExists(db, "journal"))
            foreach (var sql in manifest.TableSql) SpillStoreFile.Execute(db, sql);
        var columns = Columns(db);
        var missing = manifest.Columns.Where(c => !columns.Contains(c)).ToList();
        if (missing.Count > 0)
            throw new SpillTransferException($"flag '--in': the export's journal has columns this store's has not ({string.Join(", ", missing)}): import with the version that exported it");
        SpillStoreFile.Execute(db, "CREATE TABLE IF NOT EXISTS nwdp_spill_imports (persistence_id TEXT PRIMARY KEY, up_to INTEGER NOT NULL, export_id TEXT NOT NULL, imported_at INTEGER NOT NULL)");

        long imported = 0, skipped = 0, batches = 0, seen = 0;
        var pidColumn = manifest.Columns.ToList().IndexOf("persistence_id");
        var seqColumn = manifest.Columns.ToList().IndexOf("sequence_number");
        var manifestColumn = manifest.Columns.ToList().IndexOf("manifest");
        if (pidColumn < 0 || seqColumn < 0) throw new SpillTransferException($"flag '--in': {inFile} has no persistence_id or sequence_number column");
        using (var tx = db.BeginTransaction())
        {
            var upTo = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var pid in manifest.Ranges.Keys) upTo[pid] = UpTo(db, pid);
            using var insert = db.CreateCommand();
            insert.CommandText = $"INSERT INTO journal ({string.Join(", ", manifest.Columns.Select(Quote))}) VALUES ({string.Join(", ", manifest.Columns.Select((_, i) => "$c" + i))})";
            var parameters = manifest.Columns.Select((_, i) => insert.Parameters.Add(new SqliteParameter("$c" + i, null))).ToList();
            using var reader = new SpillExportFile.Reader(inFile, "--in");
            while (reader.Next() is { } row)
            {
                seen++;
                var pid = (string)row[pidColumn]!;
                if (!pid.StartsWith(SpilloverEntity.TypeName + "|", StringComparison.Ordinal) || !pid.Contains('@'))
                    throw new SpillTransferException($"flag '--in': row {seen} has persistence id '{pid}', not an exported spillover id; nothing was imported");
                var seq = (long)row[seqColumn]!;
                if (seq <= upTo.GetValueOrDefault(pid))
                {
                    skipped++;
                }
                else
                {
                    for (var i = 0; i < row.Length; i++) parameters[i].Value = row[i] ?? DBNull.Value;
                    insert.ExecuteNonQuery();
                    imported++;
                    if (manifestColumn >= 0 && row[manifestColumn] is "B2" or "B3" or "E") batches++;
                }
                if (seen % ProgressEvery == 0) progress($"imported {seen} of {manifest.Rows} rows");
            }
            foreach (var (pid, range) in manifest.Ranges)
            {
                using var record = db.CreateCommand();
                record.CommandText = """
                    INSERT INTO nwdp_spill_imports (persistence_id, up_to, export_id, imported_at) VALUES ($p, $to, $id, $at)
                    ON CONFLICT (persistence_id) DO UPDATE SET up_to = max(up_to, excluded.up_to), export_id = excluded.export_id, imported_at = excluded.imported_at
                    """;
                record.Parameters.AddWithValue("$p", pid);
                record.Parameters.AddWithValue("$to", range[1]);
                record.Parameters.AddWithValue("$id", manifest.ExportId);
                record.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                record.ExecuteNonQuery();
            }
            tx.Commit();
        }
        var already = imported == 0 && skipped > 0;
        progress(already
            ? $"nothing to import: the {skipped} rows of export {manifest.ExportId} are in {store} already (imported before)"
            : $"imported {imported} rows ({batches} spilled batches) into {store}{(skipped > 0 ? $", {skipped} skipped (imported before)" : "")}; the node on {dataDir} replays them at its next start");
        if (manifest.KeyIds.Count > 0 && imported > 0)
            progress($"the batches are sealed with spill key id(s) {string.Join(", ", manifest.KeyIds)}: the node on {dataDir} needs those key files (nwdp.spill.encryption.key-file or old-key-files; nwdp spill-key id FILE shows a file's id)");
        return new SpillImportResult(store, manifest, imported, skipped, batches, already);
    }

    /// <summary>The persistence id of a source row as imported: its store named, so it never meets the importing node's own (nor its header).</summary>
    private static string Imported(string pid, string storeId) => pid.Contains('@') ? pid : pid + "@" + storeId;

    /// <summary>Everything at or below it is in this store already: imported before, or (imported and replayed) kept as the journal's last row.</summary>
    private static long UpTo(SqliteConnection db, string pid)
    {
        using var q = db.CreateCommand();
        q.CommandText = """
            SELECT max(coalesce((SELECT up_to FROM nwdp_spill_imports WHERE persistence_id = $p), 0),
                       coalesce((SELECT max(sequence_number) FROM journal WHERE persistence_id = $p), 0))
            """;
        q.Parameters.AddWithValue("$p", pid);
        return (long)q.ExecuteScalar()!;
    }

    private static List<string> Columns(SqliteConnection db)
    {
        using var q = db.CreateCommand();
        q.CommandText = "SELECT name FROM pragma_table_info('journal')";
        using var r = q.ExecuteReader();
        var names = new List<string>();
        while (r.Read()) names.Add(r.GetString(0));
        if (names.Count == 0) throw new SpillTransferException("flag '--data': the spill store has no journal table (nothing was ever spilled there)");
        return names;
    }

    private static List<string> TableSql(SqliteConnection db)
    {
        using var q = db.CreateCommand();
        q.CommandText = "SELECT sql FROM sqlite_master WHERE tbl_name = 'journal' AND sql IS NOT NULL ORDER BY type DESC"; // the table, then its indexes
        using var r = q.ExecuteReader();
        var sql = new List<string>();
        while (r.Read()) sql.Add(r.GetString(0));
        return sql;
    }

    /// <summary>The number of records of a clear batch row (<c>[crc32]</c>, topic, time, count): for the manifest's events; sealed rows are not counted.</summary>
    private static long EventsOf(byte[] message)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(message, 4, message.Length - 4));
            r.ReadString();
            r.ReadInt64();
            return Math.Max(0, r.ReadInt32());
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException)
        {
            return 0;
        }
    }

    private static string Quote(string column) => "\"" + column.Replace("\"", "\"\"") + "\"";
}
