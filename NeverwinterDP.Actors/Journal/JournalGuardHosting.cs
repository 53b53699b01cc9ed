using Akka.Actor;
using Akka.Hosting;

namespace NeverwinterDP.Actors.Journal;

public static class JournalGuardHosting
{
    /// <summary>The <see cref="JournalGuardActor"/> at <c>/user/journal-guard</c> on every node (others ask it by that path).</summary>
    public static AkkaConfigurationBuilder WithJournalGuard(this AkkaConfigurationBuilder akka, Func<CancellationToken, Task<JournalIdentity>> read,
        string location, JournalGuardOptions options, Action<string> refuse) =>
        akka.WithActors((system, registry) =>
            registry.Register<JournalGuardActor>(system.ActorOf(Props.Create(() => new JournalGuardActor(read, location, options, refuse)), JournalGuardActor.Name)));
}
