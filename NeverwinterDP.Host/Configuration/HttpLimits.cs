using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// Kestrel's limits on both HTTP listeners (HOCON <c>nwdp.http.limits</c>): what one connection or request may take of
/// the node before it has sent a byte of a body, and against senders that trickle (slowloris).
/// </summary>
/// <param name="MaxConnections">Connections at once, both listeners together; null = no limit.</param>
/// <param name="MaxRequestLineBytes">The request line (method, target, version): past it 414.</param>
/// <param name="MaxHeaderBytes">All the headers of a request together: past it 431.</param>
/// <param name="MaxHeaderCount">Headers in a request: past it 431.</param>
/// <param name="MinBodyBytesPerSecond">A body slower than this after <paramref name="MinBodyGrace"/> is cut off: 408.</param>
/// <param name="KeepAliveTimeout">An idle keep-alive connection is closed after this.</param>
/// <param name="HeadersTimeout">The headers of a request must all arrive within this, or the connection is closed.</param>
public sealed record HttpLimits(
    long? MaxConnections,
    int MaxRequestLineBytes,
    int MaxHeaderBytes,
    int MaxHeaderCount,
    double MinBodyBytesPerSecond,
    TimeSpan MinBodyGrace,
    TimeSpan KeepAliveTimeout,
    TimeSpan HeadersTimeout)
{
    public static HttpLimits FromConfig(ConfigReader limits) => new(
        limits.String("max-connections").Trim() is "off" or "0" ? null : limits.PositiveInt("max-connections"),
        (int)Math.Min(limits.Bytes("max-request-line-bytes"), int.MaxValue),
        (int)Math.Min(limits.Bytes("max-header-bytes"), int.MaxValue),
        limits.PositiveInt("max-header-count"),
        limits.PositiveInt("min-body-bytes-per-second"),
        limits.PositiveDuration("min-body-grace"),
        limits.PositiveDuration("keep-alive-timeout"),
        limits.PositiveDuration("headers-timeout"));

    /// <summary>Sets them on Kestrel.</summary>
    public void ApplyTo(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits kestrel)
    {
        kestrel.MaxConcurrentConnections = MaxConnections;
        kestrel.MaxConcurrentUpgradedConnections = MaxConnections;
        kestrel.MaxRequestLineSize = MaxRequestLineBytes;
        kestrel.MaxRequestHeadersTotalSize = MaxHeaderBytes;
        kestrel.MaxRequestHeaderCount = MaxHeaderCount;
        kestrel.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(MinBodyBytesPerSecond, MinBodyGrace);
        kestrel.KeepAliveTimeout = KeepAliveTimeout;
        kestrel.RequestHeadersTimeout = HeadersTimeout;
    }
}
