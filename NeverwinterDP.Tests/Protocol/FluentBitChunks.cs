using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>
/// Writes bodies as Fluent Bit's <c>http</c> output sends them in its <c>msgpack</c> format: its chunk as it is,
/// entries one after another. The time is an EventTime, MessagePack extension type 0 of 8 bytes (seconds and
/// nanoseconds, big-endian uint32s), as <c>flb_time_append_to_msgpack</c> packs it; 2.1 and later wrap it with
/// the metadata map, <c>[[time, {}], record]</c> (<c>flb_log_event_encoder</c>); older releases send <c>[time, record]</c>.
/// </summary>
internal static class FluentBitChunks
{
    public sealed record Entry(uint Seconds, uint Nanos, IReadOnlyList<KeyValuePair<string, object?>> Record, bool V2 = true);

    public static byte[] Chunk(params Entry[] entries)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        foreach (var entry in entries)
        {
            writer.WriteArrayHeader(2);
            if (entry.V2)
            {
                writer.WriteArrayHeader(2);
                WriteEventTime(ref writer, entry.Seconds, entry.Nanos);
                writer.WriteMapHeader(0);
            }
            else
            {
                WriteEventTime(ref writer, entry.Seconds, entry.Nanos);
            }
            WriteMap(ref writer, entry.Record);
        }
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteEventTime(ref MessagePackWriter writer, uint seconds, uint nanos)
    {
        writer.WriteExtensionFormatHeader(new ExtensionHeader(0, 8));
        var body = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(body, seconds);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(4), nanos);
        writer.WriteRaw(body);
    }

    private static void WriteMap(ref MessagePackWriter writer, IReadOnlyList<KeyValuePair<string, object?>> map)
    {
        writer.WriteMapHeader(map.Count);
        foreach (var (key, value) in map)
        {
            writer.Write(key);
            WriteValue(ref writer, value);
        }
    }

    private static void WriteValue(ref MessagePackWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNil(); break;
            case string s: writer.Write(s); break;
            case bool b: writer.Write(b); break;
            case int i: writer.Write(i); break;
            case long l: writer.Write(l); break;
            case ulong u: writer.Write(u); break;
            case double d: writer.Write(d); break;
            case float f: writer.Write(f); break;
            case byte[] bytes: writer.Write(bytes); break;
            case IReadOnlyList<KeyValuePair<string, object?>> map: WriteMap(ref writer, map); break;
            case object?[] array:
                writer.WriteArrayHeader(array.Length);
                foreach (var item in array) WriteValue(ref writer, item);
                break;
            default: throw new ArgumentException($"cannot write {value.GetType()}");
        }
    }

    public static KeyValuePair<string, object?> KV(string key, object? value) => new(key, value);

    public static IReadOnlyList<KeyValuePair<string, object?>> Map(params KeyValuePair<string, object?>[] pairs) => pairs;
}
