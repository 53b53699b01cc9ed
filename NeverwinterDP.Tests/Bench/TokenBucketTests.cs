using Microsoft.Extensions.Time.Testing;
using NeverwinterDP.Host.Bench;
using Xunit;

namespace NeverwinterDP.Tests.Bench;

public sealed class TokenBucketTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void A_full_bucket_sends_at_once_then_each_batch_waits_until_its_events_are_due()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(rate: 1_000, burst: 100, time);

        Assert.Equal(TimeSpan.Zero, bucket.Reserve(100));
        // Waiting workers go into debt in turn: the second batch is due after 100 ms, the third after 200 ms.
        Assert.Equal(100 * Ms, bucket.Reserve(100));
        Assert.Equal(200 * Ms, bucket.Reserve(100));
        time.Advance(200 * Ms);
        Assert.Equal(100 * Ms, bucket.Reserve(100));
    }

    [Fact]
    public void After_a_stall_the_load_resumes_at_the_rate_instead_of_catching_up_in_a_burst()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(rate: 1_000, burst: 100, time);
        Assert.Equal(TimeSpan.Zero, bucket.Reserve(100));

        time.Advance(TimeSpan.FromMinutes(1)); // 60,000 events' worth of time, but the bucket holds 100
        Assert.Equal(TimeSpan.Zero, bucket.Reserve(100));
        Assert.Equal(100 * Ms, bucket.Reserve(100));
    }

    [Fact]
    public void Over_a_long_run_the_events_sent_follow_the_rate()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(rate: 1_500, burst: 150, time);
        var sent = 0;
        // A worker that sends a batch of 100 whenever it is due, for 10 simulated seconds.
        while (time.GetUtcNow() - time.Start < TimeSpan.FromSeconds(10))
        {
            time.Advance(bucket.Reserve(100));
            sent += 100;
        }
        Assert.InRange(sent, 15_000, 15_000 + 150 + 100);
    }

    [Fact]
    public void Rate_and_burst_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(0, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(100, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(double.NaN, 100));
    }
}
