using System.Reflection;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace NeverwinterDP.Actors.Sharding;

/// <summary>
/// The serializer of every <see cref="INodeMessage"/>: the type's <see cref="INodeMessage.Manifest"/> names it, the
/// body is System.Text.Json. JSON rather than a hand-written binary form because these messages are small and few
/// (one per source and second, a beat every few seconds, queries): the bytes do not matter, while a journal row
/// that reads as text, a new optional member that costs nothing, and no per-type code do. (Spilled batches are
/// the opposite, bulk bytes, and keep their binary <c>SpillSerializer</c>.) The member names are part of the
/// stored contract: rename a member with <c>[JsonPropertyName("old")]</c>.
/// </summary>
public sealed class NodeMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Unique among the system's serializers (spill: 7301, emitter protocol: 7350, Akka's own: below 100).</summary>
    public const int SerializerId = 7310;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Every message type under the marker, by manifest (types of this assembly).</summary>
    public static IReadOnlyDictionary<string, Type> Types { get; } = FindTypes();

    private static readonly Dictionary<Type, string> Manifests = Types.ToDictionary(kv => kv.Value, kv => kv.Key);

    /// <summary>Registers the serializer and binds <see cref="INodeMessage"/> to it.</summary>
    public static string Hocon { get; } = SerializerHocon.Bind("nwdp-node", typeof(NodeMessageSerializer), typeof(INodeMessage));

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest) ? manifest : throw new ArgumentException($"{o.GetType()} is not an {nameof(INodeMessage)}", nameof(o));

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Types.TryGetValue(manifest, out var type))
            throw new System.Runtime.Serialization.SerializationException($"unknown node message manifest '{manifest}'");
        // A message with a single instance (a hand-off stop, say) comes back as that instance.
        if (type.GetField("Instance", BindingFlags.Public | BindingFlags.Static) is { } single && single.FieldType == type) return single.GetValue(null)!;
        return JsonSerializer.Deserialize(bytes, type, Json)
            ?? throw new System.Runtime.Serialization.SerializationException($"node message '{manifest}' read as null");
    }

    private static Dictionary<string, Type> FindTypes()
    {
        var types = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var type in typeof(INodeMessage).Assembly.GetTypes().Where(t => !t.IsAbstract && !t.IsInterface && typeof(INodeMessage).IsAssignableFrom(t)))
        {
            var getter = typeof(INodeMessage).GetProperty(nameof(INodeMessage.Manifest))!.GetMethod!;
            var map = type.GetInterfaceMap(typeof(INodeMessage));
            var manifest = (string?)map.TargetMethods[Array.IndexOf(map.InterfaceMethods, getter)].Invoke(null, null);
            if (string.IsNullOrWhiteSpace(manifest)) throw new InvalidOperationException($"{type} has an empty manifest");
            if (!types.TryAdd(manifest, type)) throw new InvalidOperationException($"manifest '{manifest}' is used by both {types[manifest]} and {type}");
        }
        return types;
    }
}
