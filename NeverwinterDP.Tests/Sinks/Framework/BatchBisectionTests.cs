using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using Xunit;

namespace NeverwinterDP.Tests.Sinks.Framework;

public sealed class BatchBisectionTests
{
    /// <summary>A store that takes a range whole or refuses it whole when it holds a bad record, and records every attempt.</summary>
    private sealed class WholeOrNothingStore(int size, params int[] bad)
    {
        public SinkOutcome?[] Outcomes { get; } = new SinkOutcome?[size];
        public string?[] Reasons { get; } = new string?[size];
        public List<(int From, int To)> Attempts { get; } = [];
        public Func<int, int, RangeAttempt?>? Override { get; set; }

        public Task<RangeAttempt> Attempt(int from, int to)
        {
            Attempts.Add((from, to));
            if (Override?.Invoke(from, to) is { } forced) return Task.FromResult(forced);
            var refused = bad.FirstOrDefault(b => b >= from && b < to, -1);
            return Task.FromResult(refused < 0 ? RangeAttempt.Delivered : RangeAttempt.Refused($"record {refused} is bad"));
        }

        public void Settle(int from, int to, SinkOutcome outcome, string? reason)
        {
            for (var i = from; i < to; i++)
            {
                Assert.Null(Outcomes[i]);
                (Outcomes[i], Reasons[i]) = (outcome, reason);
            }
        }
    }

    [Fact]
    public async Task A_batch_the_store_takes_is_one_attempt()
    {
        var store = new WholeOrNothingStore(100);
        await BatchBisection.RunAsync(0, 100, store.Attempt, store.Settle);

        Assert.Equal([(0, 100)], store.Attempts);
        Assert.All(store.Outcomes, o => Assert.Equal(SinkOutcome.Delivered, o));
    }

    [Fact]
    public async Task Refused_records_are_found_by_halves_and_rejected_alone_and_the_rest_is_delivered()
    {
        var store = new WholeOrNothingStore(64, 5, 40);
        await BatchBisection.RunAsync(0, 64, store.Attempt, store.Settle);

        for (var i = 0; i < 64; i++)
            Assert.Equal(i is 5 or 40 ? SinkOutcome.Rejected : SinkOutcome.Delivered, store.Outcomes[i]);
        Assert.Equal("record 5 is bad", store.Reasons[5]);
        Assert.Equal("record 40 is bad", store.Reasons[40]);
        // Two bad records among 64: a few times log2(64), not 64 attempts.
        Assert.True(store.Attempts.Count <= 2 * 2 * 6 + 1, $"{store.Attempts.Count} attempts");
        // Ranges are tried in batch order: the ranges the store took come in ascending order and cover the rest.
        var taken = store.Attempts.Where(a => !(a.From <= 5 && 5 < a.To) && !(a.From <= 40 && 40 < a.To)).ToList();
        Assert.Equal(taken.OrderBy(a => a.From), taken);
        Assert.Equal(62, taken.Sum(a => a.To - a.From));
    }

    [Fact]
    public async Task Split_starts_from_a_whole_range_already_refused()
    {
        var store = new WholeOrNothingStore(8, 3);
        await BatchBisection.SplitAsync(0, 8, "the whole batch failed", store.Attempt, store.Settle);

        Assert.DoesNotContain((0, 8), store.Attempts);
        Assert.Equal((0, 4), store.Attempts[0]);
        Assert.Equal(SinkOutcome.Rejected, store.Outcomes[3]);
        Assert.Equal(7, store.Outcomes.Count(o => o == SinkOutcome.Delivered));
    }

    [Fact]
    public async Task A_single_record_already_refused_is_rejected_with_that_reason_without_another_attempt()
    {
        var store = new WholeOrNothingStore(1, 0);
        await BatchBisection.SplitAsync(0, 1, "value too long", store.Attempt, store.Settle);

        Assert.Empty(store.Attempts);
        Assert.Equal((SinkOutcome.Rejected, "value too long"), (store.Outcomes[0], store.Reasons[0]));
    }

    [Fact]
    public async Task A_transient_failure_errors_the_range_and_everything_not_yet_tried_and_stops()
    {
        var store = new WholeOrNothingStore(16, 2) { Override = (from, _) => from == 0 ? null : RangeAttempt.Failed("server went away") };
        await BatchBisection.RunAsync(0, 16, store.Attempt, store.Settle);

        // [0,16) refused, [0,8) refused, [0,4) refused, [0,2) delivered, [2,4) failed: [2,4), [4,8), [8,16) errored untried.
        Assert.Equal([(0, 16), (0, 8), (0, 4), (0, 2), (2, 4)], store.Attempts);
        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Delivered], store.Outcomes[..2].Select(o => o!.Value));
        Assert.All(store.Outcomes[2..], o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.All(store.Reasons[2..], r => Assert.Equal("server went away", r));
    }

    [Fact]
    public async Task An_attempt_that_settles_its_records_itself_is_left_alone()
    {
        var store = new WholeOrNothingStore(4);
        var settledByStore = new SinkOutcome[4];
        await BatchBisection.RunAsync(0, 4, (_, _) =>
        {
            settledByStore[1] = SinkOutcome.Rejected;
            return Task.FromResult(RangeAttempt.Settled);
        }, store.Settle);

        Assert.All(store.Outcomes, o => Assert.Null(o));
        Assert.Equal(SinkOutcome.Rejected, settledByStore[1]);
    }

    [Fact]
    public async Task An_offset_range_is_bisected_within_its_bounds()
    {
        var store = new WholeOrNothingStore(20, 13);
        await BatchBisection.RunAsync(10, 20, store.Attempt, store.Settle);

        Assert.All(store.Attempts, a => Assert.True(a.From >= 10 && a.To <= 20));
        Assert.All(store.Outcomes[..10], o => Assert.Null(o));
        Assert.Equal(SinkOutcome.Rejected, store.Outcomes[13]);
        Assert.Equal(9, store.Outcomes[10..].Count(o => o == SinkOutcome.Delivered));
    }
}
