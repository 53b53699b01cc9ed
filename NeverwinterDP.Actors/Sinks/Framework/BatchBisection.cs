namespace NeverwinterDP.Actors.Sinks.Framework;

/// <summary>What one attempt at writing a range of a batch came to (see <see cref="BatchBisection"/>).</summary>
public readonly record struct RangeAttempt
{
    private RangeAttempt(RangeAttemptKind kind, string? reason) => (Kind, Reason) = (kind, reason);

    public RangeAttemptKind Kind { get; }

    public string? Reason { get; }

    /// <summary>The store took the whole range.</summary>
    public static RangeAttempt Delivered { get; } = new(RangeAttemptKind.Delivered, null);

    /// <summary>The attempt set the range's outcomes itself (a store that answers per record).</summary>
    public static RangeAttempt Settled { get; } = new(RangeAttemptKind.Settled, null);

    /// <summary>
    /// The store refused the range as a whole for something in its records (a data error, a request too large):
    /// split it; a single record refused is rejected with <paramref name="reason"/>.
    /// </summary>
    public static RangeAttempt Refused(string reason) => new(RangeAttemptKind.Refused, reason);

    /// <summary>A transient failure (unreachable, overloaded): the range and every range not yet tried are errored with <paramref name="reason"/>.</summary>
    public static RangeAttempt Failed(string reason) => new(RangeAttemptKind.Failed, reason);
}

public enum RangeAttemptKind
{
    Delivered,
    Settled,
    Refused,
    Failed,
}

/// <summary>
/// Finds the records a store refuses in a batch it takes or refuses as a whole (a transaction, a batched PUT,
/// an INSERT, a request over the size limit): the refused range is tried again in halves, halving again where it
/// is refused, until every record is delivered or stands alone and is rejected. A few bad records among n cost a
/// few times log2(n) attempts. Ranges are tried in batch order, one at a time; a transient failure stops the
/// search (what is left is errored and the framework retries it) rather than waiting out a timeout per range.
/// </summary>
public static class BatchBisection
{
    /// <summary>Tries records [<paramref name="from"/>, <paramref name="to"/>) with <paramref name="attempt"/>, bisecting where they are refused.</summary>
    /// <param name="attempt">Writes records [from, to) once.</param>
    /// <param name="settle">Sets the outcome (and reason) of records [from, to).</param>
    public static Task RunAsync(int from, int to, Func<int, int, Task<RangeAttempt>> attempt, Action<int, int, SinkOutcome, string?> settle)
    {
        var ranges = new Stack<(int From, int To)>();
        if (to > from) ranges.Push((from, to));
        return SearchAsync(ranges, attempt, settle);
    }

    /// <summary>As <see cref="RunAsync"/> for a range the store already refused as a whole with <paramref name="reason"/>: starts with its halves.</summary>
    public static Task SplitAsync(int from, int to, string reason, Func<int, int, Task<RangeAttempt>> attempt, Action<int, int, SinkOutcome, string?> settle)
    {
        var ranges = new Stack<(int From, int To)>();
        if (to > from) Refuse(ranges, (from, to), reason, settle);
        return SearchAsync(ranges, attempt, settle);
    }

    private static async Task SearchAsync(Stack<(int From, int To)> ranges, Func<int, int, Task<RangeAttempt>> attempt, Action<int, int, SinkOutcome, string?> settle)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(settle);
        while (ranges.TryPop(out var range))
        {
            var result = await attempt(range.From, range.To).ConfigureAwait(false);
            switch (result.Kind)
            {
                case RangeAttemptKind.Delivered:
                    settle(range.From, range.To, SinkOutcome.Delivered, null);
                    break;
                case RangeAttemptKind.Settled:
                    break;
                case RangeAttemptKind.Refused:
                    Refuse(ranges, range, result.Reason, settle);
                    break;
                default:
                    settle(range.From, range.To, SinkOutcome.Errored, result.Reason);
                    while (ranges.TryPop(out var left)) settle(left.From, left.To, SinkOutcome.Errored, result.Reason);
                    return;
            }
        }
    }

    private static void Refuse(Stack<(int From, int To)> ranges, (int From, int To) range, string? reason, Action<int, int, SinkOutcome, string?> settle)
    {
        if (range.To - range.From == 1)
        {
            settle(range.From, range.To, SinkOutcome.Rejected, reason);
            return;
        }
        // Second half pushed first: the first half is tried first, so records go to the store in batch order.
        var middle = range.From + (range.To - range.From) / 2;
        ranges.Push((middle, range.To));
        ranges.Push((range.From, middle));
    }
}
