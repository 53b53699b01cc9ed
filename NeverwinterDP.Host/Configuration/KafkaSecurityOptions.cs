using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// How the node's Kafka clients authenticate to a real cluster (<c>nwdp.kafka.security</c>), mapped to librdkafka's
/// properties: <c>security.protocol</c>, <c>sasl.mechanism</c>/<c>sasl.username</c>/<c>sasl.password</c>,
/// <c>ssl.ca.location</c>/<c>ssl.certificate.location</c>/<c>ssl.key.location</c>/<c>ssl.key.password</c>,
/// <c>ssl.endpoint.identification.algorithm</c>. Checked at start, each error naming its key.
/// </summary>
public sealed class KafkaSecurityOptions
{
    private static readonly string[] Protocols = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];
    private static readonly string[] Mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

    private KafkaSecurityOptions(string protocol, IReadOnlyDictionary<string, string> properties)
    {
        Protocol = protocol;
        Properties = properties;
    }

    /// <summary><c>plaintext</c>, <c>ssl</c>, <c>sasl_plaintext</c> or <c>sasl_ssl</c>.</summary>
    public string Protocol { get; }

    public bool IsPlaintext => Protocol == "plaintext";

    /// <summary>The librdkafka properties every client of the node gets (empty for plaintext).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; }

    public static KafkaSecurityOptions Plaintext { get; } = new("plaintext", new Dictionary<string, string>());

    /// <summary>Reads <c>nwdp.kafka.security</c> (<paramref name="security"/>).</summary>
    public static KafkaSecurityOptions FromConfig(ConfigReader security)
    {
        var protocol = security.String("protocol").Trim().ToLowerInvariant();
        if (!Protocols.Contains(protocol))
            throw new ArgumentException($"{security.Key("protocol")} = '{protocol}' is not one of {string.Join(", ", Protocols)}");
        var sasl = security.Section("sasl");
        var ssl = security.Section("ssl");
        var mechanism = sasl.OptionalString("mechanism");
        var username = sasl.OptionalString("username");
        var password = sasl.OptionalString("password");
        var ca = ssl.OptionalString("ca-file");
        var cert = ssl.OptionalString("cert-file");
        var key = ssl.OptionalString("key-file");
        var keyPassword = ssl.OptionalString("key-password");
        var identification = ssl.String("endpoint-identification").Trim().ToLowerInvariant();
        if (identification is not ("https" or "none"))
            throw new ArgumentException($"{ssl.Key("endpoint-identification")} = '{identification}' is not https or none");

        var usesSasl = protocol.StartsWith("sasl_", StringComparison.Ordinal);
        var usesTls = protocol.EndsWith("ssl", StringComparison.Ordinal);
        if (!usesSasl && (mechanism ?? username ?? password) is not null)
            throw new ArgumentException($"{sasl.Path}.* is set but {security.Key("protocol")} = {protocol}: use sasl_plaintext or sasl_ssl");
        if (!usesTls && (ca ?? cert ?? key ?? keyPassword) is not null)
            throw new ArgumentException($"{ssl.Path}.* is set but {security.Key("protocol")} = {protocol}: use ssl or sasl_ssl");
        if (protocol == "plaintext") return Plaintext;

        var properties = new Dictionary<string, string> { ["security.protocol"] = protocol };
        if (usesSasl)
        {
            if (mechanism is null) throw new ArgumentException($"{sasl.Key("mechanism")} is required with {protocol} ({string.Join(", ", Mechanisms)})");
            var canonical = Mechanisms.FirstOrDefault(m => string.Equals(m, mechanism, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"{sasl.Key("mechanism")} = '{mechanism}' is not one of {string.Join(", ", Mechanisms)}");
            if (username is null) throw new ArgumentException($"{sasl.Key("username")} is required with {protocol}");
            if (password is null) throw new ArgumentException($"{sasl.Key("password")} is required with {protocol} (env NWDP_KAFKA_SASL_PASSWORD)");
            properties["sasl.mechanism"] = canonical;
            properties["sasl.username"] = username;
            properties["sasl.password"] = password;
        }
        if (usesTls)
        {
            if ((cert is null) != (key is null))
                throw new ArgumentException($"{ssl.Key("cert-file")} and {ssl.Key("key-file")} go together (a client certificate and its key)");
            if (keyPassword is not null && key is null)
                throw new ArgumentException($"{ssl.Key("key-password")} needs {ssl.Key("key-file")}");
            if (ca is not null) properties["ssl.ca.location"] = ExistingFile(ca, ssl.Key("ca-file"));
            if (cert is not null) properties["ssl.certificate.location"] = ExistingFile(cert, ssl.Key("cert-file"));
            if (key is not null) properties["ssl.key.location"] = ExistingFile(key, ssl.Key("key-file"));
            if (keyPassword is not null) properties["ssl.key.password"] = keyPassword;
            properties["ssl.endpoint.identification.algorithm"] = identification;
        }
        return new KafkaSecurityOptions(protocol, properties);
    }

    private static string ExistingFile(string path, string key)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new ArgumentException($"{key}: file not found: {full}");
        return full;
    }
}
