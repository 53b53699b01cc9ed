using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.ClickHouse;

/// <summary>
/// The table's columns and one <c>JSONEachRow</c> line per record, written by hand: every string goes to the
/// server as it is, lone UTF-16 surrogates included (as <c>\uXXXX</c> escapes), so it is the server that
/// accepts or refuses a value, and a refusal is one row's (System.Text.Json would fail or alter the text here).
/// </summary>
internal static class ClickHouseRows
{
    /// <summary>Day 0 and the last day ClickHouse's Date holds in every version (18.x stops at 2105).</summary>
    private const long MaxDateMs = 4_291_747_199_999; // 2105-12-31T23:59:59.999Z

    private static readonly SearchValues<char> NeedsEscape = SearchValues.Create(
        Enumerable.Range(0, 0x20).Select(c => (char)c).Concat(['"', '\\']).Concat(Enumerable.Range(0xD800, 0x800).Select(c => (char)c)).ToArray());

    /// <summary>The column list of <c>CREATE TABLE</c>, valid on ClickHouse 18.16 and current releases.</summary>
    public const string Columns =
        "`date` Date, `ts` Int64, `system_ts` Int64, `host` String, `ip` String, `process` String, `type` String, " +
        "`version` String, `level` String, `message` String, `attributes` Nested(`key` String, `value` String), " +
        "`lineage_ingress_node` String, `lineage_source_seq` Int64, `topic` String, `partition` Int32, `offset` Int64, " +
        SenderColumn;

    /// <summary>The name of the API key the event came in with ('' without one): added after the first release, last.</summary>
    public const string SenderColumn = "`lineage_sender` String DEFAULT ''";

    /// <summary>Whether the row can be sent at all; false with a reason for what no ClickHouse Date can hold.</summary>
    public static bool CanWrite(SinkRecord record, out string? reason)
    {
        reason = record.Event is null ? "the record has no event"
            : record.Event.SystemTs is < 0 or > MaxDateMs ? $"system_ts {record.Event.SystemTs} is outside 1970-2105, the range of the date column (ClickHouse Date)"
            : null;
        return reason is null;
    }

    /// <summary>Appends one JSON object and a newline.</summary>
    public static void Write(SinkRecord record, ArrayBufferWriter<byte> output)
    {
        var e = record.Event;
        Raw(output, "{\"date\":\"");
        Raw(output, DateTime.UnixEpoch.AddMilliseconds(e.SystemTs).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Raw(output, "\",\"ts\":");
        Number(output, e.Ts);
        Raw(output, ",\"system_ts\":");
        Number(output, e.SystemTs);
        Field(output, "host", e.Host);
        Field(output, "ip", e.Ip);
        Field(output, "process", e.Process);
        Field(output, "type", e.Type);
        Field(output, "version", e.Version);
        Field(output, "level", e.Level);
        Field(output, "message", e.Message);
        Raw(output, ",\"attributes.key\":[");
        var first = true;
        foreach (var key in e.Attributes.Keys)
        {
            if (!first) Raw(output, ",");
            String(output, key);
            first = false;
        }
        Raw(output, "],\"attributes.value\":[");
        first = true;
        foreach (var value in e.Attributes.Values)
        {
            if (!first) Raw(output, ",");
            String(output, value);
            first = false;
        }
        Raw(output, "]");
        Field(output, "lineage_ingress_node", e.Lineage.IngressNode ?? "");
        Raw(output, ",\"lineage_source_seq\":");
        Number(output, e.Lineage.SourceSeq);
        Field(output, "topic", record.Topic);
        Raw(output, ",\"partition\":");
        Number(output, record.Partition);
        Raw(output, ",\"offset\":");
        Number(output, record.Offset);
        Field(output, "lineage_sender", e.Lineage.Sender ?? "");
        Raw(output, "}\n");
    }

    private static void Field(ArrayBufferWriter<byte> output, string name, string value)
    {
        Raw(output, ",\"");
        Raw(output, name);
        Raw(output, "\":");
        String(output, value);
    }

    private static void String(ArrayBufferWriter<byte> output, string text)
    {
        Raw(output, "\"");
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            var i = rest.IndexOfAny(NeedsEscape);
            var run = i < 0 ? rest : rest[..i];
            if (!run.IsEmpty)
            {
                var written = Encoding.UTF8.GetBytes(run, output.GetSpan(Encoding.UTF8.GetMaxByteCount(run.Length)));
                output.Advance(written);
            }
            if (i < 0) break;
            var c = rest[i];
            switch (c)
            {
                case '"': Raw(output, "\\\""); break;
                case '\\': Raw(output, "\\\\"); break;
                case '\n': Raw(output, "\\n"); break;
                case '\r': Raw(output, "\\r"); break;
                case '\t': Raw(output, "\\t"); break;
                default:
                    // Control characters and every surrogate (pairs too: the server joins \uD83D\uDE00 again).
                    Raw(output, "\\u");
                    Raw(output, ((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
            rest = rest[(i + 1)..];
        }
        Raw(output, "\"");
    }

    private static void Number(ArrayBufferWriter<byte> output, long value)
    {
        Utf8Formatter.TryFormat(value, output.GetSpan(20), out var written);
        output.Advance(written);
    }

    private static void Raw(ArrayBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        for (var i = 0; i < ascii.Length; i++) span[i] = (byte)ascii[i];
        output.Advance(ascii.Length);
    }
}
