using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NeverwinterDP.Host.SpillTransfer;

/// <summary>
/// Export or import refused: the message names the flag and what to do; the CLI prints it and exits
/// <paramref name="exitCode"/> (2: bad input, the flag's value; 1: the data directory is in use).
/// </summary>
public sealed class SpillTransferException(string message, int exitCode = 2) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>What an export holds (its first block, JSON).</summary>
/// <param name="ExportId">Random; the source store records it, the import logs it.</param>
/// <param name="SourceStoreId">The id of the store the batches were spilled in (their replay headers name it).</param>
/// <param name="Columns">The journal columns of each row, in order (all but <c>ordering</c>, which the importing store numbers).</param>
/// <param name="Ranges">Per persistence id (as imported: <c>spillover|TOPIC@STORE</c>), the first and last sequence number exported.</param>
/// <param name="TableSql">The source's <c>CREATE TABLE journal</c> and its indexes, for a store that has no journal yet.</param>
/// <param name="KeyIds">The spill keys (ids) that sealed the exported batches: the importing node needs them.</param>
public sealed record SpillExportManifest(
    [property: JsonPropertyName("format")] int Format,
    [property: JsonPropertyName("export_id")] string ExportId,
    [property: JsonPropertyName("source_store_id")] string SourceStoreId,
    [property: JsonPropertyName("source_path")] string SourcePath,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("columns")] IReadOnlyList<string> Columns,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("batches")] long Batches,
    [property: JsonPropertyName("events")] long Events,
    [property: JsonPropertyName("ranges")] IReadOnlyDictionary<string, long[]> Ranges,
    [property: JsonPropertyName("table_sql")] IReadOnlyList<string> TableSql,
    [property: JsonPropertyName("key_ids")] IReadOnlyList<string> KeyIds);

/// <summary>
/// The export file: <c>NWDPSPX1</c>, the manifest (length-prefixed JSON), the rows (each value tagged: null, integer,
/// real, text, blob), then <c>NWDPEND1</c> and the SHA-256 of everything before it. Written to <c>FILE.partial</c>,
/// flushed to disk and renamed: a file with the final name is whole, and a truncated or altered one fails its
/// checksum before anything is imported.
/// </summary>
public static class SpillExportFile
{
    private static readonly byte[] Magic = "NWDPSPX1"u8.ToArray();
    private static readonly byte[] End = "NWDPEND1"u8.ToArray();
    private const int HashBytes = 32;

    public sealed class Writer : IDisposable
    {
        private readonly string _final;
        private readonly string _partial;
        private readonly FileStream _file;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly BinaryWriter _out;
        private readonly MemoryStream _row = new();
        private readonly BinaryWriter _rowOut;
        private bool _done;

        public Writer(string path, SpillExportManifest manifest)
        {
            _final = path;
            _partial = path + ".partial";
            _file = new FileStream(_partial, FileMode.Create, FileAccess.Write, FileShare.None);
            _out = new BinaryWriter(_file);
            _rowOut = new BinaryWriter(_row);
            var json = JsonSerializer.SerializeToUtf8Bytes(manifest);
            Write(Magic);
            Write(BitConverter.GetBytes(json.Length));
            Write(json);
        }

        public void WriteRow(IReadOnlyList<object?> values)
        {
            _row.SetLength(0);
            foreach (var v in values) WriteValue(_rowOut, v);
            _rowOut.Flush();
            Write(BitConverter.GetBytes((int)_row.Length));
            Write(_row.GetBuffer().AsSpan(0, (int)_row.Length));
        }

        /// <summary>Seals the file with its checksum, flushes it to disk and gives it its final name.</summary>
        public void Complete()
        {
            _out.Write(End); // not hashed: the checksum covers what comes before the end marker
            _out.Write(_hash.GetHashAndReset());
            _out.Flush();
            _file.Flush(flushToDisk: true);
            _file.Dispose();
            File.Move(_partial, _final, overwrite: false);
            _done = true;
        }

        private void Write(ReadOnlySpan<byte> bytes)
        {
            _hash.AppendData(bytes);
            _out.Write(bytes);
        }

        public void Dispose()
        {
            _file.Dispose();
            _hash.Dispose();
            if (!_done && File.Exists(_partial)) File.Delete(_partial);
        }
    }

    /// <summary>Checks the whole file (its checksum and its rows) and returns its manifest; refused with the reason otherwise.</summary>
    public static SpillExportManifest Verify(string path, string flag)
    {
        using var file = Open(path, flag);
        var length = file.Length;
        if (length < Magic.Length + 4 + End.Length + HashBytes) throw Damaged(path, flag, $"it is {length} bytes long, too short for an export (incomplete?)");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        var body = length - End.Length - HashBytes;
        long read = 0;
        while (read < body)
        {
            var n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, body - read));
            if (n <= 0) throw Damaged(path, flag, "it ended early");
            hash.AppendData(buffer, 0, n);
            read += n;
        }
        var trailer = new byte[End.Length + HashBytes];
        file.ReadExactly(trailer);
        if (!trailer.AsSpan(0, End.Length).SequenceEqual(End)) throw Damaged(path, flag, "its end marker is missing (incomplete: the export did not finish, or the copy was cut short)");
        if (!trailer.AsSpan(End.Length).SequenceEqual(hash.GetHashAndReset())) throw Damaged(path, flag, "its checksum does not match (altered or damaged in transit)");
        using var reader = new Reader(path, flag);
        long rows = 0;
        while (reader.Next() is not null) rows++;
        if (rows != reader.Manifest.Rows) throw Damaged(path, flag, $"it holds {rows} rows, its manifest says {reader.Manifest.Rows}");
        return reader.Manifest;
    }

    /// <summary>Reads rows in order (call <see cref="Verify"/> first).</summary>
    public sealed class Reader : IDisposable
    {
        private readonly FileStream _file;
        private readonly BinaryReader _in;
        private readonly long _rowsEnd;
        private readonly string _path, _flag;

        public Reader(string path, string flag)
        {
            _path = path;
            _flag = flag;
            _file = Open(path, flag);
            _in = new BinaryReader(_file);
            _rowsEnd = _file.Length - End.Length - HashBytes;
            var magic = _in.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic)) throw Damaged(path, flag, "it is not a spill export (no NWDPSPX1 at its start)");
            var jsonLength = _in.ReadInt32();
            if (jsonLength <= 0 || jsonLength > _rowsEnd) throw Damaged(path, flag, "its manifest length is out of range");
            try
            {
                Manifest = JsonSerializer.Deserialize<SpillExportManifest>(_in.ReadBytes(jsonLength)) ?? throw new JsonException("null");
            }
            catch (JsonException e)
            {
                throw Damaged(path, flag, "its manifest is not readable: " + e.Message);
            }
            if (Manifest.Format != 1) throw Damaged(path, flag, $"its format {Manifest.Format} is not one this version reads (1)");
        }

        public SpillExportManifest Manifest { get; }

        public object?[]? Next()
        {
            if (_file.Position >= _rowsEnd) return null;
            var length = _in.ReadInt32();
            if (length < 0 || _file.Position + length > _rowsEnd) throw Damaged(_path, _flag, "a row runs past the end of the rows");
            using var row = new BinaryReader(new MemoryStream(_in.ReadBytes(length)));
            var values = new object?[Manifest.Columns.Count];
            try
            {
                for (var i = 0; i < values.Length; i++) values[i] = ReadValue(row);
            }
            catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
            {
                throw Damaged(_path, _flag, "a row does not match the manifest's columns: " + e.Message);
            }
            return values;
        }

        public void Dispose() => _file.Dispose();
    }

    private static FileStream Open(string path, string flag)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpillTransferException($"flag '{flag}': cannot read {path}: {e.Message}");
        }
    }

    private static SpillTransferException Damaged(string path, string flag, string why) =>
        new($"flag '{flag}': {path} is refused: {why}. Nothing was imported; export the store again (nwdp spill export) or copy the file again");

    private static void WriteValue(BinaryWriter w, object? v)
    {
        switch (v)
        {
            case null or DBNull:
                w.Write((byte)0);
                break;
            case long l:
                w.Write((byte)1);
                w.Write(l);
                break;
            case double d:
                w.Write((byte)2);
                w.Write(d);
                break;
            case string s:
                w.Write((byte)3);
                var bytes = Encoding.UTF8.GetBytes(s);
                w.Write(bytes.Length);
                w.Write(bytes);
                break;
            case byte[] b:
                w.Write((byte)4);
                w.Write(b.Length);
                w.Write(b);
                break;
            default:
                throw new InvalidDataException($"a journal value of type {v.GetType()} cannot be exported");
        }
    }

    private static object? ReadValue(BinaryReader r) => r.ReadByte() switch
    {
        0 => null,
        1 => r.ReadInt64(),
        2 => r.ReadDouble(),
        3 => Encoding.UTF8.GetString(ReadBytes(r)),
        4 => ReadBytes(r),
        var t => throw new InvalidDataException($"unknown value tag {t}"),
    };

    private static byte[] ReadBytes(BinaryReader r)
    {
        var length = r.ReadInt32();
        var bytes = r.ReadBytes(length);
        return length >= 0 && bytes.Length == length ? bytes : throw new EndOfStreamException("a value runs past its row");
    }
}
