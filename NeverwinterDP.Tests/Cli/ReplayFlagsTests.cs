using NeverwinterDP.Actors.Replay;
using NeverwinterDP.Host.Cli;
using NeverwinterDP.Host.Cli.Ops;
using Xunit;

namespace NeverwinterDP.Tests.Cli;

public sealed class ReplayFlagsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 15, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-12-05T14:00:00Z", 1796479200000)]
    [InlineData("2026-12-05T14:00:00", 1796479200000)]
    [InlineData("2026-12-05T15:00:00+01:00", 1796479200000)]
    [InlineData("1796479200", 1796479200000)]
    [InlineData("1796479200000", 1796479200000)]
    [InlineData("1h", 1796479200000)]
    [InlineData("now", 1796482800000)]
    public void Times_are_read_as_rfc3339_epoch_seconds_or_milliseconds_now_or_a_duration_ago(string raw, long ms)
    {
        Assert.True(Flags.TryParseTime(raw, Now, out var parsed));
        Assert.Equal(ms, parsed);
    }

    [Fact]
    public void A_time_that_is_none_of_those_is_refused()
    {
        Assert.False(Flags.TryParseTime("yesterday-ish", Now, out _));
    }

    [Fact]
    public void The_resume_command_of_a_request_with_a_relative_time_names_the_same_job()
    {
        var request = new ReplayRequest { Type = "web", From = 1796479200123, Sink = "pg" };
        var command = ReplayVerbs.ResumeCommand(request);
        Assert.Equal("nwdp replay --topic nwdp.logs.web --from 2026-12-05T14:00:00.123Z --sink pg", command);
        var parsed = CliApp.Parse(command.Split(' ')[1..]);
        Assert.Empty(parsed.Errors);
        Assert.True(Flags.TryParseTime("2026-12-05T14:00:00.123Z", Now, out var from));
        Assert.Equal(request.Id(), (request with { Type = null, Topic = "nwdp.logs.web", From = from }).Id());
    }
}
