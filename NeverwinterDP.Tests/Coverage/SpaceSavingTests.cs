using NeverwinterDP.Actors.Coverage;
using Xunit;

namespace NeverwinterDP.Tests.Coverage;

/// <summary>The top-values summary against exact counts on generated (skewed, fixed-seed) data: its guarantees hold, also after merging.</summary>
public sealed class SpaceSavingTests
{
    /// <summary>A Zipf-like stream: value i with weight 1/(i+1)^s over <paramref name="distinct"/> values.</summary>
    private static List<string> Stream(int n, int distinct, int seed, double s = 1.1, string prefix = "v")
    {
        var random = new Random(seed);
        var weights = Enumerable.Range(0, distinct).Select(i => 1 / Math.Pow(i + 1, s)).ToArray();
        var cumulative = new double[distinct];
        var sum = 0.0;
        for (var i = 0; i < distinct; i++) cumulative[i] = sum += weights[i];
        var values = new List<string>(n);
        for (var j = 0; j < n; j++)
        {
            var i = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            values.Add(prefix + (i < 0 ? ~i : i));
        }
        return values;
    }

    /// <param name="k">The counters the bound is stated for: the smallest capacity among the merged summaries.</param>
    private static void AssertGuarantees(SpaceSaving summary, IReadOnlyList<string> stream, int? k = null)
    {
        var exact = stream.GroupBy(v => v).ToDictionary(g => g.Key, g => (long)g.Count());
        var n = stream.Count;
        var bound = n / (k ?? summary.Capacity);
        Assert.Equal(n, summary.Total);
        var top = summary.Top();
        foreach (var t in top)
        {
            var truth = exact.GetValueOrDefault(t.Value);
            Assert.True(t.Count - t.Error <= truth && truth <= t.Count, $"{t.Value}: true {truth} outside [{t.Count - t.Error}, {t.Count}]");
            Assert.True(t.Error <= bound, $"{t.Value}: error {t.Error} > N/k = {bound}");
        }
        var tracked = top.Select(t => t.Value).ToHashSet();
        foreach (var (value, truth) in exact)
        {
            if (tracked.Contains(value)) continue;
            Assert.True(truth <= summary.MinCount, $"{value} ({truth}) is not tracked but occurred more than the minimum {summary.MinCount}");
            Assert.True(truth <= bound, $"{value} ({truth}) is more frequent than N/k = {bound} and not tracked");
        }
    }

    [Theory]
    [InlineData(100_000, 5_000, 20, 1)]
    [InlineData(100_000, 5_000, 50, 2)]
    [InlineData(50_000, 50_000, 20, 3)] // nearly uniform over more values than counters
    public void Every_tracked_count_is_within_its_error_and_every_value_above_N_over_k_is_tracked(int n, int distinct, int k, int seed)
    {
        var stream = Stream(n, distinct, seed);
        var summary = new SpaceSaving(k);
        foreach (var v in stream) summary.Add(v);
        AssertGuarantees(summary, stream);
    }

    [Fact]
    public void The_heaviest_values_of_a_skewed_stream_come_out_in_order()
    {
        var stream = Stream(200_000, 10_000, 11, s: 1.3);
        var summary = new SpaceSaving(20);
        foreach (var v in stream) summary.Add(v);
        var exactTop = stream.GroupBy(v => v).OrderByDescending(g => g.Count()).Take(5).Select(g => g.Key);
        Assert.Equal(exactTop, summary.Top(5).Select(t => t.Value));
    }

    [Fact]
    public void Merged_summaries_of_three_nodes_keep_the_guarantees_for_the_combined_stream()
    {
        // Differently skewed parts, as three ingress nodes would see them.
        var parts = new[] { Stream(40_000, 3_000, 21), Stream(30_000, 3_000, 22, s: 0.9), Stream(30_000, 500, 23, s: 1.5, prefix: "w") };
        var merged = new SpaceSaving(30);
        foreach (var part in parts)
        {
            var summary = new SpaceSaving(30);
            foreach (var v in part) summary.Add(v);
            AssertGuarantees(summary, part);
            merged.Merge(SpaceSaving.FromWire(summary.ToWire()));
        }
        AssertGuarantees(merged, parts.SelectMany(p => p).ToList());
    }

    [Fact]
    public void Fewer_distinct_values_than_counters_are_counted_exactly()
    {
        var summary = new SpaceSaving(10);
        foreach (var (v, n) in new[] { ("200", 70), ("404", 20), ("500", 9), ("", 1) })
            for (var i = 0; i < n; i++) summary.Add(v);
        Assert.Equal([new TopValue("200", 70, 0), new TopValue("404", 20, 0), new TopValue("500", 9, 0), new TopValue("", 1, 0)], summary.Top());
        Assert.Equal(0, summary.MinCount);
    }

    [Fact]
    public void A_full_summary_of_a_smaller_capacity_merges_into_a_larger_one_with_a_bound_for_what_it_dropped()
    {
        var part = Stream(20_000, 2_000, 31);
        var small = new SpaceSaving(5);
        foreach (var v in part) small.Add(v);
        var large = new SpaceSaving(50);
        large.Merge(small);
        AssertGuarantees(large, part, k: 5);
        foreach (var v in Stream(10_000, 100, 32, prefix: "z"))
        {
            large.Add(v);
            part.Add(v);
        }
        AssertGuarantees(large, part, k: 5);
    }
}
