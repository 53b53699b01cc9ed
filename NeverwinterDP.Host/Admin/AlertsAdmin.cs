using NeverwinterDP.Actors.Alerts;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// <c>GET /v1/alerts</c>: the rules and the pending and firing alerts, from the cluster's evaluator wherever it runs
/// (what <c>nwdp alerts</c> shows); <c>POST /v1/alerts/reload</c>: the evaluator re-reads nwdp.alerts from its node's
/// configuration; a bad rule is refused (422, naming the rule and the field) and the previous rules stay.
/// </summary>
public static class AlertsAdmin
{
    public static async Task<IResult> ListAsync(AlertsQueries alerts, CancellationToken cancellation) =>
        AdminApi.Json(await alerts.ViewAsync(cancellation), AdminJson.Default.AlertsView);

    public static async Task<IResult> ReloadAsync(AlertsQueries alerts, CancellationToken cancellation)
    {
        var result = await alerts.ReloadAsync(cancellation);
        return result.Ok ? AdminApi.Json(result, AdminJson.Default.AlertsReloaded) : AdminApi.Fail(422, $"alerts not reloaded, the previous rules stay: {result.Error}");
    }
}
