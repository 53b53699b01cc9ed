using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace NeverwinterDP.Actors.Sinks.HBase;

/// <summary>
/// Turns records into the rows of an HBase REST <c>CellSet</c> in JSON: every row, column and value base64,
/// the value under <c>$</c>, and an explicit cell <c>timestamp</c> (the event's <c>ts</c>):
/// <code>{"Row":[{"key":"&lt;b64 row&gt;","Cell":[{"column":"&lt;b64 e:msg&gt;","timestamp":1764300000000,"$":"&lt;b64 value&gt;"}, ...]}, ...]}</code>
/// Each row is encoded once into one buffer; a request (or half of one, when a 400 is bisected) is the
/// rows of a range joined by commas. One cell per field, values as UTF-8 text (numbers in decimal):
/// <c>ts system_ts host ip process type version level msg ingress source_seq</c>, each attribute as
/// <c>a.&lt;name&gt;</c>, and where the record came from: <c>topic partition offset</c>.
/// </summary>
public sealed class HBaseRowEncoder
{
    /// <summary>HBase's limit on a row key (<c>Short.MAX_VALUE</c> bytes).</summary>
    public const int MaxRowKeyLength = short.MaxValue;

    // KeyValue framing as HBase counts it against hbase.client.keyvalue.maxsize: key length and value length
    // (4 + 4), then row length (2), family length (1), timestamp (8) and type (1) around the bytes themselves.
    private const int KeyValueOverhead = 4 + 4 + 2 + 1 + 8 + 1;

    private readonly HBaseSinkOptions _options;
    private readonly byte[] _family;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter _json;
    private readonly List<(string Qualifier, string Value)> _cells = new(24);
    private byte[] _scratch = new byte[1024];

    public HBaseRowEncoder(HBaseSinkOptions options)
    {
        _options = options;
        _family = Encoding.UTF8.GetBytes(options.ColumnFamily);
        // Rows are written one by one as separate values; the request body adds the brackets and commas.
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>The encoded rows of the last <see cref="Encode"/>: <see cref="Segment"/> gives one row's JSON.</summary>
    public ReadOnlyMemory<byte> Buffer => _buffer.WrittenMemory;

    /// <summary>
    /// Encodes <paramref name="batch"/> (replacing the previous one). Returns per record either its row's
    /// (offset, length) in <see cref="Buffer"/>, or the reason HBase would refuse it for good.
    /// </summary>
    public IReadOnlyList<(int Start, int Length, string? Rejection)> Encode(IReadOnlyList<SinkRecord> batch)
    {
        _buffer.Clear();
        var rows = new (int, int, string?)[batch.Count];
        for (var i = 0; i < batch.Count; i++) rows[i] = EncodeRow(batch[i]);
        return rows;
    }

    private (int, int, string?) EncodeRow(SinkRecord record)
    {
        var e = record.Event;
        if (e.Ts < 0) return (0, 0, $"ts {e.Ts} is negative: HBase cell timestamps and the row key's reverse_ts need ts >= 0");
        var rowKey = _options.RowKey.Render(record);
        var rowLength = Encoding.UTF8.GetByteCount(rowKey);
        if (rowLength > MaxRowKeyLength) return (0, 0, $"row key is {rowLength} bytes, over HBase's limit of {MaxRowKeyLength}");

        _cells.Clear();
        _cells.Add(("ts", e.Ts.ToString(CultureInfo.InvariantCulture)));
        _cells.Add(("system_ts", e.SystemTs.ToString(CultureInfo.InvariantCulture)));
        _cells.Add(("host", e.Host));
        _cells.Add(("ip", e.Ip));
        _cells.Add(("process", e.Process));
        _cells.Add(("type", e.Type));
        _cells.Add(("version", e.Version));
        _cells.Add(("level", e.Level));
        _cells.Add(("msg", e.Message));
        _cells.Add(("ingress", e.Lineage.IngressNode ?? ""));
        _cells.Add(("source_seq", e.Lineage.SourceSeq.ToString(CultureInfo.InvariantCulture)));
        if (e.Lineage.Sender is { } sender) _cells.Add(("sender", sender)); // only with an API key
        foreach (var (name, value) in e.Attributes) _cells.Add(("a." + name, value));
        _cells.Add(("topic", record.Topic));
        _cells.Add(("partition", record.Partition.ToString(CultureInfo.InvariantCulture)));
        _cells.Add(("offset", record.Offset.ToString(CultureInfo.InvariantCulture)));

        foreach (var (qualifier, value) in _cells)
        {
            long size = KeyValueOverhead + rowLength + _family.Length + Encoding.UTF8.GetByteCount(qualifier) + Encoding.UTF8.GetByteCount(value);
            if (size > _options.MaxCellSize)
                return (0, 0, $"cell {_options.ColumnFamily}:{qualifier} is {size} bytes as HBase counts a KeyValue, over max-cell-size {_options.MaxCellSize} (hbase.client.keyvalue.maxsize)");
        }

        var start = _buffer.WrittenCount;
        _json.Reset(_buffer);
        _json.WriteStartObject();
        _json.WriteBase64String("key"u8, Utf8(rowKey));
        _json.WriteStartArray("Cell"u8);
        foreach (var (qualifier, value) in _cells)
        {
            _json.WriteStartObject();
            _json.WriteBase64String("column"u8, Column(qualifier));
            _json.WriteNumber("timestamp"u8, e.Ts);
            _json.WriteBase64String("$"u8, Utf8(value));
            _json.WriteEndObject();
        }
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
        return (start, _buffer.WrittenCount - start, null);
    }

    // The bytes of a string in the scratch buffer (valid until the next call).
    private ReadOnlySpan<byte> Utf8(string text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_scratch.Length < max) _scratch = new byte[Math.Max(max, _scratch.Length * 2)];
        var n = Encoding.UTF8.GetBytes(text, _scratch);
        return _scratch.AsSpan(0, n);
    }

    // "family:qualifier" as bytes in the scratch buffer.
    private ReadOnlySpan<byte> Column(string qualifier)
    {
        var max = _family.Length + 1 + Encoding.UTF8.GetMaxByteCount(qualifier.Length);
        if (_scratch.Length < max) _scratch = new byte[Math.Max(max, _scratch.Length * 2)];
        _family.CopyTo(_scratch, 0);
        _scratch[_family.Length] = (byte)':';
        var n = Encoding.UTF8.GetBytes(qualifier, 0, qualifier.Length, _scratch, _family.Length + 1);
        return _scratch.AsSpan(0, _family.Length + 1 + n);
    }
}
