using System.Net;

namespace NeverwinterDP.Actors.Sinks.Hdfs;

/// <summary>
/// A WebHDFS request failed: the server answered an error (its <c>RemoteException</c> named in
/// <see cref="JavaClassName"/>), or it could not be reached or answered too late (<see cref="Status"/> null).
/// An <see cref="IOException"/>: every such failure is worth retrying once the cause is gone.
/// </summary>
public sealed class WebHdfsException(string message, HttpStatusCode? status = null, string? exception = null, string? javaClassName = null, Exception? inner = null)
    : IOException(message, inner)
{
    public HttpStatusCode? Status { get; } = status;

    /// <summary>The <c>exception</c> of the RemoteException body (<c>StandbyException</c>, <c>FileNotFoundException</c>, ...).</summary>
    public string? Exception { get; } = exception;

    /// <summary>The <c>javaClassName</c> of the RemoteException body.</summary>
    public string? JavaClassName { get; } = javaClassName;

    /// <summary>The namenode is a standby (HA): another namenode is active.</summary>
    public bool IsStandby => Exception == "StandbyException";

    public bool IsNotFound => Exception == "FileNotFoundException" || (Exception is null && Status == HttpStatusCode.NotFound);

    /// <summary>Permissions or credentials: nothing a retry fixes until an operator does.</summary>
    public bool IsAccessDenied => Exception is "AccessControlException" or "SecurityException" or "AuthorizationException" or "InvalidToken"
        || (Exception is null && Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);

    public bool IsSafeMode => Exception == "SafeModeException";
}
