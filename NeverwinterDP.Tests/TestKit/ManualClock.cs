namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// A clock the test moves by hand whose timers are the real ones. Use it where the code under test also runs timers
/// (a whole node, an actor's scheduler, <c>Task.Delay</c>) that must keep firing in real time while the wall clock
/// it reads is moved (ingress time decides the hour folder, a watchdog's deadline passes). Where nothing but the time
/// read matters, use <see cref="Microsoft.Extensions.Time.Testing.FakeTimeProvider"/>: its timers fire only when it is advanced.
/// </summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
