using Akka.Actor;
using Akka.Configuration;

namespace NeverwinterDP.Actors.Kafka.Settings;

/// <summary>How <see cref="Dsl.Committer"/> batches commits (<c>akka.kafka.committer</c>).</summary>
public sealed record CommitterSettings
{
    /// <summary><c>max-batch</c>: commit after this many offsets.</summary>
    public int MaxBatch { get; init; } = 1000;

    /// <summary><c>max-interval</c>: or after this long.</summary>
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>parallelism</c>: commits in flight.</summary>
    public int Parallelism { get; init; } = 1;

    public static CommitterSettings Create(ActorSystem system) => Create(KafkaConfig.Section(system, "committer"));

    public static CommitterSettings Create(Config section) => new()
    {
        MaxBatch = section.GetInt("max-batch", 1000),
        MaxInterval = section.GetTimeSpan("max-interval", TimeSpan.FromSeconds(1)),
        Parallelism = section.GetInt("parallelism", 1),
    };

    public static CommitterSettings Default => Create(KafkaConfig.Section("committer"));

    public CommitterSettings WithMaxBatch(int maxBatch) => maxBatch > 0 ? this with { MaxBatch = maxBatch } : throw new ArgumentOutOfRangeException(nameof(maxBatch));
    public CommitterSettings WithMaxInterval(TimeSpan interval) => this with { MaxInterval = interval };
    public CommitterSettings WithParallelism(int parallelism) => parallelism > 0 ? this with { Parallelism = parallelism } : throw new ArgumentOutOfRangeException(nameof(parallelism));
}
