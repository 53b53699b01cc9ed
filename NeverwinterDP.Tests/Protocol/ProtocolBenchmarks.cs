using System.Buffers;
using System.Diagnostics;
using System.Text;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using static NeverwinterDP.Tests.Protocol.Samples;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>
/// Rough single-thread rates of the hot paths, printed, never asserted (timings vary by machine). Run with
/// <c>dotnet test --filter Category=Benchmark --logger "console;verbosity=detailed"</c>; skip in CI with
/// <c>--filter Category!=Benchmark</c>.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public class ProtocolBenchmarks(ITestOutputHelper output)
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(1);

    [Fact]
    public void Parse_NDJSON_lines_of_about_200_bytes()
    {
        var body = Encoding.UTF8.GetBytes(string.Join("\n", Enumerable.Range(0, 1000).Select(TypicalLine)) + "\n");

        var rate = Measure(1000, () => EventParser.Parse(body, ContentKind.Ndjson, Context));

        output.WriteLine($"parse: {rate:N0} lines/s, {rate * body.Length / 1000 / 1_048_576:N0} MiB/s ({body.Length / 1000} bytes/line)");
    }

    [Fact]
    public void Encode_and_decode_Avro_events_of_about_200_bytes()
    {
        var events = Ndjson(string.Join("\n", Enumerable.Range(0, 1000).Select(TypicalLine))).Events;
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        var size = LogEventAvro.Encode(events[0]).Length;

        var encode = Measure(events.Count, () =>
        {
            buffer.ResetWrittenCount();
            foreach (var e in events) LogEventAvro.Encode(e, buffer);
        });
        var roundTrip = Measure(events.Count, () =>
        {
            foreach (var e in events)
            {
                buffer.ResetWrittenCount();
                LogEventAvro.Encode(e, buffer);
                LogEventAvro.Decode(buffer.WrittenSpan);
            }
        });

        output.WriteLine($"avro encode: {encode:N0} events/s; encode+decode: {roundTrip:N0} events/s ({size} bytes/event)");
    }

    [Fact]
    public void Write_NDJSON_lines()
    {
        var events = Ndjson(string.Join("\n", Enumerable.Range(0, 1000).Select(TypicalLine))).Events;
        var buffer = new ArrayBufferWriter<byte>(256 * 1024);

        var rate = Measure(events.Count, () =>
        {
            buffer.ResetWrittenCount();
            foreach (var e in events) LogEventJson.WriteLine(e, buffer);
        });

        output.WriteLine($"ndjson write: {rate:N0} events/s");
    }

    /// <summary>Runs <paramref name="batch"/> (of <paramref name="items"/> items) for the budget after a warm-up.</summary>
    private static double Measure(int items, Action batch)
    {
        for (var i = 0; i < 50; i++) batch();
        var clock = Stopwatch.StartNew();
        long done = 0;
        while (clock.Elapsed < Budget)
        {
            batch();
            done += items;
        }
        return done / clock.Elapsed.TotalSeconds;
    }
}
