using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Elasticsearch;

/// <summary>One _bulk request's share of a batch: a contiguous slice of the batch's body and the records in it.</summary>
internal readonly record struct BulkSlice(int FirstItem, int ItemCount, int Start, int Length);

/// <summary>
/// Writes a batch as one NDJSON _bulk body (an action line and a source line per record) and cuts it into
/// slices of at most <c>max-bulk-bytes</c>. The body is written once; each request sends a slice of it.
/// </summary>
internal sealed class BulkBody
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly JsonEncodedText Create = JsonEncodedText.Encode("create");
    private static readonly JsonEncodedText IndexName = JsonEncodedText.Encode("_index");
    private static readonly JsonEncodedText Id = JsonEncodedText.Encode("_id");
    private static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("@timestamp");
    private static readonly JsonEncodedText Ts = JsonEncodedText.Encode("ts");
    private static readonly JsonEncodedText SystemTs = JsonEncodedText.Encode("system_ts");
    private static readonly JsonEncodedText Host = JsonEncodedText.Encode("host");
    private static readonly JsonEncodedText Ip = JsonEncodedText.Encode("ip");
    private static readonly JsonEncodedText Process = JsonEncodedText.Encode("process");
    private static readonly JsonEncodedText Type = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText Level = JsonEncodedText.Encode("level");
    private static readonly JsonEncodedText Msg = JsonEncodedText.Encode("msg");
    private static readonly JsonEncodedText Attributes = JsonEncodedText.Encode("attributes");
    private static readonly JsonEncodedText Lineage = JsonEncodedText.Encode("lineage");
    private static readonly JsonEncodedText Node = JsonEncodedText.Encode("node");
    private static readonly JsonEncodedText Seq = JsonEncodedText.Encode("seq");
    private static readonly JsonEncodedText Sender = JsonEncodedText.Encode("sender");

    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly Utf8JsonWriter _writer;
    private readonly List<int> _ends = new();     // per item: where its two lines end in _buffer
    private readonly List<int> _records = new();  // per item: its index in the batch

    public BulkBody() => _writer = new Utf8JsonWriter(_buffer, WriterOptions);

    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    public int ItemCount => _ends.Count;

    /// <summary>The batch index of the item (items skip records refused before sending).</summary>
    public int RecordOf(int item) => _records[item];

    /// <summary>The document id: the record's place on the bus, so a replay names the same document.</summary>
    public static string DocumentId(SinkRecord record) =>
        string.Create(CultureInfo.InvariantCulture, $"{record.Topic}-{record.Partition}-{record.Offset}");

    public void Clear()
    {
        // A one-off huge batch should not pin its buffer for the sink's lifetime.
        if (_buffer.Capacity > 64 * 1024 * 1024) _buffer.Clear();
        _buffer.ResetWrittenCount();
        _ends.Clear();
        _records.Clear();
    }

    /// <summary>
    /// Appends <c>{"create":{"_index":..,"_id":..}}</c> and the document. <c>create</c> rather than <c>index</c>:
    /// a replayed record finds its document there and gets a 409 (counted delivered) instead of rewriting it as
    /// a new version (no reindexing work, the first copy stays as it was), and data streams, which the built-in
    /// <c>logs-*-*</c> template of Elasticsearch 8+ makes of our default names, accept only <c>create</c>.
    /// </summary>
    public void Add(int recordIndex, SinkRecord record, string index)
    {
        var e = record.Event;
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        _writer.WriteStartObject(Create);
        _writer.WriteString(IndexName, index);
        _writer.WriteString(Id, DocumentId(record));
        _writer.WriteEndObject();
        _writer.WriteEndObject();
        _writer.Flush();
        NewLine();

        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        // @timestamp: what Kibana/OpenSearch Dashboards and data streams expect; ts stays as the raw epoch ms.
        WriteTimestamp(e.Ts);
        _writer.WriteNumber(Ts, e.Ts);
        _writer.WriteNumber(SystemTs, e.SystemTs);
        _writer.WriteString(Host, e.Host);
        // Left out when unknown: the ECS mappings of Elasticsearch 8+ logs data streams type "ip" as an IP
        // address, and an empty string is not one (every event without an ip would be refused).
        if (e.Ip.Length > 0) _writer.WriteString(Ip, e.Ip);
        _writer.WriteString(Process, e.Process);
        _writer.WriteString(Type, e.Type);
        _writer.WriteString(Version, e.Version);
        _writer.WriteString(Level, e.Level);
        _writer.WriteString(Msg, e.Message);
        _writer.WriteStartObject(Attributes);
        if (e.Typed is { } typed)
        {
            WriteTyped(e.Attributes, typed);
        }
        else if (e.Attributes is Dictionary<string, string> dictionary)
        {
            foreach (var (key, value) in dictionary) _writer.WriteString(key, value);
        }
        else if (e.Attributes.Count > 0)
        {
            foreach (var (key, value) in e.Attributes) _writer.WriteString(key, value);
        }
        _writer.WriteEndObject();
        _writer.WriteStartObject(Lineage);
        _writer.WriteString(Node, e.Lineage.IngressNode);
        _writer.WriteNumber(Seq, e.Lineage.SourceSeq);
        if (e.Lineage.Sender is { } sender) _writer.WriteString(Sender, sender); // only with an API key
        _writer.WriteEndObject();
        _writer.WriteEndObject();
        _writer.Flush();
        NewLine();

        _ends.Add(_buffer.WrittenCount);
        _records.Add(recordIndex);
    }

    /// <summary>
    /// A typed log type's attributes: the untyped ones as strings, as for any event, and each typed field as a JSON
    /// value of its type under the same name (a null optional left out), which the index maps explicitly (<see cref="TypedMapping"/>).
    /// </summary>
    private void WriteTyped(IReadOnlyDictionary<string, string> attributes, TypedValues typed)
    {
        var schema = typed.Schema;
        foreach (var (key, value) in attributes)
        {
            if (!schema.IsTypedField(key)) _writer.WriteString(key, value); // typed ones are there as strings too
        }
        var fields = schema.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            var value = typed.Values[i];
            if (!value.HasValue) continue;
            _writer.WritePropertyName(fields[i].Name);
            switch (fields[i].Kind)
            {
                case TypedKind.Array: // a JSON array of its items: every field takes an array of its values
                    _writer.WriteStartArray();
                    foreach (var item in value.Items!) WriteValue(fields[i].Item!, item);
                    _writer.WriteEndArray();
                    break;
                case TypedKind.Map: // an object of its keys (a flattened field)
                    _writer.WriteStartObject();
                    for (var k = 0; k < value.Items!.Length; k++)
                    {
                        _writer.WritePropertyName(value.Keys![k]);
                        WriteValue(fields[i].Item!, value.Items[k]);
                    }
                    _writer.WriteEndObject();
                    break;
                default:
                    WriteValue(fields[i], value);
                    break;
            }
        }
    }

    private void WriteValue(TypedField field, TypedValue value)
    {
        switch (field.Kind)
        {
            case TypedKind.Int or TypedKind.Long: _writer.WriteNumberValue(value.Integer); break;
            case TypedKind.Float: _writer.WriteNumberValue((float)value.Real); break; // the float's shortest text, not the double's
            case TypedKind.Double: _writer.WriteNumberValue(value.Real); break;
            case TypedKind.Boolean: _writer.WriteBooleanValue(value.Integer != 0); break;
            case TypedKind.Decimal when TypedMapping.IsNumber(field):
                _writer.WriteRawValue(value.Text!, skipInputValidation: true); // digits and a point: the exact number
                break;
            default: _writer.WriteStringValue(value.Text); break; // strings, enum, uuid, bytes (base64), times and dates (ISO-8601)
        }
    }

    private void WriteTimestamp(long ts)
    {
        // The caller checked ts is a date .NET can hold (the index name needed it too).
        Span<char> text = stackalloc char[32];
        DateTimeOffset.FromUnixTimeMilliseconds(ts).UtcDateTime
            .TryFormat(text, out var written, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
        _writer.WriteString(Timestamp, text[..written]);
    }

    private void NewLine()
    {
        _buffer.GetSpan(1)[0] = (byte)'\n';
        _buffer.Advance(1);
    }

    /// <summary>Cuts the items into requests of at most <paramref name="maxBytes"/> (an item larger than that goes alone).</summary>
    public List<BulkSlice> Slices(long maxBytes)
    {
        var slices = new List<BulkSlice>();
        var first = 0;
        var start = 0;
        for (var i = 0; i < _ends.Count; i++)
        {
            if (i > first && _ends[i] - start > maxBytes)
            {
                slices.Add(Slice(first, i));
                first = i;
                start = _ends[i - 1];
            }
        }
        if (first < _ends.Count) slices.Add(Slice(first, _ends.Count));
        return slices;
    }

    /// <summary>Items [first, end) as one slice.</summary>
    public BulkSlice Slice(int first, int end)
    {
        var start = first == 0 ? 0 : _ends[first - 1];
        return new BulkSlice(first, end - first, start, _ends[end - 1] - start);
    }
}
