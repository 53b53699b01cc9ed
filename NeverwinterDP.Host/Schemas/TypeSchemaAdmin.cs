using System.Text.Json.Nodes;
using NeverwinterDP.Actors.Schemas;

namespace NeverwinterDP.Host.Schemas;

/// <summary>
/// <c>PUT /v1/types/{type}/schema</c> on the admin API: the body is the record of a log type's attributes (what
/// <c>nwdp schema set --type T FILE.avsc</c> sends the registry wrapped); registered under
/// <c>nwdp.logs.&lt;type&gt;-value</c>. <c>GET</c> answers the latest version. Errors carry the registry's
/// status and code (<c>{"error": "...", "error_code": 409}</c>).
/// </summary>
public static class TypeSchemaAdmin
{
    /// <summary>A schema larger than this is refused (413): an .avsc of attributes is a few kilobytes.</summary>
    public const int MaxSchemaBytes = 1 << 20;

    public static void MapTypeSchemaAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPut("/types/{type}/schema", PutAsync);
        admin.MapGet("/types/{type}/schema", GetAsync);
    }

    private static async Task<IResult> PutAsync(HttpContext http, string type)
    {
        if (http.RequestServices.GetService<SchemaRegistry>() is not { } registry) return NotServed();
        if (type.Length == 0) return Error(400, 400, "path parameter 'type' is empty");
        if (http.Request.ContentLength > MaxSchemaBytes) return Error(413, 413, $"the schema is {http.Request.ContentLength} bytes; the limit is {MaxSchemaBytes}");
        using var reader = new StreamReader(http.Request.Body);
        var buffer = new char[MaxSchemaBytes + 1];
        var length = await reader.ReadBlockAsync(buffer, http.RequestAborted);
        if (length > MaxSchemaBytes) return Error(413, 413, $"the schema is larger than {MaxSchemaBytes} bytes");
        try
        {
            var done = await registry.RegisterTypeAsync(type, new string(buffer, 0, length), http.RequestAborted);
            return Json(new JsonObject { ["type"] = done.Type, ["subject"] = done.Subject, ["id"] = done.Id, ["version"] = done.Version });
        }
        catch (SchemaRegistryException e)
        {
            return Error(e.Status, e.ErrorCode, e.Message);
        }
    }

    private static async Task<IResult> GetAsync(HttpContext http, string type)
    {
        if (http.RequestServices.GetService<SchemaRegistry>() is not { } registry) return NotServed();
        try
        {
            var latest = await registry.VersionAsync(TypeSchemaRegistration.SubjectOf(type), "latest", deleted: false, http.RequestAborted);
            return Json(new JsonObject { ["type"] = type, ["subject"] = latest.Subject, ["id"] = latest.Id, ["version"] = latest.Version, ["schema"] = latest.Schema });
        }
        catch (SchemaRegistryException e)
        {
            return Error(e.Status, e.ErrorCode, e.Message);
        }
    }

    private static IResult NotServed() =>
        Error(404, 404, "this node serves no schema registry (nwdp.schemas.enabled is off or nwdp.schemas.url names another): register with that registry");

    private static IResult Json(JsonObject body, int status = 200) => Results.Text(body.ToJsonString(), "application/json", statusCode: status);

    private static IResult Error(int status, int code, string message) => Json(new JsonObject { ["error"] = message, ["error_code"] = code }, status);
}
