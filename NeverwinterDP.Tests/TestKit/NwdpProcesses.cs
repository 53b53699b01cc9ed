using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>Bounds every wait in these tests.</summary>
internal static class Limits
{
    /// <summary>From start to the ready line (a cold <c>dotnet</c> start on a busy 2-core machine included).</summary>
    public static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);

    /// <summary>From SIGTERM to exit: drain, flush and commit.</summary>
    public static readonly TimeSpan GracefulExit = TimeSpan.FromSeconds(45);

    /// <summary>For the pump to get everything acknowledged into the files.</summary>
    public static readonly TimeSpan PumpCatchUp = TimeSpan.FromSeconds(60);

    /// <summary>A short verb (help, usage error) to exit.</summary>
    public static readonly TimeSpan ShortVerb = TimeSpan.FromSeconds(30);
}

/// <summary><c>nwdp run</c> in its own process, ready (its ready line parsed).</summary>
public sealed partial class NodeProcess : IAsyncDisposable
{
    private NodeProcess(ChildProcess child, string readyLine, Uri http, string kafka, string dataDir, string clusterAddress, string? adminNode)
    {
        Child = child;
        ReadyLine = readyLine;
        Http = http;
        Kafka = kafka;
        DataDir = dataDir;
        ClusterAddress = clusterAddress;
        AdminNode = adminNode;
    }

    public ChildProcess Child { get; }
    public string ReadyLine { get; }
    public Uri Http { get; }
    public string Kafka { get; }
    public string DataDir { get; }

    /// <summary>The node's cluster address from the ready line (<c>node=akka.tcp://nwdp@HOST:PORT</c>, <c>akka.ssl.tcp</c> with remoting TLS).</summary>
    public string ClusterAddress { get; }

    /// <summary>HOST:PORT of the admin API from the ready line (<c>admin=http://HOST:PORT</c>); null when off.</summary>
    public string? AdminNode { get; }
    public string FilesDir => Path.Combine(DataDir, "sinks", "files");

    /// <summary>An HTTP client of the admin API with the node's token (from its <c>admin.token</c>, as the CLI reads it).</summary>
    public HttpClient AdminClient() => LocalAdmins.Client(AdminNode ?? throw new InvalidOperationException("the admin API is off"), DataDir);

    /// <summary>Test settings: the pump batches and publishes quickly.</summary>
    public static readonly string[] FastPump = ["nwdp.pump.flush-interval=300ms", "nwdp.pump.batch-interval=50ms"];

    /// <summary>
    /// Starts <c>nwdp run --http HTTP --admin 127.0.0.1:0 --data DIR [--kafka K] [FLAGS] --set ...</c> and
    /// waits for its ready line. The process is killed if it does not get ready.
    /// </summary>
    /// <param name="http">The ingress endpoint: a free port by default; a fixed one for a node restarted where its senders expect it.</param>
    /// <param name="prefix">Runs the node through this program (<see cref="NetworkPartition.Prefix"/>).</param>
    public static async Task<NodeProcess> StartAsync(string name, string dataDir, string? kafka = null, IEnumerable<string>? settings = null,
        IEnumerable<string>? flags = null, string http = "127.0.0.1:0", IReadOnlyList<string>? prefix = null)
    {
        var args = new List<string> { "run", "--http", http, "--admin", "127.0.0.1:0", "--data", dataDir };
        if (kafka is not null) args.AddRange(["--kafka", kafka]);
        args.AddRange(flags ?? []);
        var set = (settings ?? FastPump).ToList();
        // As InProcessNode: each test node on its own journal, unless the test says otherwise.
        if (!set.Any(s => s.StartsWith(InProcessNode.PrivateJournalKey + "=", StringComparison.Ordinal))) set.Add(InProcessNode.PrivateJournalKey + "=on");
        foreach (var s in set) args.AddRange(["--set", s]);
        var child = ChildProcess.StartNwdp(name, args, prefix: prefix);
        try
        {
            var line = await child.WaitForStdoutAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), Limits.Ready, "ready line");
            var m = ReadyLineRegex().Match(line);
            if (!m.Success) throw new FormatException($"{name}: ready line '{line}' does not read 'ready http=URL kafka=BOOTSTRAP data=DIR node=ADDRESS [admin=URL] [schemas=URL]'. {child.Describe()}");
            var admin = m.Groups["admin"].Success ? new Uri(m.Groups["admin"].Value) : null;
            if (admin is not null) LocalAdmins.Register($"{admin.Host}:{admin.Port}", m.Groups["data"].Value);
            return new NodeProcess(child, line, new Uri(m.Groups["http"].Value), m.Groups["kafka"].Value, m.Groups["data"].Value,
                m.Groups["node"].Value, admin is null ? null : $"{admin.Host}:{admin.Port}");
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGTERM, then the exit code (bounded by <see cref="Limits.GracefulExit"/>).</summary>
    public async Task<int> StopGracefullyAsync()
    {
        Child.Signal(ChildProcess.SIGTERM);
        return await Child.WaitForExitAsync(Limits.GracefulExit);
    }

    public ValueTask DisposeAsync() => Child.DisposeAsync();

    /// <summary>Polls <c>nwdp cluster show</c> at this node until it lists <paramref name="up"/> members Up (and, if given, <paramref name="total"/> in all).</summary>
    public Task MembersUpAsync(int up, TimeSpan within, int? total = null) =>
        Wait.UntilAsync(async () =>
        {
            var show = await Nwdp.RunAsync("cluster", "show", "--node", AdminNode!);
            return show.ExitCode == 0 && show.Lines.Count(l => l.Contains("| Up")) == up && (total is null || show.Lines[^1] == $"Count: {total} nodes");
        }, within, () => $"{up} members Up{(total is null ? "" : $" of {total}")} not shown by {ClusterAddress}: {Child.Describe()}");

    /// <summary>A loopback port free now (bound to 0 and read back), for a process that must keep its ports across a restart.</summary>
    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [GeneratedRegex(@"^ready http=(?<http>https?://\S+) kafka=(?<kafka>\S+) data=(?<data>.+?) node=(?<node>akka\.(ssl\.)?tcp://nwdp@\S+:\d+)( admin=(?<admin>https?://\S+))?( schemas=(?<schemas>https?://\S+))?$")]
    private static partial Regex ReadyLineRegex();
}

/// <summary><c>nwdp broker</c> in its own process, ready, taking commands on standard input.</summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private BrokerProcess(ChildProcess child, string bootstrap)
    {
        Child = child;
        Bootstrap = bootstrap;
    }

    public ChildProcess Child { get; }
    public string Bootstrap { get; }

    public static async Task<BrokerProcess> StartAsync(string name, params string[] flags)
    {
        var child = ChildProcess.StartNwdp(name, ["broker", .. flags], keepStdinOpen: true);
        try
        {
            var line = await child.WaitForStdoutAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), Limits.Ready, "ready line");
            var m = Regex.Match(line, @"^ready kafka=(\S+)$");
            if (!m.Success) throw new FormatException($"{name}: ready line '{line}' does not read 'ready kafka=BOOTSTRAP'. {child.Describe()}");
            return new BrokerProcess(child, m.Groups[1].Value);
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
    }

    /// <summary>One command, its one-line answer.</summary>
    public Task<string> CommandAsync(string command) => Child.CommandAsync(command, TimeSpan.FromSeconds(20));

    public ValueTask DisposeAsync() => Child.DisposeAsync();
}

/// <summary>What the files sink published, read the way a user would: <c>*.ndjson</c> files, temp files ignored.</summary>
internal static class PublishedFiles
{
    public static string TopicDir(string filesDir, string type) => Path.Combine(filesDir, "nwdp.logs." + type);

    /// <summary>Published files (not temp files: those start with '.' and end in .tmp).</summary>
    public static IReadOnlyList<string> Files(string filesDir, string type)
    {
        var dir = TopicDir(filesDir, type);
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*.ndjson", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The <c>msg</c> of every published line, duplicates kept.</summary>
    public static IReadOnlyList<string> Messages(string filesDir, string type)
    {
        var messages = new List<string>();
        foreach (var file in Files(filesDir, type))
        {
            var lineNo = 0;
            foreach (var line in File.ReadLines(file))
            {
                lineNo++;
                if (line.Length == 0) continue;
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    messages.Add(doc.RootElement.GetProperty("msg").GetString() ?? throw new FormatException("msg is null"));
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
                {
                    throw new FormatException($"{file}:{lineNo} is not a JSON object with a string 'msg' ({e.Message}): {line}");
                }
            }
        }
        return messages;
    }

    /// <summary>Polls <see cref="Messages"/> until <paramref name="done"/> holds; the last read is returned.</summary>
    public static async Task<IReadOnlyList<string>> WaitForAsync(string filesDir, string type, Func<IReadOnlyList<string>, bool> done,
        Func<IReadOnlyList<string>, string> describe, TimeSpan timeout, Func<string>? context = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var messages = Messages(filesDir, type);
            if (done(messages)) return messages;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"the files under {TopicDir(filesDir, type)} did not catch up within {timeout.TotalSeconds:0} s: {describe(messages)}"
                                           + (context is null ? "" : "\n" + context()));
            await Task.Delay(200);
        }
    }
}

/// <summary>Posting NDJSON events to a node.</summary>
internal static class Ingress
{
    public static HttpClient NewClient() => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>One event line: <c>{"msg":"MESSAGE","host":"HOST","level":"info"}</c>.</summary>
    public static string Line(string message, string host) => $"{{\"msg\":\"{message}\",\"host\":\"{host}\",\"level\":\"info\"}}";

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, Uri node, string type, IEnumerable<string> lines, CancellationToken cancellation = default)
    {
        var content = new StringContent(string.Join('\n', lines) + "\n", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        return client.PostAsync(new Uri(node, "/v1/events?type=" + Uri.EscapeDataString(type)), content, cancellation);
    }

    /// <summary>Items delivered so far by the node's files pump, from <c>GET /healthz</c>.</summary>
    public static async Task<long> DeliveredAsync(HttpClient client, Uri node)
    {
        using var response = await client.GetAsync(new Uri(node, "/healthz"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("pumps").EnumerateArray().Sum(p => p.GetProperty("delivered").GetInt64());
    }
}

/// <summary>Bounded polling.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe, int intervalMs = 100)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"not within {timeout.TotalSeconds:0.#} s: {describe()}");
            await Task.Delay(intervalMs);
        }
    }
}
