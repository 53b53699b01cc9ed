using NeverwinterDP.Actors.Coverage;
using Xunit;

namespace NeverwinterDP.Tests.Coverage;

/// <summary>The distinct-count estimate against exact counts on generated data (fixed seeds): the stated error holds.</summary>
public sealed class HyperLogLogTests
{
    /// <summary>n distinct-ish values from a seed (exact distinct count computed alongside, not assumed).</summary>
    private static (HyperLogLog Sketch, int Exact) Feed(int precision, int n, int seed, string prefix = "user-")
    {
        var random = new Random(seed);
        var sketch = new HyperLogLog(precision);
        var exact = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var value = prefix + random.Next(0, int.MaxValue).ToString("x");
            sketch.Add(value);
            exact.Add(value);
        }
        return (sketch, exact.Count);
    }

    [Theory]
    [InlineData(12, 1_000)]
    [InlineData(12, 5_000)]
    [InlineData(12, 10_000)]
    [InlineData(12, 50_000)]
    [InlineData(12, 300_000)]
    [InlineData(14, 100_000)]
    [InlineData(10, 20_000)]
    public void An_estimate_lies_within_three_standard_errors_of_the_exact_count(int precision, int n)
    {
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var (sketch, exact) = Feed(precision, n, seed);
            var error = Math.Abs(sketch.Estimate() - exact) / (double)exact;
            Assert.True(error <= 3 * sketch.StandardError, $"p={precision} n={exact} seed={seed}: estimate {sketch.Estimate()}, error {error:P2} > 3 x {sketch.StandardError:P2}");
        }
    }

    [Fact]
    public void The_root_mean_square_error_over_many_seeds_is_about_the_stated_standard_error()
    {
        // p=12: 1.04/sqrt(4096) = 1.625%. Over 30 seeds the RMS relative error stays below 1.5x that.
        var squares = new List<double>();
        for (var seed = 100; seed < 130; seed++)
        {
            var (sketch, exact) = Feed(12, 40_000, seed);
            var e = (sketch.Estimate() - exact) / (double)exact;
            squares.Add(e * e);
        }
        var rms = Math.Sqrt(squares.Average());
        Assert.Equal(0.01625, HyperLogLog.StandardErrorOf(12), 5);
        Assert.True(rms <= 1.5 * HyperLogLog.StandardErrorOf(12), $"RMS error {rms:P2}");
    }

    [Fact]
    public void Few_distinct_values_are_counted_exactly_and_repeats_do_not_count()
    {
        var sketch = new HyperLogLog(12);
        for (var round = 0; round < 5; round++)
            for (var i = 0; i < 100; i++) sketch.Add("v" + i);
        Assert.True(sketch.IsExact);
        Assert.Equal(100, sketch.Estimate());
        sketch.Add("");
        Assert.Equal(101, sketch.Estimate());
    }

    [Fact]
    public void Merged_partial_sketches_equal_one_sketch_of_the_whole_stream()
    {
        // Three "nodes" see overlapping parts of one stream: their merge is the union, as if one node saw it all.
        var values = Enumerable.Range(0, 30_000).Select(i => "host-" + (i * 7919 % 20_000)).ToList();
        var whole = new HyperLogLog(12);
        var parts = new[] { new HyperLogLog(12), new HyperLogLog(12), new HyperLogLog(12) };
        for (var i = 0; i < values.Count; i++)
        {
            whole.Add(values[i]);
            parts[i % 3].Add(values[i]);
            if (i % 5 == 0) parts[(i + 1) % 3].Add(values[i]);
        }
        var merged = new HyperLogLog(12);
        foreach (var p in parts) merged.Merge(HyperLogLog.Deserialize(p.Serialize()));
        Assert.Equal(whole.Estimate(), merged.Estimate());
        Assert.Equal(whole.Serialize(), merged.Serialize());
        Assert.True(Math.Abs(merged.Estimate() - 20_000) / 20_000.0 <= 3 * merged.StandardError);
    }

    [Fact]
    public void A_sparse_sketch_merges_into_a_dense_one_and_back_through_the_wire()
    {
        var (dense, _) = Feed(12, 10_000, 7);
        var sparse = new HyperLogLog(12);
        for (var i = 0; i < 50; i++) sparse.Add("only-here-" + i);
        var a = dense.Clone();
        a.Merge(sparse);
        var b = sparse.Clone();
        b.Merge(dense);
        Assert.Equal(a.Serialize(), b.Serialize());
        Assert.Equal(sparse.Estimate(), HyperLogLog.Deserialize(sparse.Serialize()).Estimate());
        Assert.True(HyperLogLog.Deserialize(sparse.Serialize()).IsExact);
        Assert.Throws<ArgumentException>(() => a.Merge(new HyperLogLog(10)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HyperLogLog(17));
    }

    [Fact]
    public void The_hash_is_the_same_in_every_process()
    {
        // Nodes merge each other's sketches, so the hash must not be seeded per process (as string.GetHashCode is).
        Assert.Equal(StableHash.Of("abc"), StableHash.Of(new string(['a', 'b', 'c'])));
        Assert.NotEqual(StableHash.Of("ab"), StableHash.Of("ba"));
        Assert.NotEqual(StableHash.Of("a"), StableHash.Of("a\0"));
    }
}
