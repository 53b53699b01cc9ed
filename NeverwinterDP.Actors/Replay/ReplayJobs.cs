namespace NeverwinterDP.Actors.Replay;

/// <summary>
/// The replay jobs of this node (the admin API's <c>/v1/admin/replay</c>): one running job per request id; starting
/// a request whose job was stopped resumes it from its file; jobs of earlier runs of the node are listed from their files.
/// </summary>
public sealed class ReplayJobs(ReplayContext context) : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, ReplayJob> _jobs = new(StringComparer.Ordinal);

    public ReplayContext Context => context;

    /// <summary>
    /// Starts <paramref name="request"/> (or returns its job when it is running); throws <see cref="ReplayRequestException"/>
    /// for bad flags or an unknown sink or topic, <see cref="ReplayRangeException"/> when the range has left retention.
    /// </summary>
    public ReplayStatus Start(ReplayRequest request)
    {
        if (request.Problem() is { } problem) throw new ReplayRequestException(problem);
        if (request.Sink is { } sink)
        {
            // Built once here so an unknown sink is refused now, not in the job.
            context.CreateSink(sink).DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        var id = request.Id();
        lock (_gate)
        {
            if (_jobs.TryGetValue(id, out var running) && running.IsRunning) return running.Status;
            var job = ReplayJob.Open(context, request, () => new ReplayPlanner(context.Kafka, context.Timeout).Plan(request));
            _jobs[id] = job;
            job.Start();
            return job.Status;
        }
    }

    public ReplayStatus? Get(string id)
    {
        lock (_gate)
        {
            if (_jobs.TryGetValue(id, out var job)) return job.Status;
        }
        return ReplayJob.Saved(context, id);
    }

    public IReadOnlyList<ReplayStatus> List()
    {
        List<ReplayStatus> live;
        lock (_gate) live = _jobs.Values.Select(j => j.Status).ToList();
        var saved = ReplayJob.SavedIds(context).Where(id => live.All(s => s.Id != id)).Select(id => ReplayJob.Saved(context, id)).OfType<ReplayStatus>();
        return live.Concat(saved).OrderByDescending(s => s.StartedAtMs).ToList();
    }

    /// <summary>Stops a running job after its current batch (positions saved); null when there is no such job.</summary>
    public async Task<ReplayStatus?> StopAsync(string id)
    {
        ReplayJob? job;
        lock (_gate) _jobs.TryGetValue(id, out job);
        if (job is null) return ReplayJob.Saved(context, id);
        await job.StopAsync().ConfigureAwait(false);
        return job.Status;
    }

    public async ValueTask DisposeAsync()
    {
        List<ReplayJob> jobs;
        lock (_gate) jobs = _jobs.Values.ToList();
        await Task.WhenAll(jobs.Select(j => j.StopAsync())).ConfigureAwait(false);
    }
}
