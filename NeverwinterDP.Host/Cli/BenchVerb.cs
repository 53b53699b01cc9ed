namespace NeverwinterDP.Host.Cli;

public static class BenchVerb
{
    public static readonly VerbSpec Spec = new("bench", "Load generator.", [], (_, _) => Task.FromResult(0));
}
