using NeverwinterDP.Actors.Replay;
using NeverwinterDP.Actors.Sinks.Catalog;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// Replays and dead letters on the admin API. A replay runs inside the node as a job (<see cref="ReplayJobs"/>): it
/// goes on if the CLI that started it goes away, a dashboard can start and watch it, and its positions are saved under
/// the node's data directory. A dead-letter replay runs within its request (the DLQ holds what a sink refused: few records).
/// </summary>
public static class ReplayAdmin
{
    public static void MapReplayAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/admin/replay", StartAsync);
        admin.MapGet("/admin/replay", (ReplayJobs jobs) => AdminApi.Json(new ReplayListResponse(jobs.List()), AdminJson.Default.ReplayListResponse));
        admin.MapGet("/admin/replay/{id}", (string id, ReplayJobs jobs) =>
            jobs.Get(id) is { } status ? AdminApi.Json(status, AdminJson.Default.ReplayStatus) : AdminApi.Fail(404, $"no replay job '{id}' on this node"));
        admin.MapDelete("/admin/replay/{id}", async (string id, ReplayJobs jobs) =>
            await jobs.StopAsync(id) is { } status ? AdminApi.Json(status, AdminJson.Default.ReplayStatus) : AdminApi.Fail(404, $"no replay job '{id}' on this node"));
        admin.MapGet("/admin/dlq", ListDeadLettersAsync);
        admin.MapGet("/admin/dlq/{sink}", ShowDeadLettersAsync);
        admin.MapPost("/admin/dlq/{sink}/replay", ReplayDeadLettersAsync);
    }

    /// <summary>
    /// <c>POST /v1/admin/replay</c> with a <see cref="ReplayRequest"/> (snake_case; times in epoch ms): 202 and the job's
    /// status (the job of the same request when it runs already, resumed when it was stopped); 400 naming a bad field,
    /// 404 for an unknown sink or topic, 416 when the range has left Kafka's retention (saying what is still there).
    /// </summary>
    private static async Task<IResult> StartAsync(HttpRequest http, ReplayJobs jobs, CancellationToken cancellation)
    {
        ReplayRequest? request;
        try
        {
            request = await http.ReadFromJsonAsync(AdminJson.Default.ReplayRequest, cancellation);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return AdminApi.Fail(400, $"the body must be a replay request as JSON (type or topic, from or from_offset, sink or to_topic): {e.Message}");
        }
        if (request is null) return AdminApi.Fail(400, "the body must be a replay request as JSON");
        try
        {
            var status = await Task.Run(() => jobs.Start(request), cancellation);
            return Results.Json(status, AdminJson.Default.ReplayStatus, statusCode: 202);
        }
        catch (ReplayRequestException e)
        {
            return AdminApi.Fail(e.NotFound ? 404 : 400, e.Message);
        }
        catch (ReplayRangeException e)
        {
            return AdminApi.Fail(416, e.Message);
        }
    }

    private static async Task<IResult> ListDeadLettersAsync(string? sink, SinkCatalog sinks, DeadLetterReplay dlq, CancellationToken cancellation)
    {
        if (sink is not null && Unknown(sink, sinks) is { } unknown) return unknown;
        IReadOnlyList<string> names = sink is null ? sinks.Names : [sink];
        var counts = await Task.Run(() => dlq.Count(names), cancellation);
        return AdminApi.Json(new DlqListResponse(names, counts), AdminJson.Default.DlqListResponse);
    }

    private static async Task<IResult> ShowDeadLettersAsync(string sink, string? reason, int? limit, SinkCatalog sinks, DeadLetterReplay dlq, CancellationToken cancellation)
    {
        if (Unknown(sink, sinks) is { } unknown) return unknown;
        if (limit is < 1) return AdminApi.Fail(400, "limit must be 1 or more");
        var letters = await Task.Run(() => dlq.Show(sink, reason, limit ?? 20), cancellation);
        return AdminApi.Json(new DlqShowResponse(sink, reason, letters), AdminJson.Default.DlqShowResponse);
    }

    private static async Task<IResult> ReplayDeadLettersAsync(string sink, string? reason, SinkCatalog sinks, DeadLetterReplay dlq, CancellationToken cancellation)
    {
        if (Unknown(sink, sinks) is { } unknown) return unknown;
        var report = await dlq.ReplayAsync(sink, reason, cancellation);
        return AdminApi.Json(report, AdminJson.Default.DeadLetterReplayReport);
    }

    private static IResult? Unknown(string sink, SinkCatalog sinks) =>
        sinks.Names.Contains(sink) ? null : AdminApi.Fail(404, $"no sink '{sink}' is configured on this node (configured: {(sinks.Names.Count == 0 ? "none" : string.Join(", ", sinks.Names))})");
}
