using System.CommandLine;
using System.Globalization;
using NeverwinterDP.Actors.Kafka.Embedded;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp broker</c>: the embedded Kafka-protocol broker on its own, for development and for tests that
/// restart a node while the bus keeps its data. Prints <c>ready kafka=BOOTSTRAP</c>, then takes fault
/// commands on standard input, one per line, answering each with one line.
/// </summary>
public static class BrokerVerb
{
    private static readonly Option<int> Brokers = Flags.Int("--brokers", "number of brokers (default 1)", "N", 1, 1, 16);
    private static readonly Option<int> Partitions = Flags.Int("--partitions", "partitions of topics created here or on first use (default 8)", "N", 8, 1, 10_000);
    private static readonly Option<string[]> Topics = Flags.Repeated("--topic", "create this topic at start (repeatable)", "NAME");

    public static Command Command { get; } = CreateCommand();

    private static Command CreateCommand()
    {
        var command = new Command("broker",
            "Run the embedded Kafka-protocol broker (in memory, for development and tests).\n" +
            "Prints 'ready kafka=BOOTSTRAP', then reads commands on standard input:\n" +
            "  down ID | up ID | rtt ID MS | errors API COUNT CODE | topic NAME [PARTITIONS] | leader TOPIC PARTITION ID | quit")
        {
            Brokers, Partitions, Topics,
        };
        command.SetAction((parsed, cancellation) => RunAsync(parsed, cancellation));
        return command;
    }

    public static async Task<int> RunAsync(ParseResult args, CancellationToken cancellation)
    {
        var options = new EmbeddedKafkaOptions
        {
            Brokers = args.GetValue(Brokers),
            DefaultPartitions = args.GetValue(Partitions),
        };
        using var kafka = new EmbeddedKafka(options);
        foreach (var topic in args.GetValue(Topics)!) kafka.CreateTopic(topic);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var signals = CliSignals.CancelOnStop(stop);

        Console.Error.WriteLine($"nwdp broker: {options.Brokers} in-memory broker(s) on 127.0.0.1, about 5 MB kept per partition; for development and tests only.");
        Console.Out.WriteLine($"ready kafka={kafka.BootstrapServers}");
        Console.Out.Flush();

        // Standard input may be closed from the start (CI, nohup): then just serve until a signal.
        var stdin = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var line = await Console.In.ReadLineAsync(stop.Token);
                if (line is null) return;
                var answer = Execute(kafka, line);
                Console.Out.WriteLine(answer);
                Console.Out.Flush();
                if (answer == "ok quit") { stop.Cancel(); return; }
            }
        }, CancellationToken.None);

        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        Console.Error.WriteLine("nwdp broker: stopped");
        return 0;
    }

    /// <summary>Runs one command line and returns the one-line answer (<c>ok ...</c> or <c>error: ...</c>).</summary>
    public static string Execute(EmbeddedKafka kafka, string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0) return "error: empty command";
        try
        {
            switch (words[0].ToLowerInvariant())
            {
                case "down" when words.Length == 2:
                    kafka.BrokerDown(Int(words[1], "ID"));
                    return $"ok down {words[1]}";
                case "up" when words.Length == 2:
                    kafka.BrokerUp(Int(words[1], "ID"));
                    return $"ok up {words[1]}";
                case "rtt" when words.Length == 3:
                    kafka.SetBrokerRtt(Int(words[1], "ID"), TimeSpan.FromMilliseconds(Int(words[2], "MS")));
                    return $"ok rtt {words[1]} {words[2]}";
                case "errors" when words.Length == 4:
                    kafka.PushRequestErrors((short)Int(words[1], "API"), Int(words[2], "COUNT"), Int(words[3], "CODE"));
                    return $"ok errors {words[1]} {words[2]} {words[3]}";
                case "topic" when words.Length is 2 or 3:
                    kafka.CreateTopic(words[1], words.Length == 3 ? Int(words[2], "PARTITIONS") : null);
                    return $"ok topic {words[1]}";
                case "leader" when words.Length == 4:
                    kafka.SetPartitionLeader(words[1], Int(words[2], "PARTITION"), Int(words[3], "ID"));
                    return $"ok leader {words[1]} {words[2]} {words[3]}";
                case "quit" or "exit":
                    return "ok quit";
                default:
                    return $"error: unknown command '{line.Trim()}' (down ID | up ID | rtt ID MS | errors API COUNT CODE | topic NAME [PARTITIONS] | leader TOPIC PARTITION ID | quit)";
            }
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException)
        {
            return "error: " + e.Message;
        }
    }

    private static int Int(string word, string what) =>
        int.TryParse(word, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"{what} must be a number, got '{word}'");
}
