using System.Text.Json;
using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Client;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>One published line of the files sink, parsed.</summary>
public sealed record PublishedEvent(string Message, string Host, string Process, string Type, string Level, long Ts, long SystemTs,
    string IngressNode, long SourceSeq, IReadOnlyDictionary<string, string> Attributes, string File);

internal static class ClientTestKit
{
    /// <summary>The receptionist address the node serves EmitterClients on.</summary>
    public static string ContactPoint(this InProcessNode node) => node.App.Services.GetRequiredService<RemoteIngressService>().ContactPoint;

    /// <summary>A client tuned for tests: loopback, quick to notice a lost node, short timeouts.</summary>
    public static EmitterClientOptions Options(params InProcessNode[] nodes) => new()
    {
        ContactPoints = nodes.Select(n => n.ContactPoint()).ToList(),
        Host = "test-host",
        Process = "test-process",
        Hostname = "127.0.0.1",
        AckTimeout = TimeSpan.FromSeconds(3),
        MinBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromSeconds(1),
        BatchInterval = TimeSpan.FromMilliseconds(20),
        AkkaConfig = ConfigurationFactory.ParseString("""
            akka.cluster.client {
              heartbeat-interval = 500ms
              acceptable-heartbeat-pause = 2s
              establishing-get-contacts-interval = 300ms
              refresh-contacts-interval = 1s
            }
            """),
    };

    /// <summary>Every event the files sink published for <paramref name="topic"/>, in file-name (partition, offset) order.</summary>
    public static List<PublishedEvent> Published(this InProcessNode node, string topic)
    {
        var dir = Path.Combine(node.FilesDir, topic);
        if (!Directory.Exists(dir)) return [];
        var files = Directory.EnumerateFiles(dir, "*.ndjson", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .OrderBy(f => Path.GetDirectoryName(f), StringComparer.Ordinal).ThenBy(Path.GetFileName, StringComparer.Ordinal);
        var result = new List<PublishedEvent>();
        foreach (var file in files)
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.Length == 0) continue;
                var root = JsonDocument.Parse(line).RootElement;
                var lineage = root.GetProperty("lineage");
                result.Add(new PublishedEvent(root.GetProperty("msg").GetString()!, root.GetProperty("host").GetString()!,
                    root.GetProperty("process").GetString()!, root.GetProperty("type").GetString()!, root.GetProperty("level").GetString()!,
                    root.GetProperty("ts").GetInt64(), root.GetProperty("system_ts").GetInt64(),
                    lineage.GetProperty("node").GetString()!, lineage.GetProperty("seq").GetInt64(),
                    root.GetProperty("attributes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!), Path.GetFileName(file)));
            }
        }
        return result;
    }

    public static LogEvent Event(string run, string host, int i, string type) => new()
    {
        Ts = 1_780_000_000_000 + i,
        Host = host,
        Ip = "10.0.0." + (i % 250),
        Process = "worker",
        Type = type,
        Version = "1.2." + (i % 3),
        Level = i % 10 == 0 ? "warn" : "info",
        Message = $"{run}-{host}-{i}",
        Attributes = new Dictionary<string, string> { ["i"] = i.ToString(), ["run"] = run, ["note"] = "héllo \"quoted\"" },
    };

    public static async Task Eventually(Func<bool> condition, TimeSpan timeout, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in " + timeout + (describe is null ? "" : ": " + describe()));
            await Task.Delay(50);
        }
    }
}
