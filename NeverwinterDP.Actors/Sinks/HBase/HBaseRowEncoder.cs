using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.HBase;

/// <summary>
/// Turns records into the rows of an HBase REST <c>CellSet</c> in JSON: every row, column and value base64,
/// the value under <c>$</c>, and an explicit cell <c>timestamp</c> (the event's <c>ts</c>):
/// <code>{"Row":[{"key":"&lt;b64 row&gt;","Cell":[{"column":"&lt;b64 e:msg&gt;","timestamp":1764300000000,"$":"&lt;b64 value&gt;"}, ...]}, ...]}</code>
/// Each row is encoded once into one buffer; a request (or half of one, when a 400 is bisected) is the
/// rows of a range joined by commas. One cell per field, values as UTF-8 text (numbers in decimal):
/// <c>ts system_ts host ip process type version level msg ingress source_seq</c>, each attribute as
/// <c>a.&lt;name&gt;</c>, and where the record came from: <c>topic partition offset</c>.
/// A typed log type's record (<see cref="LogEvent.Typed"/>) also gets <c>schema_id</c> (the registry id, in decimal),
/// and its typed fields keep their <c>a.&lt;name&gt;</c> cells but hold HBase's <c>Bytes.toBytes</c> encodings: int 4 and
/// long 8 bytes big-endian, float 4 and double 8 bytes IEEE 754 big-endian, boolean one byte (0xFF true, 0x00 false),
/// string UTF-8; a null optional has no cell. Untyped events are encoded exactly as before.
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
    private readonly List<Cell> _cells = new(24);
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
        _cells.Add(new("ts", e.Ts.ToString(CultureInfo.InvariantCulture)));
        _cells.Add(new("system_ts", e.SystemTs.ToString(CultureInfo.InvariantCulture)));
        _cells.Add(new("host", e.Host));
        _cells.Add(new("ip", e.Ip));
        _cells.Add(new("process", e.Process));
        _cells.Add(new("type", e.Type));
        _cells.Add(new("version", e.Version));
        _cells.Add(new("level", e.Level));
        _cells.Add(new("msg", e.Message));
        _cells.Add(new("ingress", e.Lineage.IngressNode ?? ""));
        _cells.Add(new("source_seq", e.Lineage.SourceSeq.ToString(CultureInfo.InvariantCulture)));
        if (e.Lineage.Sender is { } sender) _cells.Add(new("sender", sender)); // only with an API key
        if (e.Typed is not { } typed)
        {
            foreach (var (name, value) in e.Attributes) _cells.Add(new("a." + name, value));
        }
        else
        {
            // The id names the schema a reader looks the cells' types up in: an int and a float are both 4 bytes.
            _cells.Add(new("schema_id", typed.Schema.Id.ToString(CultureInfo.InvariantCulture)));
            foreach (var (name, value) in e.Attributes)
            {
                if (!typed.Schema.IsTypedField(name)) _cells.Add(new("a." + name, value));
            }
            for (var i = 0; i < typed.Values.Count; i++)
            {
                var v = typed.Values[i];
                if (!v.HasValue) continue; // a null optional: no cell
                var field = typed.Schema.Fields[i];
                // An array or map is its JSON text (items in their text forms): one cell, read with any JSON parser.
                _cells.Add(field.Kind is TypedKind.String or TypedKind.Enum or TypedKind.Array or TypedKind.Map
                    ? new Cell("a." + field.Name, v.Text ?? "") : new Cell("a." + field.Name, null, field.Kind, v));
            }
        }
        _cells.Add(new("topic", record.Topic));
        _cells.Add(new("partition", record.Partition.ToString(CultureInfo.InvariantCulture)));
        _cells.Add(new("offset", record.Offset.ToString(CultureInfo.InvariantCulture)));

        Span<byte> binary = stackalloc byte[8];
        foreach (var cell in _cells)
        {
            var valueLength = cell.Text is { } text ? Encoding.UTF8.GetByteCount(text) : Binary(cell, binary).Length;
            long size = KeyValueOverhead + rowLength + _family.Length + Encoding.UTF8.GetByteCount(cell.Qualifier) + valueLength;
            if (size > _options.MaxCellSize)
                return (0, 0, $"cell {_options.ColumnFamily}:{cell.Qualifier} is {size} bytes as HBase counts a KeyValue, over max-cell-size {_options.MaxCellSize} (hbase.client.keyvalue.maxsize)");
        }

        var start = _buffer.WrittenCount;
        _json.Reset(_buffer);
        _json.WriteStartObject();
        _json.WriteBase64String("key"u8, Utf8(rowKey));
        _json.WriteStartArray("Cell"u8);
        foreach (var cell in _cells)
        {
            _json.WriteStartObject();
            _json.WriteBase64String("column"u8, Column(cell.Qualifier));
            _json.WriteNumber("timestamp"u8, e.Ts);
            if (cell.Text is { } text) _json.WriteBase64String("$"u8, Utf8(text));
            else _json.WriteBase64String("$"u8, Binary(cell, binary));
            _json.WriteEndObject();
        }
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
        return (start, _buffer.WrittenCount - start, null);
    }

    // A typed number or boolean as HBase's Bytes.toBytes writes it (big-endian; floats by their raw IEEE 754 bits; true as 0xFF);
    // timestamps as their epoch long, a date as its int of days, a uuid's 16 bytes (RFC 4122 order), bytes as they are, a
    // decimal as its unscaled two's-complement bytes (Avro's; the scale is the schema's).
    private static ReadOnlySpan<byte> Binary(in Cell cell, Span<byte> into)
    {
        switch (cell.Kind)
        {
            case TypedKind.TimestampMillis or TypedKind.TimestampMicros:
                BinaryPrimitives.WriteInt64BigEndian(into, cell.Value.Integer);
                return into[..8];
            case TypedKind.Date:
                BinaryPrimitives.WriteInt32BigEndian(into, (int)cell.Value.Integer);
                return into[..4];
            case TypedKind.Uuid:
                return Guid.ParseExact(cell.Value.Text!, "D").ToByteArray(bigEndian: true);
            case TypedKind.Bytes or TypedKind.Decimal:
                return cell.Value.Binary;
            case TypedKind.Int:
                BinaryPrimitives.WriteInt32BigEndian(into, (int)cell.Value.Integer);
                return into[..4];
            case TypedKind.Long:
                BinaryPrimitives.WriteInt64BigEndian(into, cell.Value.Integer);
                return into[..8];
            case TypedKind.Float:
                BinaryPrimitives.WriteSingleBigEndian(into, (float)cell.Value.Real);
                return into[..4];
            case TypedKind.Double:
                BinaryPrimitives.WriteDoubleBigEndian(into, cell.Value.Real);
                return into[..8];
            case TypedKind.Boolean:
                into[0] = cell.Value.Integer != 0 ? (byte)0xFF : (byte)0x00;
                return into[..1];
            default:
                throw new InvalidOperationException($"typed cell {cell.Qualifier} of kind {cell.Kind} has no binary form"); // strings are Text cells
        }
    }

    // One cell: UTF-8 text, or (Text null) a typed number or boolean in its binary form.
    private readonly record struct Cell(string Qualifier, string? Text, TypedKind Kind = default, TypedValue Value = default);

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
