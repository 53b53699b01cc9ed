using Akka.Actor.Setup;
using Akka.Serialization;
using Newtonsoft.Json.Serialization;

namespace NeverwinterDP.Actors.Sharding;

/// <summary>
/// Journals written before <see cref="NodeMessageSerializer"/> hold these messages in Akka's default JSON with CLR
/// type names (serializer id 1), and Akka reads a row with the serializer that wrote it. So that such rows still
/// read once their types moved, a type name that no longer resolves is looked up by its simple name among the
/// <see cref="INodeMessage"/> types (the moves rename namespaces, not types; a renamed type would need an alias here).
/// </summary>
public sealed class LegacyTypeNames : ISerializationBinder
{
    private static readonly DefaultSerializationBinder Default = new();

    private static readonly Dictionary<string, Type> BySimpleName = NodeMessageSerializer.Types.Values
        .GroupBy(t => t.Name)
        .Where(g => g.Count() == 1)
        .ToDictionary(g => g.Key, g => g.Single(), StringComparer.Ordinal);

    /// <summary>The setup that gives Akka's JSON serializer this binder (<c>AddSetup</c> in Akka.Hosting).</summary>
    public static Setup JsonSetup { get; } = NewtonSoftJsonSerializerSetup.Create(settings => settings.SerializationBinder = new LegacyTypeNames());

    public Type BindToType(string? assemblyName, string typeName)
    {
        try
        {
            return Default.BindToType(assemblyName, typeName);
        }
        catch (Newtonsoft.Json.JsonSerializationException) when (BySimpleName.TryGetValue(typeName[(typeName.LastIndexOf('.') + 1)..], out var moved))
        {
            return moved;
        }
    }

    public void BindToName(Type serializedType, out string? assemblyName, out string? typeName) => Default.BindToName(serializedType, out assemblyName, out typeName);
}
