namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// Where the Ganglia exporter sends the node's metrics (HOCON <c>nwdp.monitoring.ganglia</c>: <c>host</c>, <c>port</c>,
/// <c>interval</c>); off when <see cref="Host"/> is empty (the default).
/// </summary>
public sealed record GangliaOptions(string Host, int Port, TimeSpan Interval)
{
    public bool Enabled => Host.Length > 0;
}
