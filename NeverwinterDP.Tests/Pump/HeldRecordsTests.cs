using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Sinks.Framework;
using Xunit;

namespace NeverwinterDP.Tests.Pump;

/// <summary>
/// The records a partition holds until they are counted: kept in offset order across chunks, replaced when written
/// again, a late gap filled in place (a full chunk splits), and taken from the front in order.
/// </summary>
public sealed class HeldRecordsTests
{
    private static DeliveryCount Count(long offset, int version = 0) => new(offset * 10 + version, "app", (int)(offset % 1000) + version);

    [Fact]
    public void Records_come_out_in_offset_order_below_the_position_and_the_rest_stay()
    {
        var held = new HeldRecords();
        for (long o = 0; o < 3 * HeldRecords.ChunkSize + 7; o++) Assert.True(held.Hold(o, Count(o)));
        Assert.Equal(3 * HeldRecords.ChunkSize + 7, held.Count);

        var taken = new List<DeliveryCount>();
        Assert.Equal(HeldRecords.ChunkSize + 5, held.RemoveBelow(HeldRecords.ChunkSize + 5, taken));
        Assert.Equal(Enumerable.Range(0, HeldRecords.ChunkSize + 5).Select(o => Count(o)), taken);
        Assert.Equal(2 * HeldRecords.ChunkSize + 2, held.Count);

        Assert.Equal(0, held.RemoveBelow(HeldRecords.ChunkSize + 5, null)); // nothing left below it
        taken.Clear();
        Assert.Equal(2 * HeldRecords.ChunkSize + 2, held.RemoveBelow(long.MaxValue, taken));
        Assert.Equal(HeldRecords.ChunkSize + 5, taken[0].SystemTs / 10);
        Assert.Equal(0, held.Count);
    }

    [Fact]
    public void A_record_written_again_replaces_itself_and_a_late_one_fills_its_gap()
    {
        var held = new HeldRecords();
        foreach (var o in new long[] { 1, 2, 4, 5 }) held.Hold(o, Count(o));
        Assert.False(held.Hold(2, Count(2, version: 1))); // written again
        Assert.True(held.Hold(3, Count(3)));              // retried after the ones behind it
        Assert.True(held.Hold(0, Count(0)));              // before every other
        Assert.Equal(6, held.Count);

        var taken = new List<DeliveryCount>();
        held.RemoveBelow(100, taken);
        Assert.Equal(new[] { Count(0), Count(1), Count(2, version: 1), Count(3), Count(4), Count(5) }, taken);
    }

    [Fact]
    public void Random_writes_rewrites_gaps_and_removals_match_a_sorted_model()
    {
        var random = new Random(1234);
        var held = new HeldRecords();
        var model = new SortedDictionary<long, DeliveryCount>();
        long next = 0, floor = 0;
        for (var step = 0; step < 200_000; step++)
        {
            var roll = random.Next(1000);
            if (roll < 900)
            {
                // Mostly in order, with gaps (a record dead-lettered or retried later).
                next += random.Next(10) == 0 ? 2 : 1;
                Hold(next, Count(next));
            }
            else if (roll < 980 && next > floor)
            {
                // Written again, or a gap filled: anywhere at or above the counted position.
                var o = floor + random.NextInt64(next - floor + 1);
                Hold(o, Count(o, version: random.Next(1, 9)));
            }
            else
            {
                // Counted (or dropped) up to somewhere not far behind the newest.
                floor = Math.Max(floor, next - random.Next(3 * HeldRecords.ChunkSize));
                var expected = model.Where(e => e.Key < floor).Select(e => e.Value).ToList();
                var taken = new List<DeliveryCount>();
                Assert.Equal(expected.Count, held.RemoveBelow(floor, roll % 2 == 0 ? taken : null));
                if (roll % 2 == 0) Assert.Equal(expected, taken);
                foreach (var k in model.Keys.Where(k => k < floor).ToList()) model.Remove(k);
            }
            Assert.Equal(model.Count, held.Count);
        }
        var rest = new List<DeliveryCount>();
        held.RemoveBelow(long.MaxValue, rest);
        Assert.Equal(model.Values, rest);

        void Hold(long offset, DeliveryCount count)
        {
            if (offset < floor) return; // below the counted position the caller never holds
            Assert.Equal(!model.ContainsKey(offset), held.Hold(offset, count));
            model[offset] = count;
        }
    }
}
