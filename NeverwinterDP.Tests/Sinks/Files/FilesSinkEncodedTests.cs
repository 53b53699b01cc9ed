using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Files.FilesSinkTestKit;

namespace NeverwinterDP.Tests.Sinks.Files;

/// <summary>The files sink writes records the pump left encoded (<see cref="SinkRecord.FromBus"/>) as it writes decoded ones.</summary>
public class FilesSinkEncodedTests
{
    private static SinkRecord Encoded(SinkRecord record)
    {
        var encoded = SinkRecord.FromBus(record.Topic, record.Partition, record.Offset, LogEventAvro.EncodeFramed(record.Event), new RecentStrings());
        Assert.NotNull(encoded.Framed);
        return encoded;
    }

    [Fact]
    public async Task Encoded_records_give_the_same_files_byte_for_byte_as_decoded_ones()
    {
        using var decodedDir = new TempDir();
        using var encodedDir = new TempDir();
        var batch = Records(1000, 1019, TenOClock).Concat(Records(1020, 1029, ElevenOClock)).ToList();
        await using (var sink = Sink(decodedDir.Path))
        {
            await WriteAllDelivered(sink, batch);
            await sink.FlushAsync(CancellationToken.None);
        }
        var encoded = batch.Select(Encoded).ToList();
        Assert.All(encoded, r => Assert.NotNull(r.Framed));
        await using (var sink = Sink(encodedDir.Path))
        {
            Assert.True(sink.ReadsEncoded);
            await WriteAllDelivered(sink, encoded);
            await sink.FlushAsync(CancellationToken.None);
        }

        var files = PublishedFiles(decodedDir.Path).Select(f => Path.GetRelativePath(decodedDir.Path, f)).ToList();
        Assert.Equal(2, files.Count);
        Assert.Equal(files, PublishedFiles(encodedDir.Path).Select(f => Path.GetRelativePath(encodedDir.Path, f)));
        foreach (var file in files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(decodedDir.Path, file)), File.ReadAllBytes(Path.Combine(encodedDir.Path, file)));
        AssertPublishedExactly(encodedDir.Path, batch);
    }

    [Fact]
    public void An_encoded_record_decodes_on_demand_equals_its_decoded_twin_and_a_copy_with_another_event_is_decoded()
    {
        var record = Record(5, TenOClock + 5);
        var encoded = Encoded(record);

        Assert.Equal((record.SystemTs, record.Type, record.MessageBytes, record.IngressNode), (encoded.SystemTs, encoded.Type, encoded.MessageBytes, encoded.IngressNode));
        Assert.Equal(record, encoded);
        var changed = encoded with { Event = record.Event with { Message = "changed" } };
        Assert.Null(changed.Framed);
        Assert.Equal("changed", changed.Event.Message);
        Assert.NotNull(encoded.Framed);
    }

    [Fact]
    public async Task The_Avro_format_does_not_read_encoded_records()
    {
        using var dir = new TempDir();
        await using var sink = Sink(dir.Path, format: Actors.Sinks.Files.FilesFormat.Avro);
        Assert.False(sink.ReadsEncoded);
    }
}
