using NeverwinterDP.Actors.Sinks.PartFiles;

namespace NeverwinterDP.Actors.Sinks.Files;

/// <summary>The files sink's tree: <c>&lt;root&gt;/&lt;topic&gt;/yyyy/MM/dd/HH/&lt;topic&gt;-p..-o..-o...ndjson</c>.</summary>
internal sealed class FilesLayout(FilesSinkOptions options, string root) : PartLayout(root)
{
    public override FileNames Names => FileNames.Files;

    public override bool TryPlace(SinkRecord record, out SlotKey key, out string? reason) => TryPlaceInHour(record, out key, out reason);

    public override string DirectoryOf(string topic, SlotKey key) => Path.Combine(Root, topic, key.Hour.RelativePath);

    public override IEnumerable<(string Directory, SlotKey Key)> ExistingDirectories(string topic)
    {
        var topicDirectory = Path.Combine(Root, topic);
        if (!Directory.Exists(topicDirectory)) yield break;
        foreach (var year in Directory.EnumerateDirectories(topicDirectory, "*", Everything))
        foreach (var month in Directory.EnumerateDirectories(year, "*", Everything))
        foreach (var day in Directory.EnumerateDirectories(month, "*", Everything))
        foreach (var hourDirectory in Directory.EnumerateDirectories(day, "*", Everything))
        {
            if (UtcHour.TryParse(Path.GetFileName(year), Path.GetFileName(month), Path.GetFileName(day), Path.GetFileName(hourDirectory), out var hour))
            {
                yield return (hourDirectory, new SlotKey(hour, ""));
            }
        }
    }

    public override PartFile Create(string directory, string topic, int partition, long firstOffset, long batch) =>
        options.Format == FilesFormat.Avro
            ? new AvroPartFile(Names, directory, topic, partition, firstOffset, options.AvroCodec, batch)
            : new NdjsonPartFile(Names, directory, topic, partition, firstOffset, options.Fsync, batch);
}
