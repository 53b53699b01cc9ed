using System.Text;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Protocol.Samples;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>The examples of RFC 5424 (6.5) and RFC 3164 (5.4), byte for byte, and what rsyslog and logger send.</summary>
public class SyslogParserTests
{
    private static readonly SyslogSettings Settings = new("syslog", TimeZoneInfo.Utc);

    private static LogEvent Parse(string message, SyslogSettings? settings = null, IngressContext? context = null) =>
        Parse(Encoding.UTF8.GetBytes(message), settings, context);

    private static LogEvent Parse(byte[] message, SyslogSettings? settings = null, IngressContext? context = null)
    {
        Assert.True(SyslogParser.TryParse(message, settings ?? Settings, context ?? Context, out var e, out var error), error);
        return e;
    }

    private static string Refused(string message)
    {
        Assert.False(SyslogParser.TryParse(Encoding.UTF8.GetBytes(message), Settings, Context, out _, out var error));
        return error!;
    }

    private static long Ms(string rfc3339) => DateTimeOffset.Parse(rfc3339, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    [Fact]
    public void Rfc5424_example_1_with_a_BOM_maps_host_app_msgid_and_level()
    {
        var bytes = Encoding.UTF8.GetBytes("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ").Concat(new byte[] { 0xEF, 0xBB, 0xBF })
            .Concat(Encoding.UTF8.GetBytes("'su root' failed for lonvick on /dev/pts/8")).ToArray();

        var e = Parse(bytes);

        Assert.Equal((Ms("2003-10-11T22:14:15.003Z"), "mymachine.example.com", "su", "crit", "syslog"), (e.Ts, e.Host, e.Process, e.Level, e.Type));
        Assert.Equal("'su root' failed for lonvick on /dev/pts/8", e.Message);
        Assert.Equal(new Dictionary<string, string> { ["facility"] = "auth", ["msgid"] = "ID47" }, e.Attributes);
        Assert.Equal(("10.0.0.9", "node-1", Now), (e.Ip, e.Lineage.IngressNode, e.SystemTs));
    }

    [Fact]
    public void Rfc5424_example_2_with_an_offset_and_microseconds_keeps_procid()
    {
        var e = Parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.");

        Assert.Equal((Ms("2003-08-24T12:14:15Z"), "192.0.2.1", "myproc", "notice"), (e.Ts, e.Host, e.Process, e.Level));
        Assert.Equal("%% It's time to make the do-nuts.", e.Message);
        Assert.Equal(new Dictionary<string, string> { ["facility"] = "local4", ["procid"] = "8710" }, e.Attributes);
    }

    [Fact]
    public void Rfc5424_example_3_structured_data_becomes_sd_attributes()
    {
        var e = Parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \uFEFFAn application event log entry...");

        Assert.Equal("An application event log entry...", e.Message);
        Assert.Equal("evntslog", e.Process);
        Assert.Equal("3", e.Attributes["sd.exampleSDID@32473.iut"]);
        Assert.Equal("Application", e.Attributes["sd.exampleSDID@32473.eventSource"]);
        Assert.Equal("1011", e.Attributes["sd.exampleSDID@32473.eventID"]);
    }

    [Fact]
    public void Rfc5424_example_4_two_elements_and_no_message()
    {
        var e = Parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]");

        Assert.Equal("", e.Message);
        Assert.Equal("high", e.Attributes["sd.examplePriority@32473.class"]);
        Assert.Equal("1011", e.Attributes["sd.exampleSDID@32473.eventID"]);
    }

    [Fact]
    public void Rfc5424_escapes_in_param_values_and_nil_fields_fall_back_to_the_connection()
    {
        var e = Parse("<14>1 - - - - - [meta@1 q=\"a \\\"b\\\" \\] c\\\\\" empty=\"\"][flag@1] hi\n");

        Assert.Equal(("conn-host", LogEvent.DefaultProcess, Now, "info", "hi"), (e.Host, e.Process, e.Ts, e.Level, e.Message));
        Assert.Equal("a \"b\" ] c\\", e.Attributes["sd.meta@1.q"]);
        Assert.Equal("", e.Attributes["sd.meta@1.empty"]);
        Assert.Equal("", e.Attributes["sd.flag@1"]);
        Assert.False(e.Attributes.ContainsKey("procid"));
    }

    [Fact]
    public void What_util_linux_logger_sends_by_default()
    {
        // logger --rfc5424 (its default): time with microseconds and offset, timeQuality SD.
        var e = Parse("<13>1 2026-12-05T20:01:02.123456+00:00 build-7 ci-job 4242 - [timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"54500\"] step 3 done");

        Assert.Equal((Ms("2026-12-05T20:01:02.123Z"), "build-7", "ci-job", "notice", "step 3 done"), (e.Ts, e.Host, e.Process, e.Level, e.Message));
        Assert.Equal(("user", "4242", "1"), (e.Attributes["facility"], e.Attributes["procid"], e.Attributes["sd.timeQuality.tzKnown"]));
    }

    [Fact]
    public void Rfc3164_example_1_reads_timestamp_host_and_tag()
    {
        var e = Parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");

        // No year: the one nearest the ingress time (2023-11-14).
        Assert.Equal((Ms("2023-10-11T22:14:15Z"), "mymachine", "su", "crit"), (e.Ts, e.Host, e.Process, e.Level));
        Assert.Equal("'su root' failed for lonvick on /dev/pts/8", e.Message);
        Assert.Equal("auth", e.Attributes["facility"]);
    }

    [Fact]
    public void Rfc3164_example_2_without_a_tag_is_all_message()
    {
        var e = Parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!");

        Assert.Equal((Ms("2024-02-05T17:32:18Z"), "10.0.0.99", LogEvent.DefaultProcess, "notice", "Use the BFG!"), (e.Ts, e.Host, e.Process, e.Level, e.Message));
    }

    [Fact]
    public void Rfc3164_example_3_pid_in_the_tag_becomes_procid()
    {
        var e = Parse("<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jated=Yes, Cooks=ToNe");

        // As RFC 3164 says of this one: "CST" stands where the HOSTNAME is, and the rest is the message.
        Assert.Equal((Ms("2023-08-24T05:34:00Z"), "CST", "notice"), (e.Ts, e.Host, e.Level));
        Assert.Equal("1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jated=Yes, Cooks=ToNe", e.Message);
    }

    [Fact]
    public void Rfc3164_example_4_without_a_valid_timestamp_is_all_message_at_the_ingress_time()
    {
        var e = Parse("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!");

        Assert.Equal((Now, "conn-host", "emerg", "kern"), (e.Ts, e.Host, e.Level, e.Attributes["facility"]));
        Assert.Equal("1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!", e.Message);
    }

    [Fact]
    public void Rfc3164_tag_with_pid_and_no_hostname()
    {
        var e = Parse("<30>Nov 14 22:13:19 sshd[812]: Accepted publickey for ops");

        Assert.Equal(("conn-host", "sshd", "812", "info", "daemon"), (e.Host, e.Process, e.Attributes["procid"], e.Level, e.Attributes["facility"]));
        Assert.Equal("Accepted publickey for ops", e.Message);
    }

    [Fact]
    public void Rsyslogs_forward_format_with_an_RFC3339_timestamp()
    {
        var e = Parse("<86>2026-12-05T20:01:02.345678+01:00 bastion sudo[99]: pam_unix(sudo:session): session opened\n");

        Assert.Equal((Ms("2026-12-05T19:01:02.345Z"), "bastion", "sudo", "99", "info", "authpriv"),
            (e.Ts, e.Host, e.Process, e.Attributes["procid"], e.Level, e.Attributes["facility"]));
        Assert.Equal("pam_unix(sudo:session): session opened", e.Message);
    }

    [Fact]
    public void A_December_timestamp_received_in_January_is_last_years()
    {
        var january = Context with { NowMs = Ms("2027-01-01T00:00:05Z") };

        Assert.Equal(Ms("2026-12-31T23:59:58Z"), Parse("<13>Dec 31 23:59:58 h app: m", context: january).Ts);
        Assert.Equal(Ms("2027-01-01T00:00:01Z"), Parse("<13>Jan  1 00:00:01 h app: m", context: january).Ts);
    }

    [Fact]
    public void Legacy_timestamps_are_read_in_the_configured_zone()
    {
        var paris = new SyslogSettings("syslog", TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));

        Assert.Equal(Ms("2023-10-11T20:14:15Z"), Parse("<34>Oct 11 22:14:15 mymachine su: x", paris).Ts);
    }

    [Fact]
    public void A_message_without_PRI_is_user_notice_and_all_message()
    {
        var e = Parse("just a line");

        Assert.Equal(("notice", "user", "just a line", "conn-host"), (e.Level, e.Attributes["facility"], e.Message, e.Host));
    }

    [Fact]
    public void Invalid_UTF8_is_replaced_not_refused()
    {
        var e = Parse([.. "<13>1 - h a - - - caf"u8, 0xE9]);

        Assert.Equal("caf\uFFFD", e.Message);
    }

    [Theory]
    [InlineData("", "empty syslog message")]
    [InlineData("<192>Oct 11 22:14:15 h x", "PRI must be")]
    [InlineData("<1a>x", "PRI must be")]
    [InlineData("<13>2 2003-10-11T22:14:15Z h a - - - m", "VERSION '2' is not supported")]
    [InlineData("<13>1 yesterday h a - - - m", "TIMESTAMP 'yesterday' is not an RFC 3339 date-time")]
    [InlineData("<13>1 - h a - -", "STRUCTURED-DATA is missing")]
    [InlineData("<13>1 - h a - - [x@1 k=\"v] m", "is not closed by '\"'")]
    [InlineData("<13>1 - h a - - [x@1 k=\"v\"", "SD-ELEMENT [x@1] is not closed by ']'")]
    [InlineData("<13>1 - h a - - [x@1 k=v] m", "must be PARAM-NAME=\"PARAM-VALUE\"")]
    [InlineData("<13>1 - h a - - -m", "must be followed by a space")]
    public void Broken_RFC5424_headers_are_refused_naming_the_field(string message, string error) =>
        Assert.Contains(error, Refused(message));

    [Fact]
    public void Source_sequences_are_stamped_only_when_the_batch_is_final()
    {
        long next = 0;
        var context = Context with { NextSourceSeq = (_, _) => ++next };
        var events = new List<LogEvent> { Parse("<13>1 - h a - - - one", context: context), Parse("<13>1 - h a - - - two", context: context) };
        Assert.Equal(0, next);

        SyslogParser.Stamp(events, context);

        Assert.Equal([1L, 2L], events.Select(e => e.Lineage.SourceSeq));
    }
}
