using System.Text;
using System.Text.Json;
using NeverwinterDP.Host.Bench;
using Xunit;

namespace NeverwinterDP.Tests.Bench;

public sealed class BenchEventGeneratorTests
{
    private const long Ts = 1_700_000_000_123;

    private static List<JsonElement> Render(BenchEventGenerator generator, long first, int count, out string text)
    {
        var buffer = new byte[generator.BufferSize(count)];
        var length = generator.Write(buffer, first, count, Ts);
        text = Encoding.UTF8.GetString(buffer, 0, length);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    [Fact]
    public void Lines_are_realistic_json_with_unique_messages_spread_over_hosts_processes_and_levels()
    {
        var generator = new BenchEventGenerator("run42", "nginx", hosts: 16, eventSize: 200);
        var events = Render(generator, 1_000, 2_000, out _);

        Assert.Equal(2_000, events.Count);
        foreach (var e in events)
        {
            Assert.Equal(Ts, e.GetProperty("ts").GetInt64());
            Assert.Equal("nginx", e.GetProperty("type").GetString());
            Assert.False(string.IsNullOrEmpty(e.GetProperty("host").GetString()));
            Assert.False(string.IsNullOrEmpty(e.GetProperty("process").GetString()));
            Assert.Equal(16, e.GetProperty("req_id").GetString()!.Length);
        }
        Assert.Equal(16, events.Select(e => e.GetProperty("host").GetString()).Distinct().Count());
        Assert.True(events.Select(e => e.GetProperty("process").GetString()).Distinct().Count() >= 5);
        var levels = events.GroupBy(e => e.GetProperty("level").GetString()!).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(levels["info"] > events.Count / 2);
        Assert.True(levels.GetValueOrDefault("error") > 0, "some errors");
        Assert.True(levels.GetValueOrDefault("warn") > 0, "some warnings");

        var messages = events.Select(e => e.GetProperty("msg").GetString()!).ToList();
        Assert.Equal(messages.Count, messages.Distinct().Count());
        Assert.Equal(events.Count, events.Select(e => e.GetProperty("req_id").GetString()).Distinct().Count());
        for (var i = 0; i < messages.Count; i++)
        {
            Assert.Equal(("run42", 1_000L + i), BenchEventGenerator.ParseMessage(messages[i]));
            Assert.Equal(generator.MessageOf(1_000 + i), messages[i]);
        }
        Assert.Equal(messages[0], JsonDocument.Parse(generator.Line(1_000, Ts)).RootElement.GetProperty("msg").GetString());
    }

    [Theory]
    [InlineData(200)]
    [InlineData(256)]
    [InlineData(1000)]
    public void Lines_are_exactly_the_event_size(int size)
    {
        var generator = new BenchEventGenerator(BenchEventGenerator.NewRunId(), "bench", hosts: 16, eventSize: size);
        Render(generator, 0, 1_500, out var text);
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.Equal(size, line.Length));
        Assert.Equal(size, generator.MaxLineLength);
    }

    [Fact]
    public void Small_sizes_give_lines_as_short_as_their_fields_allow()
    {
        var generator = new BenchEventGenerator("r1", "bench", hosts: 3, eventSize: 10);
        var events = Render(generator, 0, 600, out var text);
        Assert.Equal(600, events.Count);
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.InRange(line.Length, 100, 200));
        Assert.Equal(3, events.Select(e => e.GetProperty("host").GetString()).Distinct().Count());
    }

    [Fact]
    public void Different_runs_have_different_messages_and_request_ids()
    {
        var a = new BenchEventGenerator("aaaa");
        var b = new BenchEventGenerator("bbbb");
        Assert.NotEqual(a.MessageOf(7), b.MessageOf(7));
        Assert.NotEqual(a.Line(7, Ts), b.Line(7, Ts));
        Assert.Equal(a.Line(7, Ts), new BenchEventGenerator("aaaa").Line(7, Ts));
    }
}

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_are_within_two_percent_and_the_max_is_exact()
    {
        var histogram = new LatencyHistogram();
        for (var us = 1; us <= 100_000; us++) histogram.RecordMicros(us);

        Assert.Equal(100_000, histogram.Count);
        Assert.Equal(100_000, histogram.MaxMicros);
        Assert.Equal(1, histogram.MinMicros);
        Assert.InRange(histogram.ValueAtPercentile(50), 50_000, 51_000);
        Assert.InRange(histogram.ValueAtPercentile(99), 99_000, 100_000);
        Assert.Equal(100_000, histogram.ValueAtPercentile(100));
        Assert.Equal(1, histogram.ValueAtPercentile(0));
    }

    [Fact]
    public void Small_values_are_exact_and_empty_is_zero()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.ValueAtPercentile(99));
        Assert.Equal(0, histogram.MaxMicros);
        foreach (var us in new[] { 5, 5, 5, 7, 90 }) histogram.RecordMicros(us);
        Assert.Equal(5, histogram.ValueAtPercentile(50));
        Assert.Equal(90, histogram.ValueAtPercentile(99));
        histogram.Record(TimeSpan.FromDays(100)); // beyond the range: kept in the last bucket
        Assert.True(histogram.MaxMicros > 0);
    }

    [Fact]
    public void Concurrent_recording_loses_nothing()
    {
        var histogram = new LatencyHistogram();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++) histogram.RecordMicros(i);
        });
        Assert.Equal(80_000, histogram.Count);
        Assert.Equal(9_999, histogram.MaxMicros);
    }
}
