using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Dispatch;
using Akka.Event;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// Akka's log events written once through the node's <see cref="ILoggerFactory"/>: one line per event with its
/// source and message, without the timestamp, thread and level prefix Akka's own formatter adds (the console
/// logger already writes time and level). The category is the class that logged (e.g. <c>Akka.Cluster.Cluster</c>).
/// </summary>
public sealed class AkkaLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILoggerFactory _factory;
    private readonly Dictionary<Type, ILogger> _loggers = new();

    public AkkaLogger()
    {
        _factory = DependencyResolver.For(Context.System).Resolver.GetService<ILoggerFactory>();
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<Error>(e => Write(e, LogLevel.Error));
        Receive<Warning>(e => Write(e, LogLevel.Warning));
        Receive<Info>(e => Write(e, LogLevel.Information));
        Receive<Debug>(e => Write(e, LogLevel.Debug));
    }

    private void Write(LogEvent e, LogLevel level)
    {
        var type = e.LogClass is null || e.LogClass == typeof(DummyClassForStringSources) ? typeof(ActorSystem) : e.LogClass;
        if (!_loggers.TryGetValue(type, out var log))
            _loggers[type] = log = _factory.CreateLogger(type == typeof(ActorSystem) ? "Akka" : type.FullName ?? type.Name);
        if (!log.IsEnabled(level)) return;
        log.Log(level, 0, (Source: ShortSource(e.LogSource), Message: e.Message?.ToString()), e.Cause,
            static (s, _) => string.IsNullOrEmpty(s.Source) ? s.Message ?? "" : $"{s.Source}: {s.Message}");
    }

    /// <summary>
    /// The source without this node's address, which every line would repeat: <c>akka.tcp://nwdp@host:port/system/x</c>
    /// becomes <c>/system/x</c>, <c>Cluster (akka://nwdp)</c> becomes <c>Cluster</c>.
    /// </summary>
    public static string ShortSource(string? source)
    {
        if (string.IsNullOrEmpty(source)) return "";
        var scheme = source.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return source;
        if (source.EndsWith(')') && source.LastIndexOf(" (", StringComparison.Ordinal) is var open and > 0 && open < scheme) return source[..open];
        var path = source.IndexOf('/', scheme + 3);
        return path < 0 ? source : source[path..];
    }
}
