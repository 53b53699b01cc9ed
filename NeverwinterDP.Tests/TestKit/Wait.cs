namespace NeverwinterDP.Tests.TestKit;

/// <summary>Polls a condition until it holds (a probe, not a sleep): fails with what was last seen.</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Exception? last = null;
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                last = e;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"condition not met in {timeout}" + (describe is null ? "" : ": " + describe()) + (last is null ? "" : $" (last error: {last.Message})"));
            await Task.Delay(100);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string>? describe = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, describe);
}
