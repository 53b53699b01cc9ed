using NeverwinterDP.Actors.Sinks.PartFiles;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>
/// Writes Hive-ready files: one external table per topic (<c>&lt;directory&gt;/&lt;table&gt;/</c>), partitioned by
/// event type and UTC hour of the system timestamp (<c>type=&lt;t&gt;/dt=&lt;yyyy-MM-dd&gt;/hour=&lt;HH&gt;/</c>), files of
/// Parquet (<see cref="Formats.LogEventParquet"/>) or Avro (<c>neverwinterdp.LogEvent</c>) named
/// <c>part-&lt;topic&gt;-p&lt;partition&gt;-o&lt;first&gt;-o&lt;last&gt;</c>, and beside them the DDL that registers them
/// (<see cref="HiveCatalog"/>). Publishing (temporary file, fsync, atomic rename), recovery from the names and
/// idempotence on topic-partition-offset are the files sink's (<see cref="PartFileSink"/>). With
/// <c>register-on = complete</c> an hour's partitions are registered only at its completion (<see cref="IHourCompletionListener"/>).
/// </summary>
public sealed class HiveSink : PartFileSink, IHourCompletionListener
{
    private readonly HiveLayout _layout;

    public HiveSink(HiveSinkOptions options, string name = "hive")
        : this(options, CreateLayout(options), name)
    {
    }

    private HiveSink(HiveSinkOptions options, HiveLayout layout, string name)
        : base(layout, name, options.Fsync, options.RollSize, options.RollRows)
    {
        Options = options;
        _layout = layout;
    }

    public HiveSinkOptions Options { get; }

    /// <summary>The table a topic's records go to.</summary>
    public string TableOf(string topic) => HiveLayout.TableName(Options.TablePrefix, topic);

    /// <summary>With <c>register-on = complete</c> it waits for completions to register any partition.</summary>
    public string? RequiresCompletions => Options.RegisterOnComplete ? $"nwdp.sinks.{Name}.register-on" : null;

    /// <summary>
    /// With <c>register-on = complete</c>: the hour's partitions get their <c>ADD PARTITION</c> lines now. An hour closed
    /// incomplete (after the grace) is registered too, under a comment with the reason: its data would otherwise stay
    /// out of Hive for good; <c>nwdp.watermarks</c> and the files' <c>_SUCCESS</c> say whether it was whole.
    /// </summary>
    public Task HourCompletedAsync(HourCompletion completion, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(completion);
        if (!Options.RegisterOnComplete || !HourSuccess.TryHourOf(completion, out var hour)) return Task.CompletedTask;
        _layout.HourCompleted(completion.Topic, hour,
            completion.IsComplete ? null : $"{completion.State} (completion v{completion.Version}): {completion.Reason}");
        return Task.CompletedTask;
    }

    private static HiveLayout CreateLayout(HiveSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new HiveLayout(options, Path.GetFullPath(options.Directory));
    }
}
