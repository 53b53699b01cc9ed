using System.CommandLine;
using System.Text.Json;
using NeverwinterDP.Host.Admin;
using NeverwinterDP.Host.SpillTransfer;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// <c>nwdp spill status</c> and <c>nwdp spill check</c>: the spillover store's backlog and integrity (through a
/// node's admin API); <c>nwdp spill export</c> and <c>import</c>: a stopped node's store moved to another node (on
/// the data directories, no node running on them).
/// </summary>
public static class SpillVerbs
{
    // Before Commands: static fields are initialised in order.
    private static readonly Option<string?> Data = Flags.Text("--data", "the data directory of a stopped node (required)", "DIR");
    private static readonly Option<string?> Out = Flags.Text("--out", "the export file to write (required; never overwritten)", "FILE");
    private static readonly Option<string?> In = Flags.Text("--in", "the export file to import (required)", "FILE");
    private static readonly Option<bool> Json = Flags.Switch("--json", "print the result as JSON");

    public static IReadOnlyList<Command> Commands { get; } =
    [
        AdminVerb.Create("status", "The spill backlog per topic (batches, events, bytes, oldest age, replay state) and this node's quota.", StatusAsync),
        AdminVerb.Create("check", "Verify the spill store: integrity now, quarantines at earlier starts, damaged batches kept aside (exit 3 if any).", CheckAsync),
        Export(),
        Import(),
    ];

    private static Command Export()
    {
        var command = new Command("export",
            "Write a stopped node's spilled batches to a file, and seal them in its store (the node will not replay them).\n" +
            "Import the file on another node with nwdp spill import. Exit 0, 1 when a node runs on --data, 2 for bad flags.") { Data, Out, Json };
        command.SetAction((parsed, _) => Run(parsed, "export", progress =>
        {
            var result = SpillTransfer.SpillTransfer.Export(Required(parsed, Data, "the data directory of the stopped node"), Required(parsed, Out, "the export file to write"), progress);
            var m = result.Manifest;
            return (new Dictionary<string, object?>
            {
                ["file"] = result.File, ["export_id"] = m.ExportId, ["source_store_id"] = m.SourceStoreId, ["rows"] = m.Rows, ["batches"] = m.Batches,
                ["events"] = m.Events, ["topics"] = m.Ranges.Keys.ToList(), ["key_ids"] = m.KeyIds,
            }, $"exported {m.Batches} batches ({m.Rows} rows) of store {m.SourceStoreId} to {result.File} (export {m.ExportId})");
        }));
        return command;
    }

    private static Command Import()
    {
        var command = new Command("import",
            "Add the batches of an export (nwdp spill export) to a stopped node's store; it replays them at its next start, each once.\n" +
            "Importing the same export again adds nothing. Exit 0, 1 when a node runs on --data, 2 for bad flags or a damaged file.") { Data, In, Json };
        command.SetAction((parsed, _) => Run(parsed, "import", progress =>
        {
            var r = SpillTransfer.SpillTransfer.Import(Required(parsed, Data, "the data directory of the node that replays them"), Required(parsed, In, "the export file"), progress);
            return (new Dictionary<string, object?>
            {
                ["store"] = r.Store, ["export_id"] = r.Manifest.ExportId, ["source_store_id"] = r.Manifest.SourceStoreId, ["imported_rows"] = r.ImportedRows,
                ["imported_batches"] = r.ImportedBatches, ["skipped_rows"] = r.SkippedRows, ["already_imported"] = r.AlreadyImported, ["key_ids"] = r.Manifest.KeyIds,
            }, r.AlreadyImported
                ? $"already imported: export {r.Manifest.ExportId} ({r.SkippedRows} rows) is in {r.Store}; nothing added"
                : $"imported {r.ImportedBatches} batches ({r.ImportedRows} rows, {r.SkippedRows} skipped) of store {r.Manifest.SourceStoreId} into {r.Store}");
        }));
        return command;
    }

    private static string Required(ParseResult parsed, Option<string?> option, string what) =>
        parsed.GetValue(option) is { Length: > 0 } value ? value : throw new CliUsageException($"flag '{option.Name}' is required ({what})");

    /// <summary>Progress on standard error, the result on standard output; a refusal is one line naming the flag.</summary>
    private static async Task<int> Run(ParseResult parsed, string verb, Func<Action<string>, (Dictionary<string, object?> Json, string Text)> body)
    {
        var error = parsed.InvocationConfiguration.Error;
        try
        {
            var (json, text) = await Task.Run(() => body(line => error.WriteLine($"nwdp spill {verb}: {line}")));
            await parsed.InvocationConfiguration.Output.WriteLineAsync(parsed.GetValue(Json) ? JsonSerializer.Serialize(json) : text);
            return 0;
        }
        catch (SpillTransferException e)
        {
            await error.WriteLineAsync($"nwdp spill {verb}: {e.Message}");
            return e.ExitCode;
        }
    }

    private static async Task<int> StatusAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/spill/status", AdminJson.Default.SpillStatusResponse, call.Cancellation);
        if (call.Json) return await AdminVerb.PrintJsonAsync(call, reply.Json);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var rows = reply.Value.Topics.Select(t => new[]
        {
            t.Topic, t.Batches.ToString(), t.Events.ToString(), t.Bytes.ToString(),
            t.OldestSpilledAtMs <= 0 ? "-" : $"{TimeSpan.FromMilliseconds(Math.Max(0, now - t.OldestSpilledAtMs)).TotalSeconds:0}s",
            t.ReplayedEvents.ToString(), t.QuarantinedBatches.ToString(), t.State,
        }).ToList();
        await AdminVerb.WriteTableAsync(call.Out, ["topic", "batches", "events", "bytes", "oldest", "replayed", "quarantined", "state"], rows);
        var v = reply.Value;
        await call.Out.WriteLineAsync($"Quota: {v.QuotaUsedBytes} of {v.QuotaLimitBytes} bytes used; bus {(v.BusUp ? "up" : "DOWN")}");
        if (v.RequestsInDoubt > 0)
            await call.Out.WriteLineAsync($"In doubt: {v.RequestsInDoubt} spilled requests still with the Kafka producer; replays wait for its verdict");
        return 0;
    }

    private static async Task<int> CheckAsync(AdminCall call)
    {
        var reply = await call.Client.GetAsync("/v1/spill/check", AdminJson.Default.SpillCheckResponse, call.Cancellation);
        var v = reply.Value;
        if (call.Json) await AdminVerb.PrintJsonAsync(call, reply.Json);
        else
        {
            await call.Out.WriteLineAsync($"store: {v.Store ?? v.Provider}: {(v.Healthy ? "ok" : "DAMAGED")} ({v.Detail})");
            foreach (var q in v.Quarantines)
                await call.Out.WriteLineAsync($"quarantined at start: {q.QuarantinedTo} ({q.Detail}): {q.Salvaged} rows salvaged, {q.Lost} unreadable");
            foreach (var b in v.QuarantinedBatches) await call.Out.WriteLineAsync($"damaged spilled batch kept aside: {b}");
        }
        return v.Healthy && v.Quarantines.Count == 0 ? 0 : 3;
    }
}
