namespace NeverwinterDP.Actors.Sharding;

/// <summary>
/// HOCON that registers a serializer and binds types to it, built from the types themselves: a type that moves to
/// another namespace stays bound (a stale name in a string would silently fall back to Akka's default JSON).
/// </summary>
public static class SerializerHocon
{
    public static string Bind(string name, Type serializer, params Type[] bound)
    {
        var bindings = string.Join("\n", bound.Select(t => $"    \"{NameOf(t)}\" = {name}"));
        return $$"""
            akka.actor {
              serializers.{{name}} = "{{NameOf(serializer)}}"
              serialization-bindings {
            {{bindings}}
              }
            }
            """;
    }

    private static string NameOf(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
