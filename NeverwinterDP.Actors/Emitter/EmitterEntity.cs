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

        Command<SourceActivity>(activity => Persist(activity, a =>
        {
            Apply(a);
            if (LastSequenceNr % SnapshotEvery == 0 && _state is not null) SaveSnapshot(_state);
        }));
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
            : _state.Add(a);
    }
}

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

    public EmitterState Add(SourceActivity a)
    {
        var sum = new SourceActivity(SourceId, Host, Process, FirstSeenMs, LastSeenMs, Version, EventsByType, Events, Bytes, LastSourceSeq).Plus(a);
        return new EmitterState(SourceId, Host, Process, sum.FirstSeenMs, sum.LastSeenMs, sum.Version, sum.EventsByType, sum.Events, sum.Bytes, sum.LastSourceSeq);
    }

    public SourceInfo ToInfo() => new(SourceId, Host, Process, FirstSeenMs, LastSeenMs, Version, EventsByType, Events, Bytes, LastSourceSeq);
}
