using NeverwinterDP.Actors.Sinks.PartFiles;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>
/// Writes Hive-ready files: one external table per topic (<c>&lt;directory&gt;/&lt;table&gt;/</c>), partitioned by
/// event type and UTC hour of the system timestamp (<c>type=&lt;t&gt;/dt=&lt;yyyy-MM-dd&gt;/hour=&lt;HH&gt;/</c>), files of
/// Parquet (<see cref="Formats.LogEventParquet"/>) or Avro (<c>neverwinterdp.LogEvent</c>) named
/// <c>part-&lt;topic&gt;-p&lt;partition&gt;-o&lt;first&gt;-o&lt;last&gt;</c>, and beside them the DDL that registers them
/// (<see cref="HiveCatalog"/>). Publishing (temporary file, fsync, atomic rename), recovery from the names and
/// idempotence on topic-partition-offset are the files sink's (<see cref="PartFileSink"/>).
/// </summary>
public sealed class HiveSink : PartFileSink
{
    public HiveSink(HiveSinkOptions options, string name = "hive")
        : base(CreateLayout(options), name, options.Fsync, options.RollSize, options.RollRows)
    {
        Options = options;
    }

    public HiveSinkOptions Options { get; }

    /// <summary>The table a topic's records go to.</summary>
    public string TableOf(string topic) => HiveLayout.TableName(Options.TablePrefix, topic);

    private static HiveLayout CreateLayout(HiveSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new HiveLayout(options, Path.GetFullPath(options.Directory));
    }
}
