using System.Collections.Frozen;
using System.Reflection;

namespace NeverwinterDP.Protocol;

/// <summary>
/// The Avro schemas embedded in this assembly (<c>Schemas/*.avsc</c>), as JSON text. They are the source of
/// truth for the wire layout; until a schema registry exists they are what gets published to
/// <see cref="TopicNames.Schemas"/> and what <see cref="SchemaIds"/> number.
/// </summary>
public static class Schemas
{
    /// <summary>The <c>neverwinterdp.LogEvent</c> envelope (version 2, with <c>lineage.sender</c>).</summary>
    public static string LogEvent { get; } = Load("LogEvent");

    /// <summary>Version 1 of the <c>neverwinterdp.LogEvent</c> envelope (no <c>lineage.sender</c>): records written before version 2.</summary>
    public static string LogEventV1 { get; } = Load("LogEventV1");

    /// <summary>The <c>neverwinterdp.Heartbeat</c> control record.</summary>
    public static string Heartbeat { get; } = Load("Heartbeat");

    /// <summary>The <c>neverwinterdp.HourMarker</c> control record.</summary>
    public static string HourMarker { get; } = Load("HourMarker");

    /// <summary>Every embedded schema by record name, e.g. <c>"LogEvent"</c>.</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>
    {
        ["LogEvent"] = LogEvent,
        ["LogEventV1"] = LogEventV1,
        ["Heartbeat"] = Heartbeat,
        ["HourMarker"] = HourMarker,
    }.ToFrozenDictionary();

    /// <summary>Reads <c>Schemas/&lt;name&gt;.avsc</c> from the embedded resources.</summary>
    /// <exception cref="InvalidOperationException">No such schema is embedded.</exception>
    public static string Load(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var assembly = typeof(Schemas).Assembly;
        var resource = $"NeverwinterDP.Protocol.Schemas.{name}.avsc";
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException(
                $"No embedded schema '{name}' (resource '{resource}'); embedded are: {string.Join(", ", Names(assembly))}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static IEnumerable<string> Names(Assembly assembly) =>
        assembly.GetManifestResourceNames().Where(n => n.EndsWith(".avsc", StringComparison.Ordinal));
}
