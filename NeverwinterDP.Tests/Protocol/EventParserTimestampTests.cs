using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Protocol.Samples;

namespace NeverwinterDP.Tests.Protocol;

public class EventParserTimestampTests
{
    [Theory]
    [InlineData("1700000000", 1_700_000_000_000)]                   // epoch seconds
    [InlineData("1700000000123", 1_700_000_000_123)]                // epoch milliseconds
    [InlineData("1700000000.123", 1_700_000_000_123)]               // fractional seconds, exactly
    [InlineData("1700000000.1239", 1_700_000_000_123)]              // below a millisecond is cut, not rounded
    [InlineData("1.7e9", 1_700_000_000_000)]                        // exponent form
    [InlineData("1700000000123.9", 1_700_000_000_123)]              // fractional milliseconds
    [InlineData("1700000000123456", 1_700_000_000_123)]             // epoch microseconds
    [InlineData("1700000000123456789", 1_700_000_000_123)]          // epoch nanoseconds
    [InlineData("0", 0)]
    [InlineData("-1", -1_000)]                                      // before 1970, in seconds
    [InlineData("\"2023-11-14T22:13:20Z\"", 1_700_000_000_000)]
    [InlineData("\"2023-11-14T22:13:20.123Z\"", 1_700_000_000_123)]
    [InlineData("\"2023-11-14T22:13:20.123456789Z\"", 1_700_000_000_123)]
    [InlineData("\"2023-11-14T22:13:20.1Z\"", 1_700_000_000_100)]
    [InlineData("\"2023-11-14T23:13:20.123+01:00\"", 1_700_000_000_123)]
    [InlineData("\"2023-11-14T17:43:20-0430\"", 1_700_000_000_000)]
    [InlineData("\"2023-11-15T00:13:20+02\"", 1_700_000_000_000)]
    [InlineData("\"2023-11-14 22:13:20z\"", 1_700_000_000_000)]     // RFC 3339 allows a space and lower case
    [InlineData("\"2023-11-14t22:13:20Z\"", 1_700_000_000_000)]
    [InlineData("\"2023-11-14T22:13:20\"", 1_700_000_000_000)]      // no zone: UTC
    [InlineData("\"2023-11-14T22:13Z\"", 1_699_999_980_000)]        // no seconds
    [InlineData("\"2023-11-14\"", 1_699_920_000_000)]               // a date alone: midnight UTC
    [InlineData("\"2016-12-31T23:59:60Z\"", 1_483_228_800_000)]     // a leap second rolls over
    [InlineData("\"2024-02-29T00:00:00Z\"", 1_709_164_800_000)]
    [InlineData("\"2023\\u002d11-14T22:13:20Z\"", 1_700_000_000_000)] // escaped
    public void Ts_is_read_as_an_epoch_number_or_an_RFC_3339_string(string json, long expectedMs)
    {
        var logEvent = One($$"""{"msg":"m","ts":{{json}}}""");

        Assert.Equal(expectedMs, logEvent.Ts);
    }

    [Theory]
    [InlineData("ts")]
    [InlineData("@timestamp")]
    [InlineData("timestamp")]
    [InlineData("time")]
    [InlineData("date")]
    public void Each_timestamp_field_name_is_accepted(string name)
    {
        var logEvent = One($$"""{"msg":"m","{{name}}":"2023-11-14T22:13:20.5Z"}""");

        Assert.Equal(1_700_000_000_500, logEvent.Ts);
        Assert.Empty(logEvent.Attributes);
    }

    [Fact]
    public void Fluent_Bit_date_as_fractional_seconds_keeps_the_milliseconds()
    {
        Assert.Equal(1_700_000_000_123, One("""{"date":1700000000.123456,"log":"m"}""").Ts);
    }

    [Fact]
    public void A_missing_ts_is_the_ingress_time()
    {
        var logEvent = One("""{"msg":"m"}""");

        Assert.Equal(Now, logEvent.Ts);
        Assert.Equal(Now, logEvent.SystemTs);
    }

    [Fact]
    public void A_null_ts_counts_as_missing()
    {
        var logEvent = One("""{"msg":"m","ts":null}""");

        Assert.Equal(Now, logEvent.Ts);
        Assert.Empty(logEvent.Attributes);
    }

    [Fact]
    public void Ts_wins_over_the_other_timestamp_names_which_stay_as_attributes()
    {
        var logEvent = One("""{"time":"12:00","msg":"m","@timestamp":"2023-11-14T22:13:21Z","ts":1700000000}""");

        Assert.Equal(1_700_000_000_000, logEvent.Ts);
        Assert.Equal("12:00", logEvent.Attributes["time"]);
        Assert.Equal("2023-11-14T22:13:21Z", logEvent.Attributes["@timestamp"]);
    }

    [Fact]
    public void An_unused_timestamp_name_that_is_not_a_timestamp_is_no_error()
    {
        var logEvent = One("""{"msg":"m","ts":1700000000,"date":{"day":"monday"}}""");

        Assert.Equal("""{"day":"monday"}""", logEvent.Attributes["date"]);
    }

    [Fact]
    public void The_timestamp_at_ingress_is_the_context_time_even_when_ts_is_given()
    {
        Assert.Equal(Now, One("""{"msg":"m","ts":1}""").SystemTs);
    }
}
