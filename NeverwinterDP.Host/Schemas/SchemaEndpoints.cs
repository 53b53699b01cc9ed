using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeverwinterDP.Actors.Schemas;
using NeverwinterDP.Protocol;

namespace NeverwinterDP.Host.Schemas;

/// <summary>
/// The Confluent Schema Registry REST API (the part clients use) over <see cref="SchemaRegistry"/>, mounted at
/// <c>nwdp.schemas.path</c> of the HTTP listener. Answers in <c>application/vnd.schemaregistry.v1+json</c>; errors
/// are <c>{"error_code": N, "message": "..."}</c> with Confluent's codes.
/// </summary>
public static class SchemaEndpoints
{
    public const string ContentType = "application/vnd.schemaregistry.v1+json";

    public static WebApplication MapSchemaRegistry(this WebApplication app, SchemaOptions options)
    {
        if (!options.Serves) return app;
        var api = app.MapGroup(options.Path.Length == 0 ? "/" : options.Path);
        api.MapGet("/", () => Ok(new JsonObject()));
        api.MapGet("/schemas/types", () => Ok(new JsonArray("AVRO")));

        api.MapGet("/subjects", Handle(async (http, r) => Ok(Array(await r.SubjectsAsync(Flag(http, "deleted"), http.RequestAborted)))));
        api.MapGet("/subjects/{subject}/versions", Handle(async (http, r) =>
            Ok(Array((await r.VersionsAsync(Subject(http), Flag(http, "deleted"), http.RequestAborted)).Select(v => v.Version)))));
        api.MapPost("/subjects/{subject}/versions", Handle(async (http, r) =>
            Ok(new JsonObject { ["id"] = await r.RegisterAsync(Subject(http), await SchemaOf(http), http.RequestAborted) })));
        api.MapGet("/subjects/{subject}/versions/{version}", Handle(async (http, r) =>
            Ok(Describe(await r.VersionAsync(Subject(http), Version(http), Flag(http, "deleted"), http.RequestAborted)))));
        api.MapGet("/subjects/{subject}/versions/{version}/schema", Handle(async (http, r) =>
            Raw((await r.VersionAsync(Subject(http), Version(http), Flag(http, "deleted"), http.RequestAborted)).Schema)));
        api.MapGet("/subjects/{subject}/versions/{version}/referencedby", Handle(async (http, r) =>
        {
            await r.VersionAsync(Subject(http), Version(http), Flag(http, "deleted"), http.RequestAborted);
            return Ok(new JsonArray()); // schema references are not supported: nothing refers to anything
        }));
        api.MapPost("/subjects/{subject}", Handle(async (http, r) =>
            Ok(Describe(await r.LookupAsync(Subject(http), await SchemaOf(http), Flag(http, "deleted"), http.RequestAborted)))));
        api.MapDelete("/subjects/{subject}", Handle(async (http, r) =>
            Ok(Array(await r.DeleteSubjectAsync(Subject(http), Flag(http, "permanent"), http.RequestAborted)))));
        api.MapDelete("/subjects/{subject}/versions/{version}", Handle(async (http, r) =>
            Ok(JsonValue.Create(await r.DeleteVersionAsync(Subject(http), Version(http), Flag(http, "permanent"), http.RequestAborted)))));

        api.MapGet("/schemas/ids/{id}", Handle(async (http, r) =>
            Ok(new JsonObject { ["schema"] = await r.SchemaByIdAsync(Id(http), http.RequestAborted) })));
        api.MapGet("/schemas/ids/{id}/schema", Handle(async (http, r) => Raw(await r.SchemaByIdAsync(Id(http), http.RequestAborted))));
        api.MapGet("/schemas/ids/{id}/versions", Handle(async (http, r) =>
            Ok(Array((await r.VersionsOfIdAsync(Id(http), Flag(http, "deleted"), http.RequestAborted))
                .Select(v => new JsonObject { ["subject"] = v.Subject, ["version"] = v.Version })))));
        api.MapGet("/schemas/ids/{id}/subjects", Handle(async (http, r) =>
            Ok(Array((await r.VersionsOfIdAsync(Id(http), Flag(http, "deleted"), http.RequestAborted)).Select(v => v.Subject).Distinct()))));

        api.MapGet("/config", Handle((_, r) => Task.FromResult(Level(r.Config(null, true)))));
        api.MapPut("/config", Handle(async (http, r) => Ok(new JsonObject
        {
            ["compatibility"] = (await r.SetConfigAsync(null, await CompatibilityOf(http), http.RequestAborted)).Name(),
        })));
        api.MapGet("/config/{subject}", Handle((http, r) => Task.FromResult(Level(r.Config(Subject(http), Flag(http, "defaultToGlobal"))))));
        api.MapPut("/config/{subject}", Handle(async (http, r) => Ok(new JsonObject
        {
            ["compatibility"] = (await r.SetConfigAsync(Subject(http), await CompatibilityOf(http), http.RequestAborted)).Name(),
        })));
        api.MapDelete("/config/{subject}", Handle(async (http, r) => Level(await r.DeleteConfigAsync(Subject(http), http.RequestAborted))));

        api.MapPost("/compatibility/subjects/{subject}/versions/{version}", Handle(async (http, r) => Compatibility(http,
            await r.TestCompatibilityAsync(Subject(http), Version(http), await SchemaOf(http), http.RequestAborted))));
        api.MapPost("/compatibility/subjects/{subject}/versions", Handle(async (http, r) => Compatibility(http,
            await r.TestCompatibilityAsync(Subject(http), null, await SchemaOf(http), http.RequestAborted))));
        return app;
    }

    private static Delegate Handle(Func<HttpContext, SchemaRegistry, Task<IResult>> handler) =>
        async (HttpContext http, SchemaRegistry registry) =>
        {
            try
            {
                return await handler(http, registry);
            }
            catch (SchemaRegistryException e)
            {
                return Error(e.Status, e.ErrorCode, e.Message);
            }
            catch (JsonException e)
            {
                return Error(400, 400, $"the request body is not JSON: {e.Message}");
            }
        };

    private static string Subject(HttpContext http) => (string)http.GetRouteValue("subject")!;

    private static string Version(HttpContext http) => (string)http.GetRouteValue("version")!;

    private static int Id(HttpContext http) =>
        int.TryParse((string?)http.GetRouteValue("id"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw SchemaRegistryException.SchemaNotFound($"'{http.GetRouteValue("id")}' is not a schema id");

    private static bool Flag(HttpContext http, string name) =>
        bool.TryParse(http.Request.Query[name].ToString(), out var on) && on;

    /// <summary>The <c>schema</c> of a registration or lookup body; only Avro (no <c>schemaType</c>, or <c>AVRO</c>) without references.</summary>
    private static async Task<string> SchemaOf(HttpContext http)
    {
        var body = await Body(http);
        var type = (string?)body["schemaType"] ?? "AVRO";
        if (!type.Equals("AVRO", StringComparison.OrdinalIgnoreCase))
            throw SchemaRegistryException.InvalidSchema($"schemaType {type} is not supported here (only AVRO)");
        if (body["references"] is JsonArray { Count: > 0 })
            throw SchemaRegistryException.InvalidSchema("schema references are not supported here");
        return body["schema"] is JsonValue v && v.TryGetValue<string>(out var schema)
            ? schema
            : throw SchemaRegistryException.InvalidSchema("the body must be {\"schema\": \"<the schema as a JSON string>\"}");
    }

    private static async Task<string?> CompatibilityOf(HttpContext http)
    {
        var body = await Body(http);
        return (string?)(body["compatibility"] ?? body["compatibilityLevel"]);
    }

    private static async Task<JsonObject> Body(HttpContext http) =>
        await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted) as JsonObject
        ?? throw new JsonException("expected a JSON object");

    private static JsonObject Describe(SchemaVersion v) =>
        new() { ["subject"] = v.Subject, ["version"] = v.Version, ["id"] = v.Id, ["schema"] = v.Schema };

    private static IResult Level(CompatibilityLevel level) => Ok(new JsonObject { ["compatibilityLevel"] = level.Name() });

    private static IResult Compatibility(HttpContext http, IReadOnlyList<string> problems)
    {
        var answer = new JsonObject { ["is_compatible"] = problems.Count == 0 };
        if (Flag(http, "verbose")) answer["messages"] = Array(problems);
        return Ok(answer);
    }

    private static JsonArray Array<T>(IEnumerable<T> items) => new(items.Select(i => i is JsonNode n ? n : JsonValue.Create(i)).ToArray());

    private static IResult Ok(JsonNode body) => Results.Text(body.ToJsonString(), ContentType);

    /// <summary>A schema as it is (its own JSON, not a string inside an object), as Confluent's <c>.../schema</c> routes answer.</summary>
    private static IResult Raw(string schema) => Results.Text(schema, ContentType);

    private static IResult Error(int status, int code, string message) =>
        Results.Text(new JsonObject { ["error_code"] = code, ["message"] = message }.ToJsonString(), ContentType, statusCode: status);
}
