namespace NeverwinterDP.Actors.Schemas;

/// <summary>
/// A refusal of the schema registry, with the HTTP status and the error code Confluent's Schema Registry gives
/// for it, so Confluent's clients recognise it (<c>{"error_code": 40401, "message": ...}</c>).
/// </summary>
public sealed class SchemaRegistryException(int status, int errorCode, string message) : Exception(message)
{
    public int Status { get; } = status;
    public int ErrorCode { get; } = errorCode;

    public static SchemaRegistryException SubjectNotFound(string subject) => new(404, 40401, $"Subject '{subject}' not found.");
    public static SchemaRegistryException VersionNotFound(string subject, string version) => new(404, 40402, $"Version {version} not found (subject '{subject}').");
    public static SchemaRegistryException SchemaNotFound(string detail) => new(404, 40403, $"Schema not found: {detail}");
    public static SchemaRegistryException SubjectSoftDeleted(string subject) =>
        new(404, 40404, $"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently");
    public static SchemaRegistryException SubjectNotSoftDeleted(string subject) =>
        new(404, 40405, $"Subject '{subject}' was not deleted first before being permanently deleted");
    public static SchemaRegistryException VersionSoftDeleted(string subject, int version) =>
        new(404, 40406, $"Subject '{subject}' Version {version} was soft deleted. Set permanent=true to delete permanently");
    public static SchemaRegistryException VersionNotSoftDeleted(string subject, int version) =>
        new(404, 40407, $"Subject '{subject}' Version {version} was not deleted first before being permanently deleted");
    public static SchemaRegistryException SubjectConfigNotFound(string subject) =>
        new(404, 40408, $"Subject '{subject}' does not have subject-level compatibility configured");
    public static SchemaRegistryException Incompatible(string subject, IReadOnlyList<string> problems) =>
        new(409, 409, $"Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{string.Join("; ", problems)}]");
    public static SchemaRegistryException InvalidSchema(string detail) => new(422, 42201, $"Invalid schema: {detail}");
    public static SchemaRegistryException InvalidVersion(string version) =>
        new(422, 42202, $"The specified version '{version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
    public static SchemaRegistryException InvalidCompatibility(string? level) =>
        new(422, 42203, $"Invalid compatibility level '{level}'. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE");
    public static SchemaRegistryException NotPermitted(string detail) => new(422, 42205, $"Operation not permitted: {detail}");
    public static SchemaRegistryException StoreError(string detail) => new(500, 50001, $"Error in the backend data store: {detail}");
    public static SchemaRegistryException StoreTimeout(string detail) => new(500, 50002, $"Operation timed out: {detail}");
}
