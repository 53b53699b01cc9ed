using Akka.Actor;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// How <c>nwdp run</c> exits once the node has stopped: 0, or the code and reason of a refusal that stopped it (a
/// journal that is not the cluster's: <see cref="JournalRefused"/>).
/// </summary>
public sealed class NodeExit
{
    /// <summary>The exit code of a node that left the cluster because its journal is not the cluster's.</summary>
    public const int JournalRefused = 3;

    private volatile string? _reason;

    public int Code { get; private set; }
    public string? Reason => _reason;

    public void Fail(int code, string reason)
    {
        Code = code;
        _reason = reason;
    }
}

/// <summary>The CoordinatedShutdown reason of a node that leaves because its journal is not the cluster's.</summary>
public sealed class JournalMismatchReason : CoordinatedShutdown.Reason
{
    public static readonly JournalMismatchReason Instance = new();

    public override int ExitCode => NodeExit.JournalRefused;

    public override string ToString() => "this node's journal is not the cluster's";
}
