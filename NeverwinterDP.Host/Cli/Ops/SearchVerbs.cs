using System.CommandLine;
using NeverwinterDP.Host.Admin;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary><c>nwdp search [Q] [--type T] [--from F] [--to T] [--limit N] [--cursor C]</c>: events of a sink, newest first (<c>GET /v1/search</c>).</summary>
public static class SearchVerbs
{
    private static readonly Option<string?> Type = Flags.Text("--type", "only these types: a glob such as web or web-* (default every type)", "GLOB");
    private static readonly Option<string?> From = Flags.Text("--from", "events whose ts is at or after this: epoch ms, RFC 3339, or a duration ago (15m, 2h, 7d)", "TIME");
    private static readonly Option<string?> To = Flags.Text("--to", "events whose ts is before this (same forms as --from)", "TIME");
    private static readonly Option<long?> Limit = Flags.Long("--limit", "hits per page (default nwdp.search.default-limit, at most nwdp.search.max-limit)", "N", min: 1);
    private static readonly Option<string?> Cursor = Flags.Text("--cursor", "the next page: the cursor the previous page printed", "CURSOR");

    public static readonly Command Search = AdminVerb.Create(
        "search",
        "Searches the events a sink stored, newest first: over the Elasticsearch sink when the node has one, else over\n" +
        "the hive (parquet) or files (ndjson) sink's files with DuckDB (nwdp.search.sink picks one). Q: words matched\n" +
        "whole in msg, \"a phrase\", field:word (host, process, type, level, ip, version, attributes.KEY), AND, OR, NOT\n" +
        "or -, parentheses (docs/search.md). A full page ends with the --cursor of the next one.\n" +
        "Exit 0, 1 when the node cannot be reached or refuses (a bad parameter is named), 2 for usage errors.",
        SearchAsync,
        [Type, From, To, Limit, Cursor],
        positional: "[Q]");

    private static async Task<int> SearchAsync(AdminCall call)
    {
        var query = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value)) query.Add(name + "=" + Uri.EscapeDataString(value));
        }
        Add("q", call.Positional);
        Add("type", call.Args.GetValue(Type));
        Add("from", call.Args.GetValue(From));
        Add("to", call.Args.GetValue(To));
        Add("limit", call.Args.GetValue(Limit)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("cursor", call.Args.GetValue(Cursor));
        var reply = await call.Client.GetAsync("/v1/search" + (query.Count == 0 ? "" : "?" + string.Join('&', query)), AdminJson.Default.SearchResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var rows = reply.Value.Hits.Select(h => new[]
        {
            h.Time, h.Type, h.Host, h.Process, h.Level,
            OneLine(h.Msg) + (h.Attributes.Count == 0 ? "" : "  " + string.Join(' ', h.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={OneLine(a.Value)}"))),
        }).ToList();
        await AdminVerb.WriteTableAsync(call.Out, ["time", "type", "host", "process", "level", "msg"], rows);
        await call.Error.WriteLineAsync($"{rows.Count} hits from {reply.Value.Backend} over sink '{reply.Value.Sink}' in {reply.Value.TookMs} ms" +
                                        (reply.Value.Next is { } next ? $"; next page: --cursor {next}" : ""));
        return 0;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
