using NeverwinterDP.Actors.Spillover;
using Xunit;
using NeverwinterDP.Actors.Bus;
using Microsoft.Extensions.Time.Testing;

namespace NeverwinterDP.Tests.Bus;

public sealed class BusCircuitTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void While_down_one_attempt_per_probe_interval_tries_the_bus_and_a_success_closes_it()
    {
        var clock = new FakeTimeProvider(Start);
        var circuit = new BusCircuit(TimeSpan.FromSeconds(1), clock);
        Assert.True(circuit.IsUp);
        Assert.True(circuit.ShouldIngressTryBus());

        circuit.Failed();
        Assert.False(circuit.IsUp);
        Assert.Equal(Start, circuit.DownSince);
        Assert.False(circuit.ShouldIngressTryBus());
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(circuit.ShouldIngressTryBus());
        Assert.False(circuit.ShouldIngressTryBus()); // the probe of this interval is taken
        circuit.Succeeded();
        Assert.True(circuit.IsUp);
        Assert.Null(circuit.DownSince);
    }

    [Fact]
    public void While_a_replay_probes_ingress_requests_do_not()
    {
        var clock = new FakeTimeProvider(Start);
        var quota = new SpillQuota(1000);
        quota.Add(10);
        var circuit = new BusCircuit(TimeSpan.FromSeconds(1), clock, quota);
        circuit.Failed();
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.False(circuit.ShouldIngressTryBus()); // spilled at once: the replay of the backlog is the probe
        Assert.True(circuit.ShouldTryBus()); // ...which is what the replay asks
        clock.Advance(TimeSpan.FromSeconds(1));
        quota.Release(10); // nothing to replay (the spill refused everything): requests probe again
        Assert.True(circuit.ShouldIngressTryBus());
        circuit.Succeeded();
        quota.Add(10);
        Assert.True(circuit.ShouldIngressTryBus()); // up: a backlog does not keep requests off the bus
    }
}
