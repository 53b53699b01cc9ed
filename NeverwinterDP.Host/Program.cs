using NeverwinterDP.Host.Cli;

namespace NeverwinterDP.Host;

public static class Program
{
    public static Task<int> Main(string[] args) => CliApp.RunAsync(args);
}
