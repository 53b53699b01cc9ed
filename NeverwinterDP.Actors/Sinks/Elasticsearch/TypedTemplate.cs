using System.Text.Json;
using System.Text.Json.Nodes;

namespace NeverwinterDP.Actors.Sinks.Elasticsearch;

/// <summary>
/// The component template the sink owns (<c>typed-component-template</c>): the typed fields' mappings of every schema the
/// sink met, under <c>attributes</c>, for an operator's index template to compose, so an index the template makes (a data
/// stream's rollover index above all) has them from its start. Marked in <c>_meta</c>; a template of that name without
/// the mark is the operator's and is never overwritten.
/// </summary>
internal static class TypedTemplate
{
    public const string ManagedBy = "neverwinterdp";

    /// <summary>
    /// The body to put for a schema's field mappings (<paramref name="mapping"/>, a <see cref="TypedMapping.Body"/>) given
    /// the template's current <c>GET /_component_template/&lt;name&gt;</c> answer (null: none yet): the fields it maps, each of
    /// this schema's fields as this schema maps it (the newest version met wins: an int promoted to long is long from the
    /// next index on). Null when it maps them so already.
    /// </summary>
    /// <exception cref="InvalidOperationException">A template of that name not made by a sink (the reason names it).</exception>
    public static byte[]? Merge(string name, byte[]? current, byte[] mapping, string sink)
    {
        JsonObject? existing = null;
        if (current is not null)
        {
            var template = JsonNode.Parse(current)?["component_templates"]?.AsArray()
                .FirstOrDefault(t => (string?)t?["name"] == name)?["component_template"];
            if (template is not null)
            {
                if ((string?)template["_meta"]?["managed_by"] != ManagedBy)
                    throw new InvalidOperationException($"component template '{name}' exists and was not made by a NeverwinterDP sink (no _meta.managed_by = {ManagedBy}); " +
                        "name another one in typed-component-template, the sink does not overwrite it");
                existing = template["template"]?["mappings"]?["properties"]?["attributes"]?["properties"] as JsonObject ?? [];
            }
        }
        var fields = JsonNode.Parse(mapping)!["properties"]!["attributes"]!["properties"]!.AsObject();
        var merged = (JsonObject?)existing?.DeepClone() ?? [];
        foreach (var (field, type) in fields) merged[field] = type!.DeepClone();
        if (existing is not null && JsonNode.DeepEquals(existing, merged)) return null;
        var body = new JsonObject
        {
            ["template"] = new JsonObject { ["mappings"] = new JsonObject { ["properties"] = new JsonObject { ["attributes"] = new JsonObject { ["properties"] = merged } } } },
            ["_meta"] = new JsonObject
            {
                ["managed_by"] = ManagedBy,
                ["sink"] = sink,
                ["description"] = "Typed log types' field mappings, kept by the NeverwinterDP sink; compose it into the index template of the sink's indices.",
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(body);
    }
}
