namespace NeverwinterDP.Host.Cli;

public static class RunVerb
{
    public static readonly VerbSpec Spec = new("run", "Start a node.", [], (_, _) => Task.FromResult(0));
}
