using System.Buffers;
using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using MessagePack;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;

namespace NeverwinterDP.Host.Bench;

/// <summary>
/// How <c>nwdp bench</c> sends a batch through one of the node's inputs: the route, the Content-Type, the body
/// made from the generator's NDJSON lines, and what in a 2xx answer still means events were refused (a
/// <c>_bulk</c> item error, an OTLP partial success). Every format carries the same fields (ts, host, process,
/// level, type, msg, req_id) the way that input's senders do (docs/inputs.md), so the end-to-end check finds
/// each event by its <c>msg</c> whatever the format.
/// </summary>
public abstract class BenchFormat
{
    /// <summary>The names <c>--format</c> takes.</summary>
    public static readonly IReadOnlyList<string> Names = ["ndjson", "bulk", "hec", "msgpack", "otlp", "syslog", "zeromq"];

    /// <summary>The format named <paramref name="name"/>; null when there is none.</summary>
    public static BenchFormat? Named(string name, string? hecToken = null) => name switch
    {
        "ndjson" => new NdjsonFormat(),
        "bulk" => new BulkFormat(),
        "hec" => new HecFormat(hecToken ?? ""),
        "msgpack" => new MessagePackFormat(),
        "otlp" => new OtlpFormat(),
        "syslog" => new SyslogFormat(),
        "zeromq" => new ZeroMqFormat(),
        _ => null,
    };

    public abstract string Name { get; }

    /// <summary>The route under the node's base URL (HTTP inputs; empty for the others).</summary>
    public abstract string Path { get; }

    /// <summary>Whether batches are HTTP requests; when false, <see cref="CreateTransport"/> sends them and the URL is <c>tcp://HOST:PORT</c>.</summary>
    public virtual bool OverHttp => true;

    /// <summary>What sends the batches of an input that is not HTTP (<see cref="OverHttp"/> false); null for HTTP.</summary>
    public virtual BenchTransport? CreateTransport(BenchOptions options) => null;

    public abstract string ContentType { get; }

    /// <summary>Whether <see cref="Encode"/> is needed: false when the NDJSON lines are the body.</summary>
    public virtual bool Transcodes => true;

    /// <summary>Whether a 2xx answer must be read for refusals (<see cref="Refusal"/>).</summary>
    public virtual bool ReadsAnswer => false;

    public virtual void AddHeaders(HttpRequestHeaders headers) { }

    /// <summary>Writes the body for the NDJSON lines in <paramref name="ndjson"/> (each ending in '\n').</summary>
    public abstract void Encode(ReadOnlySpan<byte> ndjson, ArrayBufferWriter<byte> body);

    /// <summary>What a 2xx answer says was refused, or null when everything was taken.</summary>
    public virtual string? Refusal(byte[] answer) => null;

    /// <summary>Calls <paramref name="each"/> with every line of <paramref name="ndjson"/>, without its newline.</summary>
    protected static void ForEachLine(ReadOnlySpan<byte> ndjson, ArrayBufferWriter<byte> body, LineWriter each)
    {
        while (NextLine(ref ndjson, out var line)) each(line, body);
    }

    /// <summary>Takes the next line that is not empty off <paramref name="ndjson"/> (without its newline); false at the end.</summary>
    protected static bool NextLine(ref ReadOnlySpan<byte> ndjson, out ReadOnlySpan<byte> line)
    {
        while (!ndjson.IsEmpty)
        {
            var end = ndjson.IndexOf((byte)'\n');
            line = end < 0 ? ndjson : ndjson[..end];
            ndjson = end < 0 ? [] : ndjson[(end + 1)..];
            if (!line.IsEmpty) return true;
        }
        line = default;
        return false;
    }

    protected delegate void LineWriter(ReadOnlySpan<byte> line, ArrayBufferWriter<byte> body);

    /// <summary>One generator line's fields (the generator writes exactly these, <c>ts</c> a number, the rest strings).</summary>
    protected readonly record struct Fields(long Ts, string Host, string Process, string Level, string Type, string Msg, string ReqId)
    {
        public static Fields Parse(ReadOnlySpan<byte> line)
        {
            var reader = new Utf8JsonReader(line);
            long ts = 0;
            string host = "", process = "", level = "", type = "", msg = "", reqId = "";
            reader.Read(); // {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "ts": ts = reader.GetInt64(); break;
                    case "host": host = reader.GetString()!; break;
                    case "process": process = reader.GetString()!; break;
                    case "level": level = reader.GetString()!; break;
                    case "type": type = reader.GetString()!; break;
                    case "msg": msg = reader.GetString()!; break;
                    case "req_id": reqId = reader.GetString()!; break;
                    default: reader.Skip(); break;
                }
            }
            return new Fields(ts, host, process, level, type, msg, reqId);
        }
    }

    private static void Write(ArrayBufferWriter<byte> body, ReadOnlySpan<byte> bytes) => body.Write(bytes);

    /// <summary><c>POST /v1/events</c>, the lines as they are.</summary>
    private sealed class NdjsonFormat : BenchFormat
    {
        public override string Name => "ndjson";
        public override string Path => "/v1/events";
        public override string ContentType => "application/x-ndjson";
        public override bool Transcodes => false;
        public override void Encode(ReadOnlySpan<byte> ndjson, ArrayBufferWriter<byte> body) => Write(body, ndjson);
    }

    /// <summary>Elasticsearch <c>POST /_bulk</c>: a <c>create</c> action into the type's index before each line, as Filebeat or Vector write.</summary>
    private sealed class BulkFormat : BenchFormat
    {
        public override string Name => "bulk";
        public override string Path => "/_bulk";
        public override string ContentType => "application/x-ndjson";
        public override bool ReadsAnswer => true;

        public override void Encode(ReadOnlySpan<byte> ndjson, ArrayBufferWriter<byte> body) => ForEachLine(ndjson, body, static (line, body) =>
        {
            var type = Fields.Parse(line).Type;
            Write(body, "{\"create\":{\"_index\":\""u8);
            Write(body, Encoding.UTF8.GetBytes(type)); // the generator's types are letters, digits, '.', '_', '-'
            Write(body, "\"}}\n"u8);
            Write(body, line);
            Write(body, "\n"u8);
        });

        public override string? Refusal(byte[] answer)
        {
            using var doc = JsonDocument.Parse(answer);
            if (!doc.RootElement.TryGetProperty("errors", out var errors) || !errors.GetBoolean()) return null;
            var failed = doc.RootElement.GetProperty("items").EnumerateArray()
                .Select(i => i.EnumerateObject().First().Value)
                .Where(r => r.GetProperty("status").GetInt32() >= 300).ToList();
            return $"_bulk: {failed.Count} items refused, e.g. {failed.FirstOrDefault()}";
        }
    }

    /// <summary>Splunk HEC <c>POST /services/collector/event</c>: each line as the <c>event</c> object, the type as <c>sourcetype</c>.</summary>
    private sealed class HecFormat(string token) : BenchFormat
    {
        public override string Name => "hec";
        public override string Path => "/services/collector/event";
        public override string ContentType => "application/json";

        public override void AddHeaders(HttpRequestHeaders headers) => headers.TryAddWithoutValidation("Authorization", "Splunk " + token);

        public override void Encode(ReadOnlySpan<byte> ndjson, ArrayBufferWriter<byte> body) => ForEachLine(ndjson, body, static (line, body) =>
        {
            var f = Fields.Parse(line);
            Write(body, "{\"time\":"u8);
            Write(body, Encoding.ASCII.GetBytes((f.Ts / 1000m).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Write(body, ",\"sourcetype\":\""u8);
            Write(body, Encoding.UTF8.GetBytes(f.Type));
            Write(body, "\",\"event\":"u8);
            Write(body, line);
            Write(body, "}\n"u8);
        });
    }

    /// <summary>
    /// Fluent Bit's <c>http</c> output in its default <c>msgpack</c> format on <c>/v1/fluent-bit</c>: entries
    /// <c>[[EventTime, {}], record]</c> back to back (Fluent Bit 2.1 and later).
    /// </summary>
    private sealed class MessagePackFormat : BenchFormat
    {
        public override string Name => "msgpack";
        public override string Path => "/v1/fluent-bit";
        public override string ContentType => "application/msgpack";

        public override void Encode(ReadOnlySpan<byte> ndjson, ArrayBufferWriter<byte> body)
        {
            var writer = new MessagePackWriter(body);
            Span<byte> time = stackalloc byte[8];
            while (NextLine(ref ndjson, out var line))
            {
                var f = Fields.Parse(line);
                writer.WriteArrayHeader(2);
                writer.WriteArrayHeader(2);
                BinaryPrimitives.WriteUInt32BigEndian(time, (uint)(f.Ts / 1000));
                BinaryPrimitives.WriteUInt32BigEndian(time[4..], (uint)(f.Ts % 1000 * 1_000_000));
                writer.WriteExtensionFormat(new ExtensionResult(0, time.ToArray())); // Fluent Bit's EventTime
                writer.WriteMapHeader(0);
                writer.WriteMapHeader(6);
                writer.Write("host"); writer.Write(f.Host);
                writer.Write("process"); writer.Write(f.Process);
                writer.Write("level"); writer.Write(f.Level);
                writer.Write("type"); writer.Write(f.Type);
                writer.Write("msg"); writer.Write(f.Msg);
                writer.Write("req_id"); writer.Write(f.ReqId);
            }
            writer.Flush();
        }
    }

    /// <summary>
    /// OTLP/HTTP <c>POST /v1/logs</c> in protobuf, as the OpenTelemetry SDKs send: one resource per host
    /// (<c>host.name</c>), one scope per process (<c>service.name</c>), the type as <c>nwdp.type</c>.
    /// </summary>
    private sealed class OtlpFormat : BenchFormat
    {
        public override string Name => "otlp";
        public override string Path => "/v1/logs";
        public override string ContentType => "application/x-protobuf";
        public override bool ReadsAnswer => true;

        public override void Encode(ReadOnlySpan<byte> ndjson, ArrayBufferWriter<byte> body)
        {
            var request = new ExportLogsServiceRequest();
            var resources = new Dictionary<(string Host, string Process), ScopeLogs>();
            while (NextLine(ref ndjson, out var line))
            {
                var f = Fields.Parse(line);
                if (!resources.TryGetValue((f.Host, f.Process), out var scope))
                {
                    var resource = new ResourceLogs { Resource = new OpenTelemetry.Proto.Resource.V1.Resource() };
                    resource.Resource.Attributes.Add(Attribute("host.name", f.Host));
                    resource.Resource.Attributes.Add(Attribute("service.name", f.Process));
                    scope = new ScopeLogs { Scope = new InstrumentationScope { Name = "nwdp-bench" } };
                    resource.ScopeLogs.Add(scope);
                    request.ResourceLogs.Add(resource);
                    resources[(f.Host, f.Process)] = scope;
                }
                var record = new LogRecord
                {
                    TimeUnixNano = (ulong)f.Ts * 1_000_000,
                    SeverityNumber = f.Level switch
                    {
                        "debug" => SeverityNumber.Debug,
                        "warn" => SeverityNumber.Warn,
                        "error" => SeverityNumber.Error,
                        _ => SeverityNumber.Info,
                    },
                    SeverityText = f.Level,
                    Body = new AnyValue { StringValue = f.Msg },
                };
                record.Attributes.Add(Attribute("nwdp.type", f.Type));
                record.Attributes.Add(Attribute("req_id", f.ReqId));
                scope.LogRecords.Add(record);
            }
            var size = request.CalculateSize();
            request.WriteTo(body.GetSpan(size)[..size]);
            body.Advance(size);
        }

        private static KeyValue Attribute(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

        public override string? Refusal(byte[] answer)
        {
            var response = ExportLogsServiceResponse.Parser.ParseFrom(answer);
            return response.PartialSuccess is { RejectedLogRecords: > 0 } partial
                ? $"OTLP partial success: {partial.RejectedLogRecords} records rejected: {partial.ErrorMessage}"
                : null;
        }
    }

    /// <summary>
    /// Syslog over TCP (<c>nwdp.inputs.syslog.tcp-port</c>): each line as an RFC 5424 message with octet-counting
    /// framing (RFC 6587), <c>LEN &lt;PRI&gt;1 TIMESTAMP HOST PROCESS - - [nwdp req_id="..."] MSG</c>, facility
    /// <c>user</c> and the level as severity. The node gives every syslog event its <c>nwdp.inputs.syslog.type</c>,
    /// not the line's type. Not acknowledged: see <see cref="BenchTransport.SyslogTcp"/>.
    /// </summary>
    private sealed class SyslogFormat : BenchFormat
    {
        public override string Name => "syslog";
        public override string Path => "";
        public override string ContentType => "";
        public override bool OverHttp => false;

        public override BenchTransport CreateTransport(BenchOptions options) =>
            new BenchTransport.SyslogTcp(options.Url.Host, options.Url.Port, options.Concurrency);

        public override void Encode(ReadOnlySpan<byte> ndjson, ArrayBufferWriter<byte> body)
        {
            var message = new StringBuilder(512);
            while (NextLine(ref ndjson, out var line))
            {
                var f = Fields.Parse(line);
                var severity = f.Level switch
                {
                    "debug" => 7,
                    "warn" => 4,
                    "error" => 3,
                    _ => 6,
                };
                message.Clear()
                    .Append('<').Append(8 + severity).Append(">1 ") // facility user (1)
                    .Append(DateTimeOffset.FromUnixTimeMilliseconds(f.Ts).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture))
                    .Append(' ').Append(f.Host).Append(' ').Append(f.Process)
                    .Append(" - - [nwdp req_id=\"").Append(f.ReqId).Append("\"] ").Append(f.Msg);
                var bytes = Encoding.UTF8.GetBytes(message.ToString());
                Write(body, Encoding.ASCII.GetBytes(bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + " "));
                Write(body, bytes);
            }
        }
    }

    /// <summary>
    /// The ZeroMQ input (<c>nwdp.inputs.zeromq.port</c>): the NDJSON lines as one batch from a DEALER socket, each
    /// answered once durable (<see cref="BenchTransport.ZeroMq"/>).
    /// </summary>
    private sealed class ZeroMqFormat : BenchFormat
    {
        public override string Name => "zeromq";
        public override string Path => "";
        public override string ContentType => "";
        public override bool OverHttp => false;
        public override bool Transcodes => false;

        public override BenchTransport CreateTransport(BenchOptions options) =>
            new BenchTransport.ZeroMq($"tcp://{options.Url.Host}:{options.Url.Port}", options.Concurrency);

        public override void Encode(ReadOnlySpan<byte> ndjson, ArrayBufferWriter<byte> body) => Write(body, ndjson);
    }
}
