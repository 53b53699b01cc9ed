using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace NeverwinterDP.Host.Bench;

/// <summary>
/// Counts the events of one bench run in the files sink's part files: every published NDJSON file (not the
/// hidden <c>.…tmp</c> files being written) under a directory, read once each, since a published part file
/// never changes (see docs/sinks/files.md). An event is recognised by the <c>run=RUN seq=N</c> the bench puts
/// in its <c>msg</c>, matched as bytes (bench messages need no JSON escaping), so scanning costs little next
/// to the node writing the files. Each sequence number found is added to <see cref="Seen"/>; one found again
/// is a duplicate. Not thread-safe: one scanner calls <see cref="Scan"/>.
/// </summary>
public sealed class PartFileTally
{
    private const int MaxDuplicateSamples = 5;

    private readonly string[] _directories;
    private readonly byte[] _marker;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    private readonly List<long> _duplicateSamples = [];

    /// <param name="runId">The bench run whose events are counted; other lines are skipped.</param>
    /// <param name="directories">Where to look, each searched recursively when it exists (a topic's directory of the files sink).</param>
    public PartFileTally(string runId, params string[] directories)
    {
        ArgumentNullException.ThrowIfNull(directories);
        if (directories.Length == 0 || directories.Any(string.IsNullOrEmpty)) throw new ArgumentException("no directory to look in", nameof(directories));
        if (!BenchEventGenerator.IsValidRunId(runId)) throw new ArgumentException("run id must be 1-32 letters or digits", nameof(runId));
        _directories = directories;
        _marker = Encoding.ASCII.GetBytes($" run={runId} seq=");
    }

    /// <summary>The run's sequence numbers found so far, each once.</summary>
    public SequenceBitmap Seen { get; } = new();

    /// <summary>Lines of the run found in files (duplicates included).</summary>
    public long Lines { get; private set; }

    /// <summary>Lines whose sequence number was found before: copies beyond the first.</summary>
    public long Duplicates { get; private set; }

    /// <summary>
    /// Sequence numbers the bench itself sent twice: a batch whose answer was lost (connection cut, timeout) and that
    /// was resent to another node. A second copy of one of these is counted in <see cref="DuplicatesOfResent"/> too:
    /// the sender's duplicate, not the pipeline's. Null when the bench never resends.
    /// </summary>
    public SequenceBitmap? Resent { get; set; }

    /// <summary>Of <see cref="Duplicates"/>, the copies of sequence numbers in <see cref="Resent"/>.</summary>
    public long DuplicatesOfResent { get; private set; }

    /// <summary>The first few sequence numbers found more than once.</summary>
    public IReadOnlyList<long> DuplicateSamples => _duplicateSamples;

    /// <summary>Published NDJSON part files read.</summary>
    public int FilesRead => _read.Count;

    /// <summary>Published Avro part files seen: a files sink with <c>format = avro</c>, which this tally cannot read.</summary>
    public int AvroFilesSkipped { get; private set; }

    /// <summary>
    /// Counts the events of <paramref name="type"/> under <paramref name="dir"/>: a node's data directory (the
    /// files sink writes into its <c>sinks/files</c>, which may not exist before the first file) or the files
    /// sink's own directory; in either, the topic's directory.
    /// </summary>
    public static PartFileTally ForDirectory(string dir, string type, string runId) => new(runId, Candidates(dir, type));

    /// <summary>As <see cref="ForDirectory"/> over several nodes' directories: an event counts once whichever holds it.</summary>
    public static PartFileTally ForDirectories(IEnumerable<string> dirs, string type, string runId) =>
        new(runId, dirs.SelectMany(d => Candidates(d, type)).Distinct(StringComparer.Ordinal).ToArray());

    /// <summary>The topic directory <see cref="ForDirectory"/> reads: the one that exists, else the data directory's.</summary>
    public static string TopicDirectory(string dir, string type)
    {
        var candidates = Candidates(dir, type);
        return candidates.FirstOrDefault(Directory.Exists) ?? candidates[0];
    }

    private static string[] Candidates(string dir, string type)
    {
        var topic = NeverwinterDP.Protocol.TopicNames.ForType(type);
        return [Path.Combine(dir, "sinks", "files", topic), Path.Combine(dir, topic)];
    }

    /// <summary>Reads the part files published since the last call; answers how many new files were read.</summary>
    public int Scan()
    {
        var fresh = 0;
        var avro = 0;
        foreach (var path in _directories.Where(Directory.Exists).SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories)))
        {
            var name = Path.GetFileName(path.AsSpan());
            if (name.StartsWith('.')) continue; // being written: published later under its final name
            if (name.EndsWith(".avro", StringComparison.Ordinal)) avro++;
            if (!name.EndsWith(".ndjson", StringComparison.Ordinal) || _read.Contains(path)) continue;
            try
            {
                ReadFile(path);
            }
            catch (FileNotFoundException)
            {
                continue; // removed between listing and reading (retention): nothing of ours to count
            }
            _read.Add(path);
            fresh++;
        }
        AvroFilesSkipped = avro;
        return fresh;
    }

    private void ReadFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var filled = 0;
            while (true)
            {
                var read = stream.Read(buffer, filled, buffer.Length - filled);
                filled += read;
                var data = buffer.AsSpan(0, filled);
                var end = read == 0 ? filled : data.LastIndexOf((byte)'\n') + 1;
                if (end <= 0 && read > 0 && filled == buffer.Length)
                {
                    // One line longer than the buffer: grow it.
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                    continue;
                }
                if (end > 0) CountLines(data[..end]);
                if (read == 0) return;
                data[end..].CopyTo(buffer);
                filled -= end;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void CountLines(ReadOnlySpan<byte> lines)
    {
        while (!lines.IsEmpty)
        {
            var newline = lines.IndexOf((byte)'\n');
            var line = newline < 0 ? lines : lines[..newline];
            lines = newline < 0 ? default : lines[(newline + 1)..];
            var at = line.IndexOf(_marker);
            if (at < 0) continue;
            var digits = line[(at + _marker.Length)..];
            if (digits.Length < BenchEventGenerator.SeqDigits
                || !Utf8Parser.TryParse(digits[..BenchEventGenerator.SeqDigits], out long seq, out var consumed)
                || consumed != BenchEventGenerator.SeqDigits || seq < 0)
                continue;
            Lines++;
            if (Seen.Add(seq)) continue;
            Duplicates++;
            if (Resent?.Contains(seq) == true) DuplicatesOfResent++;
            if (_duplicateSamples.Count < MaxDuplicateSamples) _duplicateSamples.Add(seq);
        }
    }
}
