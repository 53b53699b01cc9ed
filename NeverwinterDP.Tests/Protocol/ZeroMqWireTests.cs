using System.Text;
using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>The ZeroMQ transport's frames: [request-id][format][payload] in, [request-id][status][body] out.</summary>
public class ZeroMqWireTests
{
    private static readonly byte[] Id = [1, 2, 3, 4];

    private static List<ReadOnlyMemory<byte>> Frames(params byte[][] frames) => frames.Select(f => (ReadOnlyMemory<byte>)f).ToList();

    [Fact]
    public void A_request_written_by_the_client_reads_back_with_its_format_and_type()
    {
        var frames = ZeroMqWire.RequestFrames(Id, "ndjson;type=web", "{\"msg\":\"a\"}\n"u8);

        Assert.True(ZeroMqWire.TryReadRequest(Frames(frames), out var request, out var id, out var error), error);
        Assert.Equal(Id, request.RequestId);
        Assert.Equal(Id, id);
        Assert.Equal((ContentKind.Ndjson, "web"), (request.Kind, request.Type));
        Assert.Equal("{\"msg\":\"a\"}\n", Encoding.UTF8.GetString(request.Payload.Span));
    }

    [Theory]
    [InlineData("json", ContentKind.Json)]
    [InlineData("MSGPACK", ContentKind.MessagePack)]
    [InlineData(" ndjson ", ContentKind.Ndjson)]
    public void Every_format_of_v1_events_is_known(string format, ContentKind kind)
    {
        Assert.True(ZeroMqWire.TryReadFormat(Encoding.ASCII.GetBytes(format), out var read, out var type, out _));
        Assert.Equal((kind, (string?)null), (read, type));
    }

    [Theory]
    [InlineData("xml", "unknown format 'xml': use ndjson, json or msgpack")]
    [InlineData("ndjson;charset=utf-8", "unknown format parameter 'charset=utf-8': the one parameter is ';type=NAME'")]
    [InlineData("ndjson;type=", "unknown format parameter 'type=': the one parameter is ';type=NAME'")]
    public void An_unknown_format_is_refused_with_what_is_known(string format, string expected)
    {
        Assert.False(ZeroMqWire.TryReadRequest(Frames(Id, Encoding.ASCII.GetBytes(format), "x"u8.ToArray()), out _, out var id, out var error));
        Assert.Equal(Id, id); // answerable
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Missing_or_extra_frames_are_refused_and_answerable_when_the_id_reads()
    {
        Assert.False(ZeroMqWire.TryReadRequest(Frames(Id, "ndjson"u8.ToArray()), out _, out var id, out var error));
        Assert.Equal(Id, id);
        Assert.Equal("a request is [request-id][format][payload] after the empty delimiter: 3 frames; got 2", error);

        Assert.False(ZeroMqWire.TryReadRequest(Frames(Id, "ndjson"u8.ToArray(), [], []), out _, out id, out _));
        Assert.Equal(Id, id);
    }

    [Fact]
    public void An_empty_or_overlong_request_id_leaves_nothing_to_answer()
    {
        Assert.False(ZeroMqWire.TryReadRequest(Frames([], "ndjson"u8.ToArray(), []), out _, out var id, out var error));
        Assert.Null(id);
        Assert.Equal("the request id frame must hold 1 to 64 bytes; it holds 0", error);

        Assert.False(ZeroMqWire.TryReadRequest(Frames(new byte[65], "ndjson"u8.ToArray(), []), out _, out id, out _));
        Assert.Null(id);

        Assert.False(ZeroMqWire.TryReadRequest([], out _, out id, out error));
        Assert.Null(id);
        Assert.Equal("no frames after the empty delimiter", error);
    }

    [Fact]
    public void An_acknowledgement_carries_the_count_and_nothing_else()
    {
        var frames = ZeroMqWire.AnswerFrames(ZeroMqAnswer.Accept(Id, 42));

        Assert.Equal(Id, frames[0]);
        Assert.Equal("200", Encoding.ASCII.GetString(frames[1]));
        Assert.Equal("{\"accepted\":42}", Encoding.UTF8.GetString(frames[2]));
        var answer = ZeroMqWire.ReadAnswer(Frames(frames))!;
        Assert.True(answer.Durable);
        Assert.Equal(42, answer.Accepted);
    }

    [Fact]
    public void A_refusal_names_the_line_and_an_overload_gives_a_retry_hint()
    {
        var malformed = ZeroMqWire.AnswerFrames(ZeroMqAnswer.Refuse(Id, 400, "malformed", "field 'ts' must be a number or an RFC 3339 string", line: 3));
        Assert.Equal("{\"error\":\"field 'ts' must be a number or an RFC 3339 string\",\"reason\":\"malformed\",\"line\":3}", Encoding.UTF8.GetString(malformed[2]));
        var read = ZeroMqWire.ReadAnswer(Frames(malformed))!;
        Assert.Equal((400, "malformed", 3, false, false), (read.Status, read.Reason, read.Line, read.Durable, read.Transient));
        Assert.Equal("field 'ts' must be a number or an RFC 3339 string", read.Error);

        var overloaded = ZeroMqWire.ReadAnswer(Frames(ZeroMqWire.AnswerFrames(ZeroMqAnswer.Refuse(Id, 429, "too_many_batches", "busy", retryAfter: TimeSpan.FromSeconds(1)))))!;
        Assert.Equal((429, true, TimeSpan.FromSeconds(1)), (overloaded.Status, overloaded.Transient, overloaded.RetryAfter));
    }

    [Fact]
    public void Frames_that_are_not_an_answer_read_as_none()
    {
        Assert.Null(ZeroMqWire.ReadAnswer(Frames(Id, "OK"u8.ToArray(), "{}"u8.ToArray())));
        Assert.Null(ZeroMqWire.ReadAnswer(Frames(Id, "200"u8.ToArray(), "not json"u8.ToArray())));
        Assert.Null(ZeroMqWire.ReadAnswer(Frames(Id, "200"u8.ToArray())));
    }
}
