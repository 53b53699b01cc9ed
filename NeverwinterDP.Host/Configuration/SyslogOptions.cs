using NeverwinterDP.Actors.Configuration;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// The syslog and RELP listeners (HOCON <c>nwdp.inputs.syslog</c>; every default in Host/Configuration/reference.conf).
/// A port is <c>off</c>, a port number, or 0 (any free port, printed in the ready line).
/// </summary>
public sealed record SyslogOptions
{
    /// <summary><c>host</c>: the address every syslog listener binds.</summary>
    public required string Host { get; init; }

    /// <summary><c>tcp-port</c>: syslog over TCP, octet counting or newline framing (RFC 6587), told apart per frame.</summary>
    public int? TcpPort { get; init; }

    /// <summary><c>tls-port</c>: the same over TLS (RFC 5425) with the ingress listener's certificate (<c>nwdp.security.tls</c>).</summary>
    public int? TlsPort { get; init; }

    /// <summary><c>udp-port</c>: one message per datagram (RFC 5426).</summary>
    public int? UdpPort { get; init; }

    /// <summary><c>relp-port</c>: rsyslog's RELP; each message acknowledged only once durable.</summary>
    public int? RelpPort { get; init; }

    /// <summary><c>max-message-bytes</c>: a longer frame breaks the framing (the connection is closed), a longer datagram is dropped.</summary>
    public required int MaxMessageBytes { get; init; }

    /// <summary><c>max-connections</c>: TCP, TLS and RELP connections at once, all listeners together; past it a new one is closed at once.</summary>
    public required int MaxConnections { get; init; }

    /// <summary><c>type</c> and <c>legacy-time-zone</c>: how messages become events.</summary>
    public required SyslogSettings Settings { get; init; }

    public bool AnyListener => TcpPort is not null || TlsPort is not null || UdpPort is not null || RelpPort is not null;

    public static SyslogOptions FromConfig(ConfigReader syslog)
    {
        ArgumentNullException.ThrowIfNull(syslog);
        var zone = syslog.String("legacy-time-zone").Trim();
        TimeZoneInfo timeZone;
        try
        {
            timeZone = zone.Equals("local", StringComparison.OrdinalIgnoreCase) ? TimeZoneInfo.Local : TimeZoneInfo.FindSystemTimeZoneById(zone);
        }
        catch (TimeZoneNotFoundException)
        {
            throw new ArgumentException($"{syslog.Key("legacy-time-zone")} = '{zone}' is not a time zone (use UTC, local or an IANA name such as Europe/Paris)");
        }
        var type = syslog.String("type").Trim();
        if (type.Length == 0) throw new ArgumentException($"{syslog.Key("type")} must name a log type");
        return new SyslogOptions
        {
            Host = syslog.String("host").Trim(),
            TcpPort = Port(syslog, "tcp-port"),
            TlsPort = Port(syslog, "tls-port"),
            UdpPort = Port(syslog, "udp-port"),
            RelpPort = Port(syslog, "relp-port"),
            MaxMessageBytes = (int)Math.Clamp(syslog.Bytes("max-message-bytes"), 480, 64L << 20),
            MaxConnections = syslog.PositiveInt("max-connections"),
            Settings = new SyslogSettings(type, timeZone),
        };
    }

    private static int? Port(ConfigReader syslog, string key)
    {
        var text = syslog.String(key).Trim();
        if (text.Equals("off", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase) || text.Length == 0) return null;
        return int.TryParse(text, out var port) && port is >= 0 and <= 65535
            ? port
            : throw new ArgumentException($"{syslog.Key(key)} must be off, a port number, or 0 (any free port); got '{text}'");
    }
}
