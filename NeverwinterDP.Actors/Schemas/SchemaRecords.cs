using System.Text;
using System.Text.Json.Nodes;

namespace NeverwinterDP.Actors.Schemas;

/// <summary>
/// The records of <c>nwdp.schemas</c>: JSON keys and values. Compaction keeps the last value of each key, so a key
/// names exactly what its value replaces: a schema version (with a nonce: two writers racing for the same version
/// write two keys, and the loser's cannot replace the winner's), a version's soft deletion, a config, the id floor.
/// </summary>
public static class SchemaRecords
{
    public const string SchemaKind = "schema";
    public const string DeletedKind = "deleted";
    public const string ConfigKind = "config";
    public const string IdFloorKind = "id-floor";

    public static byte[] SchemaKey(string subject, int version) =>
        Bytes(new JsonObject { ["kind"] = SchemaKind, ["subject"] = subject, ["version"] = version, ["nonce"] = Guid.NewGuid().ToString("N") });

    /// <param name="decidedAt">The offset the writer read up to: the record counts only if it lands there.</param>
    public static byte[] SchemaValue(string subject, int version, int id, string schema, long decidedAt) =>
        Bytes(new JsonObject { ["subject"] = subject, ["version"] = version, ["id"] = id, ["schema"] = schema, ["base"] = decidedAt });

    public static byte[] DeletedKey(string subject, int version) =>
        Bytes(new JsonObject { ["kind"] = DeletedKind, ["subject"] = subject, ["version"] = version });

    public static byte[] DeletedValue() => Bytes(new JsonObject { ["deleted"] = true });

    /// <param name="subject">null: the global config.</param>
    public static byte[] ConfigKey(string? subject) => Bytes(new JsonObject { ["kind"] = ConfigKind, ["subject"] = subject });

    public static byte[] ConfigValue(string compatibility) => Bytes(new JsonObject { ["compatibility"] = compatibility });

    public static byte[] IdFloorKey() => Bytes(new JsonObject { ["kind"] = IdFloorKind });

    public static byte[] IdFloorValue(int id) => Bytes(new JsonObject { ["id"] = id });

    private static byte[] Bytes(JsonObject json) => Encoding.UTF8.GetBytes(json.ToJsonString());
}
