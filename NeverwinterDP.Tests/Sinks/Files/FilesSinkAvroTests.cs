using Avro.File;
using Avro.Generic;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Files.FilesSinkTestKit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Files;

public class FilesSinkAvroTests
{
    [Theory]
    [InlineData(AvroCodec.Deflate, "deflate")]
    [InlineData(AvroCodec.Null, "null")]
    public async Task Avro_files_are_read_by_Apache_Avro_DataFileReader_with_the_right_records(AvroCodec codec, string codecName)
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path, format: FilesFormat.Avro, codec: codec);
        var batch = Records(0, 2999, TenOClock).Concat(Records(3000, 3009, ElevenOClock)).ToList();

        await WriteAllDelivered(sink, batch);
        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal(
            [
                Path.Combine(HourDirectory(dir.Path, TenOClock), FinalName(0, 0, 2999, ".avro")),
                Path.Combine(HourDirectory(dir.Path, ElevenOClock), FinalName(0, 3000, 3009, ".avro")),
            ],
            PublishedFiles(dir.Path));
        var read = new List<GenericRecord>();
        foreach (var file in PublishedFiles(dir.Path))
        {
            using var reader = DataFileReader<GenericRecord>.OpenReader(file);
            Assert.Equal(codecName, reader.GetMetaString("avro.codec"));
            Assert.Equal("neverwinterdp.LogEvent", reader.GetSchema().Fullname);
            while (reader.HasNext()) read.Add(reader.Next());
        }

        Assert.Equal(batch.Count, read.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var expected = batch[i].Event;
            var record = read[i];
            Assert.Equal(expected.Message, record["message"]);
            Assert.Equal(expected.SystemTs, record["system_ts"]);
            Assert.Equal(expected.Host, record["host"]);
            Assert.Equal("4711", ((IDictionary<string, object>)record["attributes"])["user"]);
            Assert.Equal(expected.Lineage.SourceSeq, ((GenericRecord)record["lineage"])["source_seq"]);
        }
    }

    [Fact]
    public async Task Avro_files_hold_exactly_the_bytes_of_our_encoder_so_they_decode_back_to_the_events()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path, format: FilesFormat.Avro, codec: AvroCodec.Null);
        var batch = Records(0, 9, TenOClock);

        await WriteAllDelivered(sink, batch);
        await sink.FlushAsync(CancellationToken.None);

        using var reader = DataFileReader<GenericRecord>.OpenReader(Assert.Single(PublishedFiles(dir.Path)));
        var i = 0;
        while (reader.HasNext())
        {
            var record = reader.Next();
            Assert.Equal(batch[i++].Event.Message, record["message"]);
        }
        Assert.Equal(10, i);
        Assert.Equal(batch[0].Event, LogEventAvro.Decode(LogEventAvro.Encode(batch[0].Event)));
    }

    [Fact]
    public async Task Replaying_into_Avro_files_after_a_restart_writes_no_duplicate_records()
    {
        using var dir = new TempDir();
        var all = Records(0, 199, TenOClock);
        await using (var first = Sink(dir.Path, format: FilesFormat.Avro))
        {
            await WriteAllDelivered(first, all[..120]);
            await first.FlushAsync(CancellationToken.None);
            await WriteAllDelivered(first, all[120..160]); // left as a temporary file
        }
        await using (var second = Sink(dir.Path, format: FilesFormat.Avro))
        {
            await WriteAllDelivered(second, all[100..]);
            await second.FlushAsync(CancellationToken.None);
        }

        var messages = new List<string>();
        foreach (var file in PublishedFiles(dir.Path))
        {
            using var reader = DataFileReader<GenericRecord>.OpenReader(file);
            while (reader.HasNext()) messages.Add((string)reader.Next()["message"]);
        }
        Assert.Equal(all.Select(r => Key(r.Topic, r.Partition, r.Offset)), messages);
        Assert.Empty(TemporaryFiles(dir.Path));
    }
}
