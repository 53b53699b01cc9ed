using System.Collections.ObjectModel;
using System.Text;

namespace NeverwinterDP.Protocol;

/// <summary>
/// The envelope of one log event (Avro record <c>neverwinterdp.LogEvent</c>, see <c>Schemas/LogEvent.avsc</c>).
/// Immutable once published. Ingress creates ~500k a second, so it is one object: strings are shared where
/// possible, <see cref="Lineage"/> is a struct and events without attributes share one empty map.
/// </summary>
public sealed record LogEvent
{
    /// <summary>Process name used when the sender gave none.</summary>
    public const string DefaultProcess = "unknown";

    /// <summary>Level used when the sender gave none.</summary>
    public const string DefaultLevel = "info";

    /// <summary>Type used when neither the event nor the request (<c>?type=</c>) gave one.</summary>
    public const string DefaultType = "default";

    /// <summary>The map every event without attributes shares.</summary>
    public static IReadOnlyDictionary<string, string> NoAttributes { get; } = ReadOnlyDictionary<string, string>.Empty;

    // A field rather than an auto-property so the parser can stamp the sequence number after the whole
    // request parsed, without copying the event (a 'with' would allocate a second one).
    private Lineage _lineage;

    /// <summary>Source timestamp, epoch milliseconds UTC.</summary>
    public long Ts { get; init; }

    /// <summary>System timestamp set at ingress, epoch milliseconds UTC.</summary>
    public long SystemTs { get; init; }

    public string Host { get; init; } = "";

    public string Ip { get; init; } = "";

    public string Process { get; init; } = DefaultProcess;

    /// <summary>The log type; routes the event to <see cref="TopicNames.ForType"/>.</summary>
    public string Type { get; init; } = DefaultType;

    public string Version { get; init; } = "";

    public string Level { get; init; } = DefaultLevel;

    private string _message = "";
    // The message's UTF-8 byte count once counted, else -1; reset when a 'with' sets another message.
    private int _messageBytes = -1;

    /// <summary>The log message (JSON <c>msg</c>; Avro <c>message</c>).</summary>
    public string Message
    {
        get => _message;
        init
        {
            _message = value;
            _messageBytes = -1;
        }
    }

    /// <summary>
    /// UTF-8 bytes of <see cref="Message"/>, counted on first use: the per-minute stats (twice), the per-source tallies
    /// and the coverage sketch all count an event's bytes. Thread-safe (a race counts twice and stores the same value).
    /// </summary>
    public int MessageByteCount()
    {
        var n = _messageBytes;
        if (n < 0) _messageBytes = n = Encoding.UTF8.GetByteCount(_message);
        return n;
    }

    /// <summary>Every other key the sender gave; non-string JSON values as their JSON text.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = NoAttributes;

    /// <summary>
    /// The typed attributes of a typed log type's record as decoded (<see cref="TypedLogSchema.Decode"/>), for sinks
    /// that store them typed; null for every other event. Their string forms are in <see cref="Attributes"/> too, so
    /// equality and every other reader ignore this.
    /// </summary>
    public TypedValues? Typed { get; init; }

    public Lineage Lineage
    {
        get => _lineage;
        init => _lineage = value;
    }

    /// <summary>Only for the parser, before the event is handed to anyone.</summary>
    internal void StampSourceSeq(long seq) => _lineage = _lineage with { SourceSeq = seq };

    // Records compare dictionaries by reference; an event's attributes are part of its value.
    public bool Equals(LogEvent? other) =>
        other is not null
        && Ts == other.Ts
        && SystemTs == other.SystemTs
        && Host == other.Host
        && Ip == other.Ip
        && Process == other.Process
        && Type == other.Type
        && Version == other.Version
        && Level == other.Level
        && Message == other.Message
        && _lineage == other._lineage
        && SameAttributes(Attributes, other.Attributes);

    public override int GetHashCode() =>
        HashCode.Combine(Ts, Host, Process, Type, Message, _lineage, Attributes.Count);

    // Shows the attributes themselves (the generated one prints the dictionary's type name).
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Ts = {Ts}, SystemTs = {SystemTs}, Host = {Host}, Ip = {Ip}, Process = {Process}, Type = {Type}, ");
        builder.Append($"Version = {Version}, Level = {Level}, Message = {Message}, Attributes = {{ ");
        builder.AppendJoin(", ", Attributes.Select(kv => $"{kv.Key} = {kv.Value}"));
        builder.Append($" }}, Lineage = {Lineage}");
        return true;
    }

    private static bool SameAttributes(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.Count != b.Count) return false;
        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || other != value) return false;
        }
        return true;
    }
}
