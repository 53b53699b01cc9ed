using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NeverwinterDP.Protocol;

/// <summary>
/// Writes a <see cref="LogEvent"/> as one NDJSON line: <c>ts, system_ts, host, ip, process, type, version,
/// level, msg, attributes, lineage{node,seq[,sender]}</c>. The files sink's format, and what <see cref="EventParser"/>
/// reads back (attributes merge; system_ts and lineage become attributes).
/// </summary>
public static class LogEventJson
{
    // Relaxed escaping keeps non-ASCII text readable in the files; the output is never embedded in HTML.
    private static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

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

    // A Utf8JsonWriter per thread, re-pointed with Reset, instead of one per line. Between lines it points at
    // Detached so it does not keep the caller's buffer alive (Reset(Stream) would allocate every time).
    [ThreadStatic] private static Utf8JsonWriter? t_writer;
    private static readonly ArrayBufferWriter<byte> Detached = new(1);

    /// <summary>Appends the event's JSON object and a <c>\n</c> to <paramref name="output"/>.</summary>
    public static void WriteLine(LogEvent logEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(output);

        var writer = Attach(output);
        try
        {
            Write(writer, logEvent);
            writer.Flush();
        }
        finally
        {
            writer.Reset(Detached);
        }
        EndLine(output);
    }

    private static Utf8JsonWriter Attach(IBufferWriter<byte> output)
    {
        var writer = t_writer;
        if (writer is null) t_writer = writer = new Utf8JsonWriter(output, Options);
        else writer.Reset(output);
        return writer;
    }

    private static void EndLine(IBufferWriter<byte> output)
    {
        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    /// <summary>
    /// Appends the NDJSON line of a framed plain LogEvent straight from its Avro bytes, byte for byte the line
    /// <see cref="WriteLine(LogEvent, IBufferWriter{byte})"/> writes for the decoded event, without making the event
    /// (the Avro fields come in the line's order). Only for a record <see cref="LogEventAvro.TryScanFramed"/> accepted.
    /// </summary>
    public static void WriteLineFromAvro(ReadOnlySpan<byte> frame, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var payload = ConfluentWireFormat.Unframe(frame, out var schemaId);
        var writer = Attach(output);
        try
        {
            var r = new AvroBinaryReader(payload);
            writer.WriteStartObject();
            writer.WriteNumber(Ts, r.ReadLong("ts"));
            writer.WriteNumber(SystemTs, r.ReadLong("system_ts"));
            writer.WriteString(Host, r.ReadUtf8("host"));
            writer.WriteString(Ip, r.ReadUtf8("ip"));
            writer.WriteString(Process, r.ReadUtf8("process"));
            writer.WriteString(Type, r.ReadUtf8("type"));
            writer.WriteString(Version, r.ReadUtf8("version"));
            writer.WriteString(Level, r.ReadUtf8("level"));
            writer.WriteString(Msg, r.ReadUtf8("message"));
            writer.WriteStartObject(Attributes);
            long count;
            while ((count = r.ReadBlockCount("attributes")) != 0)
            {
                for (long i = 0; i < count; i++)
                {
                    var key = r.ReadUtf8("attributes");
                    writer.WriteString(key, r.ReadUtf8("attributes"));
                }
            }
            writer.WriteEndObject();
            writer.WriteStartObject(Lineage);
            writer.WriteString(Node, r.ReadUtf8("lineage.ingress_node"));
            writer.WriteNumber(Seq, r.ReadLong("lineage.source_seq"));
            if (schemaId != SchemaIds.LogEventV1 && LogEventAvro.HasSender(ref r)) writer.WriteString(Sender, r.ReadUtf8("lineage.sender"));
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.Flush();
        }
        finally
        {
            writer.Reset(Detached);
        }
        EndLine(output);
    }

    /// <summary>The event's NDJSON line, <c>\n</c> included, as a new array.</summary>
    public static byte[] ToLine(LogEvent logEvent)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteLine(logEvent, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the event as a JSON object into any writer, e.g. inside a larger document.</summary>
    public static void Write(Utf8JsonWriter writer, LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(logEvent);

        writer.WriteStartObject();
        writer.WriteNumber(Ts, logEvent.Ts);
        writer.WriteNumber(SystemTs, logEvent.SystemTs);
        writer.WriteString(Host, logEvent.Host);
        writer.WriteString(Ip, logEvent.Ip);
        writer.WriteString(Process, logEvent.Process);
        writer.WriteString(Type, logEvent.Type);
        writer.WriteString(Version, logEvent.Version);
        writer.WriteString(Level, logEvent.Level);
        writer.WriteString(Msg, logEvent.Message);
        writer.WriteStartObject(Attributes);
        if (logEvent.Attributes is Dictionary<string, string> dictionary)
        {
            foreach (var (key, value) in dictionary) writer.WriteString(key, value); // struct enumerator
        }
        else if (logEvent.Attributes.Count > 0) // an interface enumerator allocates
        {
            foreach (var (key, value) in logEvent.Attributes) writer.WriteString(key, value);
        }
        writer.WriteEndObject();
        writer.WriteStartObject(Lineage);
        writer.WriteString(Node, logEvent.Lineage.IngressNode);
        writer.WriteNumber(Seq, logEvent.Lineage.SourceSeq);
        if (logEvent.Lineage.Sender is { } sender) writer.WriteString(Sender, sender); // only with an API key
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
