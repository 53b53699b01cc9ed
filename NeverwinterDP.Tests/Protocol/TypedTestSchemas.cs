using Avro;
using Avro.Generic;
using Avro.IO;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>What the typed schema tests share: a log type's record compiled as the registry would, and a frame read back by Apache.Avro.</summary>
internal static class TypedTestSchemas
{
    /// <summary>The typed schema of log type <paramref name="type"/> whose attributes are <paramref name="record"/>, under registry id <paramref name="id"/>.</summary>
    public static TypedLogSchema Compile(int id, string type, string record) =>
        TypedLogSchema.TryCompile(id, TypedLogSchema.Wrap(type, record), out var why) ?? throw new InvalidOperationException(why);

    /// <summary>
    /// A Confluent frame read by Apache.Avro's generic reader with the registered schema (what Confluent's deserializers
    /// do); asserts that the record takes the whole frame.
    /// </summary>
    public static GenericRecord ReadFramed(byte[] frame, string type, string record)
    {
        var wrapped = (RecordSchema)Schema.Parse(TypedLogSchema.Wrap(type, record));
        var stream = new MemoryStream(frame, 5, frame.Length - 5);
        var read = new GenericDatumReader<GenericRecord>(wrapped, wrapped).Read(null!, new BinaryDecoder(stream));
        Assert.Equal(frame.Length - 5, stream.Position);
        return read;
    }
}
