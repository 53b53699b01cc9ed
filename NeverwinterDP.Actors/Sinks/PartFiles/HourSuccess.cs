using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// The <c>_SUCCESS</c> marker a files-like sink writes in an hour's directory when that hour is complete
/// (<see cref="HourCompletion"/>): one rule for which completions get one, and one content (the completion's JSON and
/// a newline, so a downstream job can check the counts it read).
/// </summary>
internal static class HourSuccess
{
    public const string FileName = "_SUCCESS";

    /// <summary>
    /// True, with the hour's directory and the marker's bytes, when <paramref name="completion"/> earns a marker: the
    /// hour is complete (not closed incomplete), its topic can be a directory name and its hour is a real one.
    /// </summary>
    public static bool TryFor(HourCompletion completion, out UtcHour hour, out byte[] content)
    {
        ArgumentNullException.ThrowIfNull(completion);
        content = [];
        if (!TryHourOf(completion, out hour) || !completion.IsComplete) return false;
        content = [.. completion.ToJson(), (byte)'\n'];
        return true;
    }

    /// <summary>The hour directory <paramref name="completion"/> (complete or not) is about: false when its topic cannot be a directory name or its hour is not a real one.</summary>
    public static bool TryHourOf(HourCompletion completion, out UtcHour hour)
    {
        ArgumentNullException.ThrowIfNull(completion);
        if (FileNames.IsLegalTopic(completion.Topic) && UtcHour.TryFromEpochMs(completion.HourMs, out hour)) return true;
        hour = default;
        return false;
    }
}
