using NeverwinterDP.Actors.Memory;
using Xunit;

namespace NeverwinterDP.Tests.Memory;

public sealed class HeapGiveBackTests
{
    [Fact]
    public async Task A_large_report_is_given_back_only_once_every_holder_is_idle_and_each_holder_hears_of_it()
    {
        var giveBack = new HeapGiveBack(after: 1000, interval: TimeSpan.Zero, idle: TimeSpan.FromMilliseconds(40));
        long ingress = 0, pump = 5000;
        var looks = 0;
        var resets = 0;
        using var a = giveBack.Register(() => Interlocked.Read(ref ingress), () => Interlocked.Increment(ref resets));
        using var b = giveBack.Register(() =>
        {
            Interlocked.Increment(ref looks);
            return Interlocked.Read(ref pump);
        });

        giveBack.Held(999); // below After: nothing to give back
        giveBack.Held(4000);
        // It looks while the pump holds records, and does not collect.
        await Until(() => Volatile.Read(ref looks) >= 3);
        Assert.Equal(0, giveBack.Count);
        Assert.Equal(0, Volatile.Read(ref resets));

        Interlocked.Exchange(ref pump, 0);
        await Until(() => giveBack.Count == 1);
        Assert.Equal(1, Volatile.Read(ref resets));

        // A holder that left is not asked any more; the next large report gets its own give-back.
        b.Dispose();
        var before = Volatile.Read(ref looks);
        giveBack.Held(1000);
        await Until(() => giveBack.Count == 2);
        Assert.Equal(before, Volatile.Read(ref looks));
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 30 s");
            await Task.Delay(10);
        }
    }
}
