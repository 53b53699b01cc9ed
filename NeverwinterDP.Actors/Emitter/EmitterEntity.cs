using Akka.Actor;
using Akka.Persistence;
using NeverwinterDP.Actors.Sharding;

namespace NeverwinterDP.Actors.Emitter;

/// <summary>
/// One source (<c>host/process</c>) in the emitter registry, a sharded persistent entity: first and last seen,
/// version, log types and counts. Fed by <see cref="EmitterRegistry"/> with one <see cref="SourceActivity"/>
/// per source and second at most, persisted as it comes (that rate keeps the journal light), snapshotted every
/// <see cref="SnapshotEvery"/> events so recovery stays short.
/// </summary>
public sealed class EmitterEntity : ReceivePersistentActor
{
    public const string TypeName = "emitter";
    private const int SnapshotEvery = 500;

    private readonly string _sourceId;
    private EmitterState? _state;

    public EmitterEntity(string sourceId)
    {
        _sourceId = sourceId;
        PersistenceId = TypeName + "|" + sourceId;

        Recover<SourceActivity>(Apply);
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is EmitterState state) _state = state;
        });

        Command<SourceActivity>(activity =>
        {
            // A report applied already (sent again: its acknowledgement was lost, or its first target died unanswered).
            if (activity.Reporter is { } reporter && _state?.Reported is { } reported && reported.TryGetValue(reporter, out var mark) && mark.Seq >= activity.ReportSeq)
            {
                Sender.Tell(new SourceActivityAck(_sourceId, reporter, activity.ReportSeq));
                return;
            }
            Persist(activity, a =>
            {
                Apply(a);
                if (a.Reporter is not null) Sender.Tell(new SourceActivityAck(_sourceId, a.Reporter, a.ReportSeq));
                if (LastSequenceNr % SnapshotEvery == 0 && _state is not null) SaveSnapshot(_state);
            });
        });
        Command<GetSource>(_ => Sender.Tell(_state is null ? new SourceUnknown(_sourceId) : _state.ToInfo()));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(_ => { });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public override string PersistenceId { get; }

    public static Props PropsFor(string sourceId) => Props.Create(() => new EmitterEntity(sourceId));

    private void Apply(SourceActivity a)
    {
        _state = _state is null
            ? new EmitterState(a.SourceId, a.Host, a.Process, a.FirstSeenMs, a.LastSeenMs, a.Version, new Dictionary<string, long>(a.EventsByType), a.Events, a.Bytes, a.LastSourceSeq)
                { Reported = EmitterState.Mark(null, a) }
            : _state.Add(a);
    }
}

/// <summary>The last report applied from one reporter, and the source time it carried (to forget the oldest reporters).</summary>
public readonly record struct ReportMark(long Seq, long AtMs);

/// <summary>The emitter's state (also its snapshot).</summary>
public sealed record EmitterState(
    string SourceId,
    string Host,
    string Process,
    long FirstSeenMs,
    long LastSeenMs,
    string Version,
    Dictionary<string, long> EventsByType,
    long Events,
    long Bytes,
    long LastSourceSeq) : INodeMessage
{
    public static string Manifest => "E2";

    /// <summary>Reporters remembered per source: a node incarnation resends only while it lives, so the newest few are enough.</summary>
    public const int MaxReporters = 32;

    /// <summary>
    /// The last report applied per reporter (node incarnation): part of the state, so the entity recovered on another
    /// node after a move still recognises a report sent again. Null in snapshots written before reports were acknowledged.
    /// </summary>
    public Dictionary<string, ReportMark>? Reported { get; init; }

    public EmitterState Add(SourceActivity a)
    {
        var sum = new SourceActivity(SourceId, Host, Process, FirstSeenMs, LastSeenMs, Version, EventsByType, Events, Bytes, LastSourceSeq).Plus(a);
        return new EmitterState(SourceId, Host, Process, sum.FirstSeenMs, sum.LastSeenMs, sum.Version, sum.EventsByType, sum.Events, sum.Bytes, sum.LastSourceSeq)
            { Reported = Mark(Reported, a) };
    }

    /// <summary><paramref name="reported"/> with <paramref name="a"/>'s report recorded; the oldest reporter forgotten past <see cref="MaxReporters"/>.</summary>
    public static Dictionary<string, ReportMark>? Mark(Dictionary<string, ReportMark>? reported, SourceActivity a)
    {
        if (a.Reporter is null) return reported;
        var marks = reported is null ? new Dictionary<string, ReportMark>() : new Dictionary<string, ReportMark>(reported);
        marks[a.Reporter] = new ReportMark(Math.Max(a.ReportSeq, marks.GetValueOrDefault(a.Reporter).Seq), a.LastSeenMs);
        if (marks.Count > MaxReporters) marks.Remove(marks.MinBy(m => m.Value.AtMs).Key);
        return marks;
    }

    public SourceInfo ToInfo() => new(SourceId, Host, Process, FirstSeenMs, LastSeenMs, Version, EventsByType, Events, Bytes, LastSourceSeq);
}
