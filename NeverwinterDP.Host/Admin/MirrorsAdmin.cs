using Akka.Actor;
using Akka.Hosting;
using NeverwinterDP.Actors.Mirror;

namespace NeverwinterDP.Host.Admin;

/// <summary>
/// The mirrors the cluster runs (<c>nwdp.mirrors</c>): <c>GET /v1/mirrors[?mirror=NAME]</c> (each mirror's entity state and
/// its lag per source partition, what <c>nwdp mirror status</c> and <c>nwdp check lag</c> show), and
/// <c>POST /v1/mirrors/NAME/pause</c> and <c>/resume</c>. Any node answers for every mirror.
/// </summary>
public static class MirrorsAdmin
{
    /// <summary>How long one entity may take to say how it is.</summary>
    private static readonly TimeSpan StateTimeout = TimeSpan.FromSeconds(5);

    public static async Task<IResult> ListAsync(HttpRequest request, MirrorBoard board, CancellationToken cancellation)
    {
        var only = request.Query["mirror"].ToString();
        if (only.Length > 0 && !board.Catalog.Contains(only)) return NotFound(board, only);
        var answer = await board.StatusAsync(only.Length > 0 ? only : null, cancellation);
        return AdminApi.Json(answer, AdminJson.Default.MirrorsResponse);
    }

    public static Task<IResult> PauseAsync(string name, MirrorBoard board, CancellationToken cancellation) => CommandAsync(name, board, pause: true, cancellation);

    public static Task<IResult> ResumeAsync(string name, MirrorBoard board, CancellationToken cancellation) => CommandAsync(name, board, pause: false, cancellation);

    private static async Task<IResult> CommandAsync(string name, MirrorBoard board, bool pause, CancellationToken cancellation)
    {
        if (!board.Catalog.Contains(name)) return NotFound(board, name);
        var reply = await board.CommandAsync(name, pause, cancellation);
        return reply switch
        {
            MirrorState state => AdminApi.Json(MirrorBoard.Info(state), AdminJson.Default.MirrorStateInfo),
            MirrorCommandFailed failed => AdminApi.Fail(503, $"mirror {name}: {failed.Error}"),
            _ => AdminApi.Fail(500, $"mirror {name}: unexpected answer {reply.GetType().Name}"),
        };
    }

    private static IResult NotFound(MirrorBoard board, string name) =>
        AdminApi.Fail(404, $"no mirror '{name}' (configured in nwdp.mirrors: {(board.Catalog.Names.Count == 0 ? "none" : string.Join(", ", board.Catalog.Names))})");

    /// <summary>What the admin API, the dashboard and the metrics read about the mirrors: their entities (asked through the region) and their lag (from Kafka).</summary>
    public sealed class MirrorBoard(MirrorCatalog catalog, MirrorLag lag, ActorRegistry registry)
    {
        public MirrorCatalog Catalog => catalog;

        public MirrorLag Lag => lag;

        /// <summary>Asks the mirror's entity to pause or resume (writes the flag, stops or starts copying); the answer is <see cref="MirrorState"/> or <see cref="MirrorCommandFailed"/>.</summary>
        public Task<object> CommandAsync(string name, bool pause, CancellationToken cancellation)
        {
            var timeout = catalog.Get(name).Options.RequestTimeout * 2 + TimeSpan.FromSeconds(10); // the flag's write, then the commit under way
            return registry.Get<MirrorRegion>().Ask<object>(pause ? new PauseMirror(name) : new ResumeMirror(name), timeout, cancellation);
        }

        public async Task<MirrorsResponse> StatusAsync(string? only, CancellationToken cancellation)
        {
            var names = catalog.Names.Where(n => only is null || n == only).ToList();
            var states = names.Count == 0 ? [] : await Task.WhenAll(names.Select(n => StateAsync(n, cancellation)));
            var report = await lag.GetAsync(cancellation);
            var byMirror = report.Partitions.ToLookup(p => p.Mirror, StringComparer.Ordinal);
            var mirrors = names.Select((name, i) =>
            {
                var m = catalog.Get(name);
                var status = states[i] ?? new MirrorStateInfo(name, "unknown", report.Paused.GetValueOrDefault(name), null, 0, 0, 0, 0, null);
                var partitions = byMirror[name].Select(p => new MirrorPartitionInfo(p.Topic, p.Partition, p.TargetTopic, p.Next, p.EndOffset, p.LagRecords, Math.Round(p.LagSeconds, 3))).ToList();
                return new MirrorInfo(name, m.Source.ToString(), m.Target.ToString(), m.Options.SourceSite, m.Options.TargetSite, m.Options.TopicPattern, m.Options.TargetTopic,
                    status, partitions.Sum(p => p.LagRecords), partitions.Count == 0 ? 0 : partitions.Max(p => p.LagSeconds), partitions);
            }).ToList();
            return new MirrorsResponse(report.ComputedAtMs, lag.Interval.TotalSeconds, report.Error, mirrors);
        }

        private async Task<MirrorStateInfo?> StateAsync(string name, CancellationToken cancellation)
        {
            try
            {
                return await registry.Get<MirrorRegion>().Ask<MirrorState>(new GetMirrorState(name), StateTimeout, cancellation) is { } state ? Info(state) : null;
            }
            catch (AskTimeoutException)
            {
                return null;
            }
        }

        public static MirrorStateInfo Info(MirrorState s) => new(s.Name, s.State, s.Paused, s.Node, s.Copied, s.Skipped, s.Transactions, s.Aborts, s.LastError);
    }
}
