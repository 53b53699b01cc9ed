using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace NeverwinterDP.Tests.Sinks.Elasticsearch;

/// <summary>
/// Component templates (<c>PUT|GET /_component_template/{name}</c>), composable index templates (<c>PUT
/// /_index_template/{name}</c>: index_patterns, composed_of, priority) and data stream rollover (<c>POST
/// /{stream}/_rollover</c>): the new write index takes the mappings of the highest-priority index template matching the
/// stream's name, from its component templates in order, as the real server makes a backing index; the mappings the old
/// one got later (<c>PUT /_mapping</c>) are not carried over. A data stream created by <c>PUT /_data_stream</c> starts
/// with them too.
/// </summary>
public sealed partial class FakeElasticsearch
{
    private readonly Dictionary<string, string> _componentTemplates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _indexTemplates = new(StringComparer.Ordinal);

    /// <summary>A component template's body as put (null: none).</summary>
    public string? ComponentTemplate(string name)
    {
        lock (_gate) return _componentTemplates.GetValueOrDefault(name);
    }

    /// <summary>An index template's body as put (null: none).</summary>
    public string? IndexTemplate(string name)
    {
        lock (_gate) return _indexTemplates.GetValueOrDefault(name);
    }

    /// <summary>The generation of a data stream's write index (<c>.ds-{name}-{date}-{generation:D6}</c>); 0 for no data stream.</summary>
    public int Generation(string stream)
    {
        lock (_gate) return _indices.TryGetValue(stream, out var index) ? index.Generation : 0;
    }

    private async Task ComponentTemplateAsync(HttpContext context, string name)
    {
        if (context.Request.Method == "GET")
        {
            string? body;
            lock (_gate) body = _componentTemplates.GetValueOrDefault(name);
            if (body is null)
            {
                await WriteErrorAsync(context, 404, "resource_not_found_exception", $"component template matching [{name}] not found");
                return;
            }
            await WriteJsonAsync(context, 200, w =>
            {
                w.WriteStartArray("component_templates");
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WritePropertyName("component_template");
                w.WriteRawValue(body);
                w.WriteEndObject();
                w.WriteEndArray();
            });
            return;
        }
        if (await ReadTemplateAsync(context) is not { } text) return;
        lock (_gate) _componentTemplates[name] = text;
        await WriteJsonAsync(context, 200, w => w.WriteBoolean("acknowledged", true));
    }

    private async Task PutIndexTemplateAsync(HttpContext context, string name)
    {
        if (await ReadTemplateAsync(context) is not { } text) return;
        lock (_gate) _indexTemplates[name] = text;
        await WriteJsonAsync(context, 200, w => w.WriteBoolean("acknowledged", true));
    }

    private async Task<string?> ReadTemplateAsync(HttpContext context)
    {
        var read = await ReadBodyAsync(context);
        if (read is not var (body, _)) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("a template is an object");
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(context, 400, "x_content_parse_exception", e.Message);
            return null;
        }
        return Encoding.UTF8.GetString(body);
    }

    /// <summary><c>POST /{stream}/_rollover</c>: a new write index with the matching index template's mappings.</summary>
    private async Task RolloverAsync(HttpContext context, string name)
    {
        string? error = null, oldIndex = null, newIndex = null;
        lock (_gate)
        {
            if (!_indices.TryGetValue(name, out var index) || !index.DataStream) error = $"rollover target [{name}] does not exist or is not a data stream";
            else
            {
                oldIndex = index.BackingIndex;
                index.Generation++;
                newIndex = index.BackingIndex;
                index.Mapping.Clear();
                ApplyTemplates(index);
            }
        }
        if (error is not null)
        {
            await WriteErrorAsync(context, 400, "illegal_argument_exception", error);
            return;
        }
        await WriteJsonAsync(context, 200, w =>
        {
            w.WriteBoolean("acknowledged", true);
            w.WriteBoolean("shards_acknowledged", true);
            w.WriteString("old_index", oldIndex);
            w.WriteString("new_index", newIndex);
            w.WriteBoolean("rolled_over", true);
            w.WriteBoolean("dry_run", false);
        });
    }

    /// <summary>The mappings of the highest-priority index template whose pattern matches, from its component templates in order (under _gate).</summary>
    private void ApplyTemplates(FakeIndex index)
    {
        JsonElement? best = null;
        var bestPriority = long.MinValue;
        var documents = new List<JsonDocument>();
        try
        {
            foreach (var text in _indexTemplates.Values)
            {
                var doc = JsonDocument.Parse(text);
                documents.Add(doc);
                var root = doc.RootElement;
                var priority = root.TryGetProperty("priority", out var p) ? p.GetInt64() : 0;
                var matches = root.TryGetProperty("index_patterns", out var patterns)
                    && patterns.EnumerateArray().Any(x => Regex.IsMatch(index.Name, "^" + Regex.Escape(x.GetString()!).Replace("\\*", ".*", StringComparison.Ordinal) + "$"));
                if (matches && priority > bestPriority) (best, bestPriority) = (root, priority);
            }
            if (best is not { } template || !template.TryGetProperty("composed_of", out var composed)) return;
            foreach (var component in composed.EnumerateArray())
            {
                if (!_componentTemplates.TryGetValue(component.GetString()!, out var body)) continue;
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("template", out var t) && t.TryGetProperty("mappings", out var m) && m.TryGetProperty("properties", out var properties))
                    ReadProperties(properties, "", index.Mapping);
            }
        }
        finally
        {
            foreach (var doc in documents) doc.Dispose();
        }
    }
}
