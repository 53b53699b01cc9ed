using System.Reflection;
using Akka.Configuration;

namespace NeverwinterDP.Actors.Configuration;

/// <summary>
/// The modules' defaults: every embedded resource named <c>*.reference.conf</c> (one per module folder, every key
/// commented), merged. The node's configuration is <c>flags → environment → operator file → these</c>.
/// </summary>
public static class ReferenceConfig
{
    /// <summary>The <c>reference.conf</c> files embedded in <paramref name="assemblies"/>, by resource name.</summary>
    public static IReadOnlyList<(string Name, Config Config)> Files(params Assembly[] assemblies) =>
        assemblies.Distinct()
            .SelectMany(a => a.GetManifestResourceNames()
                .Where(n => n.EndsWith("reference.conf", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .Select(n => (n, Parse(a, n))))
            .ToList();

    /// <summary>NeverwinterDP.Actors' modules' defaults (Kafka stages, ingress, pump, spillover, ...).</summary>
    public static Config Actors => ActorsReference.Value;

    /// <summary>The files of <paramref name="assemblies"/> merged into one config (an earlier file wins a key two files set).</summary>
    public static Config Of(params Assembly[] assemblies) =>
        Files(assemblies).Aggregate(ConfigurationFactory.Empty, (merged, file) => merged.WithFallback(file.Config));

    private static readonly Lazy<Config> ActorsReference = new(() => Of(typeof(ReferenceConfig).Assembly));

    private static Config Parse(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"missing embedded {name}");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
