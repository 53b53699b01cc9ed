using System.Text.RegularExpressions;

namespace NeverwinterDP.Actors.Spillover;

/// <summary>
/// Where spilled batches are kept aside and how their files are named: <c>TOPIC-SEQUENCE.bin</c> for a damaged
/// journal row, <c>TOPIC-SEQUENCE.refused.bin</c> for a batch the bus refused for good. The spillover entity writes
/// them, the entity and the admin API count and list them.
/// </summary>
public static partial class SpillQuarantine
{
    /// <summary>The quarantine directory of a node's spillover store.</summary>
    public static string DirectoryOf(string dataDir) => Path.Combine(dataDir, "quarantine", "spill");

    public static string FileName(string topic, long sequenceNr, bool refused) => $"{topic}-{sequenceNr:D12}{(refused ? ".refused" : "")}.bin";

    /// <summary>The topic a quarantine file belongs to, or null for a file not named by <see cref="FileName"/>.</summary>
    public static string? TopicOf(string fileName) => Name().Match(fileName) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>The topics that have files in <paramref name="directory"/>, each once.</summary>
    public static IEnumerable<string> Topics(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory).Select(f => TopicOf(Path.GetFileName(f))).OfType<string>().Distinct(StringComparer.Ordinal)
            : [];

    /// <summary>How many of <paramref name="topic"/>'s batches are kept aside in <paramref name="directory"/>.</summary>
    public static int Count(string directory, string topic) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory).Count(f => TopicOf(Path.GetFileName(f)) == topic) : 0;

    [GeneratedRegex(@"^(.+)-\d{12}(\.refused)?\.bin$")]
    private static partial Regex Name();
}
