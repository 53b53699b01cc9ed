using Akka.Hosting;
using Microsoft.Extensions.Logging.Console;

namespace NeverwinterDP.Host.Node;

/// <summary>One log for the whole node: ASP.NET's and Akka's lines alike go through Microsoft.Extensions.Logging to standard error, one line each.</summary>
public static class NodeLogging
{
    /// <summary>Single-line console logging on standard error (standard output carries only the ready line, for scripts).</summary>
    public static ILoggingBuilder AddNodeLogging(this ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        return logging;
    }

    /// <summary>Akka's loggers replaced by <see cref="AkkaLogger"/>: Akka's lines in the node's log, formatted once.</summary>
    public static AkkaConfigurationBuilder WithNodeLogging(this AkkaConfigurationBuilder akka) =>
        akka.ConfigureLoggers(loggers =>
        {
            loggers.ClearLoggers();
            loggers.AddLogger<AkkaLogger>();
        });
}
