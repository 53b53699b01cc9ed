using System.Text;
using NeverwinterDP.Host.Syslog;
using Xunit;

namespace NeverwinterDP.Tests.Syslog;

/// <summary>RFC 6587 framing (octet counting and newline framing, per frame) and RELP frames as librelp writes them.</summary>
public class SyslogFramingTests
{
    private static List<string> Frames(string stream, bool atEnd, out FrameStatus last, out string? error, int max = 100)
    {
        var bytes = Encoding.ASCII.GetBytes(stream);
        var frames = new List<string>();
        var at = 0;
        error = null;
        while (true)
        {
            last = SyslogFraming.TryRead(bytes.AsSpan(at), max, atEnd, out var payload, out var consumed, out error);
            if (last != FrameStatus.Frame) return frames;
            frames.Add(Encoding.ASCII.GetString(bytes.AsSpan(at)[payload]));
            at += consumed;
        }
    }

    [Fact]
    public void Octet_counting_and_newline_framing_are_told_apart_per_frame()
    {
        var frames = Frames("11 <13>1 - - -\n<13>hello\r\n\n5 ab\ncd<14>tail", atEnd: false, out var last, out _);

        Assert.Equal(["<13>1 - - -", "<13>hello", "ab\ncd"], frames);
        Assert.Equal(FrameStatus.NeedMore, last);
    }

    [Fact]
    public void A_last_line_without_LF_is_a_frame_when_the_sender_closed()
    {
        Assert.Equal(["<13>a", "<13>b"], Frames("<13>a\n<13>b", atEnd: true, out var last, out _));
        Assert.Equal(FrameStatus.NeedMore, last);
    }

    [Theory]
    [InlineData("12x <13>m", "must start with MSG-LEN")]
    [InlineData("101 ", "exceeds max-message-bytes (100)")]
    [InlineData("12345678901 x", "must start with MSG-LEN")]
    public void Broken_octet_counting_is_reported(string stream, string error)
    {
        Frames(stream, atEnd: false, out var last, out var message);

        Assert.Equal(FrameStatus.Broken, last);
        Assert.Contains(error, message);
    }

    [Fact]
    public void A_line_longer_than_the_limit_breaks_the_framing()
    {
        Frames("<13>" + new string('x', 200), atEnd: false, out var last, out var error);

        Assert.Equal(FrameStatus.Broken, last);
        Assert.Contains("no LF within max-message-bytes", error);
    }

    [Fact]
    public void An_octet_counted_frame_cut_by_the_close_is_broken()
    {
        Frames("20 <13>short", atEnd: true, out var last, out var error);

        Assert.Equal(FrameStatus.Broken, last);
        Assert.Contains("closed inside an octet-counted frame", error);
    }

    [Fact]
    public void Relp_frames_as_librelp_sends_them()
    {
        var stream = Encoding.ASCII.GetBytes("1 open 91 relp_version=0\nrelp_software=librelp,1.11.0,https://www.rsyslog.com/librelp\ncommands=syslog\n2 syslog 5 <13>x\n3 close 0\n4 syslo");
        var at = 0;
        var seen = new List<(long, string, string)>();
        while (RelpFraming.TryRead(stream.AsSpan(at), 1000, out var frame, out var consumed, out var error) is var status && status == FrameStatus.Frame)
        {
            seen.Add((frame.Txnr, frame.Command, Encoding.ASCII.GetString(stream.AsSpan(at)[frame.Data])));
            at += consumed;
            Assert.Null(error);
        }

        Assert.Equal([(1L, "open", "relp_version=0\nrelp_software=librelp,1.11.0,https://www.rsyslog.com/librelp\ncommands=syslog"), (2L, "syslog", "<13>x"), (3L, "close", "")], seen);
        Assert.Equal(FrameStatus.NeedMore, RelpFraming.TryRead(stream.AsSpan(at), 1000, out _, out _, out _));
    }

    [Theory]
    [InlineData("x open 0\n", "TXNR must be digits")]
    [InlineData("1 OPEN 0\n", "COMMAND must be 1 to 32 letters")]
    [InlineData("1 syslog 3 abcd\n", "is not ended by LF")]
    [InlineData("1 syslog 3abc\n", "followed by a space and DATA")]
    [InlineData("1 syslog 5000 ", "exceeds max-message-bytes")]
    public void Broken_relp_frames_are_reported(string stream, string error)
    {
        Assert.Equal(FrameStatus.Broken, RelpFraming.TryRead(Encoding.ASCII.GetBytes(stream), 1000, out _, out _, out var message));
        Assert.Contains(error, message);
    }

    [Fact]
    public void Relp_answers_are_rsp_frames_of_the_same_txnr()
    {
        Assert.Equal("7 rsp 6 200 OK\n", Encoding.ASCII.GetString(RelpFraming.Response(7, "200 OK")));
        Assert.Equal("8 rsp 0\n", Encoding.ASCII.GetString(RelpFraming.Response(8, "")));
    }
}
