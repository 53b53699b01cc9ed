using System.Reflection;
using Akka.Actor;
using Akka.Configuration;

namespace NeverwinterDP.Actors.Kafka.Settings;

/// <summary>The embedded <c>reference.conf</c> of the Kafka stages, merged under whatever config the caller has.</summary>
public static class KafkaConfig
{
    private static readonly Lazy<Config> Reference = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("NeverwinterDP.Kafka.reference.conf")
            ?? throw new InvalidOperationException("missing embedded Kafka reference.conf");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    });

    public static Config Default => Reference.Value;

    /// <summary>The <c>akka.kafka.*</c> section of <paramref name="system"/>'s config over the defaults.</summary>
    public static Config Section(ActorSystem system, string name) =>
        system.Settings.Config.WithFallback(Default).GetConfig("akka.kafka." + name);

    public static Config Section(string name) => Default.GetConfig("akka.kafka." + name);

    /// <summary>Flattens a <c>kafka-clients</c> block into librdkafka property names (dots kept as they are).</summary>
    internal static IReadOnlyDictionary<string, string> ClientProperties(Config section)
    {
        var result = new Dictionary<string, string>();
        if (!section.HasPath("kafka-clients")) return result;
        // HOCON reads `enable.idempotence = true` as nested objects; librdkafka wants the dotted name back.
        Flatten(section.GetValue("kafka-clients").GetObject(), "", result);
        return result;
    }

    private static void Flatten(Akka.Configuration.Hocon.HoconObject obj, string prefix, Dictionary<string, string> into)
    {
        foreach (var (key, value) in obj.Items)
        {
            var name = prefix.Length == 0 ? key : prefix + "." + key;
            if (value.IsObject()) Flatten(value.GetObject(), name, into);
            else into[name] = value.GetString();
        }
    }
}
