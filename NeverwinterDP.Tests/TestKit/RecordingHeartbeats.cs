using System.Collections.Concurrent;
using NeverwinterDP.Actors.Watchdog;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>An <see cref="IHeartbeatListener"/> that keeps what it heard.</summary>
public sealed class RecordingHeartbeats : IHeartbeatListener
{
    public ConcurrentQueue<SourceHeartbeat> Beats { get; } = new();

    public void Heartbeat(SourceHeartbeat heartbeat) => Beats.Enqueue(heartbeat);
}
