using System.Diagnostics;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Sql;
using NeverwinterDP.Protocol;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Sql;

/// <summary>
/// The SQL sinks' write rate against the servers test.sh starts, printed, never asserted. Run with
/// <c>dotnet test --filter "FullyQualifiedName~Sinks.Sql&amp;Category=Benchmark" --logger "console;verbosity=detailed"</c>
/// with NWDP_TEST_POSTGRES / NWDP_TEST_MARIADB set (scripts/services/).
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public class SqlSinkBenchmarks(ITestOutputHelper output)
{
    private const string Topic = "nwdp.logs.bench";
    private const int Partitions = 4;

    public static TheoryData<string, int> Cases => new()
    {
        { "postgresql", 1000 }, { "postgresql", 10_000 },
        { "mariadb", 1000 }, { "mariadb", 10_000 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Write_events_of_about_200_bytes(string kind, int batchSize)
    {
        var server = kind == "postgresql" ? SqlTestServer.PostgreSql : SqlTestServer.MariaDb;
        var table = SqlTestServer.NewTableName();
        var options = new SqlSinkOptions { ConnectionString = server.ConnectionString + ";Application Name=" + table, Table = table };
        await using var sink = server.CreateSink(options, "bench");
        try
        {
            await sink.OpenAsync(CancellationToken.None);
            var events = Enumerable.Range(0, 1000).Select(TypicalEvent).ToArray();
            const int total = 300_000;
            var offset = 0L;
            // Warm up (JIT, plans, the first pages), then measure only the sink's calls.
            await WriteAsync(sink, events, batchSize, 20_000, ref offset);
            var serverPid = await ServerProcessAsync(server, table);
            var serverCpu = CpuSeconds(serverPid);
            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            var watch = Stopwatch.StartNew();
            await WriteAsync(sink, events, batchSize, total, ref offset);
            watch.Stop();
            serverCpu = CpuSeconds(serverPid) - serverCpu;
            clientCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - clientCpu;
            // The machine may be shared: the CPU the two sides used tells what one sink does on cores of its own
            // (a write is a round trip, so client and server work one after the other).
            output.WriteLine($"{kind} sink, batches of {batchSize:N0}: {total / watch.Elapsed.TotalSeconds:N0} events/s wall clock, " +
                $"{total / (clientCpu + serverCpu):N0} events per CPU second (client {clientCpu:N1} s + server {serverCpu:N1} s); " +
                $"{total:N0} events, {Partitions} partitions, durable when each write returns");
        }
        finally
        {
            await server.DropAsync(table);
        }
    }

    // PostgreSQL: the sink's backend (found by its application name); MariaDB: the one server process.
    private static async Task<int> ServerProcessAsync(SqlTestServer server, string table)
    {
        if (server == SqlTestServer.PostgreSql)
        {
            return Convert.ToInt32(await server.ScalarAsync($"SELECT pid FROM pg_stat_activity WHERE application_name = '{table}'"), System.Globalization.CultureInfo.InvariantCulture);
        }
        var pidFile = Path.Combine(Environment.GetEnvironmentVariable("NWDP_TEST_SERVICES") ?? "", "mariadb", "run", "mariadb.pid");
        return int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    // utime + stime of /proc/<pid>/stat, in clock ticks of 1/100 s.
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
    }

    private static Task WriteAsync(ISink sink, LogEvent[] events, int batchSize, int count, ref long offset)
    {
        var batches = new List<List<SinkRecord>>();
        for (var b = 0; b < count / batchSize; b++)
        {
            var batch = new List<SinkRecord>(batchSize);
            for (var i = 0; i < batchSize; i++, offset++) batch.Add(new SinkRecord(Topic, (int)(offset % Partitions), offset / Partitions, events[offset % events.Length]));
            batches.Add(batch);
        }
        return WriteAllAsync(sink, batches);
    }

    private static async Task WriteAllAsync(ISink sink, List<List<SinkRecord>> batches)
    {
        foreach (var batch in batches)
        {
            var result = await sink.WriteAsync(batch, CancellationToken.None);
            Assert.True(result.IsAllDelivered);
        }
    }

    // About 200 bytes as an NDJSON line, like the lines services post.
    private static LogEvent TypicalEvent(int i) => new()
    {
        Ts = 1_764_300_000_000 + i - 3,
        SystemTs = 1_764_300_000_000 + i,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = "web",
        Level = "info",
        Message = $"order {i} placed by user 4711 in 23 ms",
        Attributes = new Dictionary<string, string> { ["user"] = "4711" },
        Lineage = new Lineage("node-1", i),
    };
}
