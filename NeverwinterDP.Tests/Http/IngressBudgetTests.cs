using NeverwinterDP.Actors.Ingress;
using Xunit;

namespace NeverwinterDP.Tests.Http;

/// <summary>The node's one budget of bytes in flight: bounded, given back, and its peak across requests.</summary>
public class IngressBudgetTests
{
    [Fact]
    public void Requests_reserve_up_to_the_limit_and_give_everything_back_on_dispose()
    {
        var budget = new IngressBudget(100);
        using (var a = budget.Open())
        using (var b = budget.Open())
        {
            Assert.True(a.TryGrowTo(60));
            Assert.False(b.TryGrowTo(41)); // 101 would pass the limit: nothing more held
            Assert.Equal(0, b.Bytes);
            Assert.True(b.TryGrowBy(40));
            Assert.Equal(100, budget.InFlight);
        }
        Assert.Equal(0, budget.InFlight);
    }

    [Fact]
    public void The_peak_is_what_requests_held_together_not_one_requests_share_and_taking_it_starts_anew()
    {
        var budget = new IngressBudget(1000);
        var reservations = Enumerable.Range(0, 8).Select(_ => budget.Open()).ToList();
        foreach (var r in reservations) Assert.True(r.TryGrowTo(100));
        foreach (var r in reservations) r.Dispose();

        Assert.Equal(0, budget.InFlight);
        Assert.Equal(800, budget.Peak);
        Assert.Equal(100, reservations.Max(r => r.Peak)); // no single request held more than 100

        Assert.Equal(800, budget.TakePeak());
        Assert.Equal(0, budget.Peak);
        using var next = budget.Open();
        Assert.True(next.TryGrowTo(30));
        Assert.Equal(30, budget.Peak);
    }

    [Fact]
    public async Task The_peak_is_exact_under_concurrent_reservations()
    {
        var budget = new IngressBudget(long.MaxValue / 2);
        using var start = new Barrier(4);
        var held = Enumerable.Range(0, 4).Select(_ => budget.Open()).ToList();
        await Task.WhenAll(held.Select(r => Task.Run(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 10_000; i++) Assert.True(r.TryGrowBy(1));
        })));
        Assert.Equal(40_000, budget.Peak);
        foreach (var r in held) r.Dispose();
        Assert.Equal(40_000, budget.Peak);
    }
}
