using System.CommandLine;
using System.Globalization;
using NeverwinterDP.Actors.Replay;
using NeverwinterDP.Host.Admin;
using Spectre.Console;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// <c>nwdp replay</c>: replays a range of a log topic into a sink (or onto another topic). The node runs the job
/// (<c>POST /v1/admin/replay</c>); this verb starts it and polls it, with a progress bar on a terminal. Ctrl-C stops the
/// job after its current batch (positions saved in the node's data directory); the same command resumes it.
/// </summary>
public static class ReplayVerbs
{
    private static readonly Option<string?> Type = Flags.Text("--type", "log type to replay (topic nwdp.logs.TYPE)", "TYPE");
    private static readonly Option<string?> Topic = Flags.Text("--topic", "topic to replay (instead of --type)", "TOPIC");
    private static readonly Option<long?> Partition = Flags.Long("--partition", "only this partition (needed with --from-offset/--to-offset)", "N", min: 0);
    private static readonly Option<long?> From = Flags.Time("--from", "first time replayed (records' Kafka timestamps, inclusive): 2026-12-05T14:00:00Z, epoch s/ms, or 2h (ago)");
    private static readonly Option<long?> To = Flags.Time("--to", "end of the range (exclusive); default: the end of the topic now");
    private static readonly Option<long?> FromOffset = Flags.Long("--from-offset", "first offset replayed (inclusive, with --partition)", "N", min: 0);
    private static readonly Option<long?> ToOffset = Flags.Long("--to-offset", "end offset (exclusive, with --partition)", "N", min: 0);
    private static readonly Option<string?> Sink = Flags.Text("--sink", "sink instance to replay into (nwdp.sinks.NAME); its writes are idempotent", "NAME");
    private static readonly Option<string?> ToTopic = Flags.Text("--to-topic", "republish the records onto this topic instead of a sink", "TOPIC");
    private static readonly Option<bool> Detach = Flags.Switch("--detach", "start the job and return (watch it with GET /v1/admin/replay/ID)");
    private static readonly Option<bool> Quiet = Flags.Switch("--quiet", "no progress bar, only the summary");

    /// <summary>How often the verb asks the node for the job's progress.</summary>
    public static TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    public static Command Replay { get; } = AdminVerb.Create("replay",
        "Replay a time or offset range of a log type into a sink (idempotent: what the sink holds is not doubled) or onto another topic.",
        RunAsync, [Type, Topic, Partition, From, To, FromOffset, ToOffset, Sink, ToTopic, Detach, Quiet]);

    private static async Task<int> RunAsync(AdminCall call)
    {
        var a = call.Args;
        var request = new ReplayRequest
        {
            Type = a.GetValue(Type), Topic = a.GetValue(Topic), Partition = (int?)a.GetValue(Partition),
            From = a.GetValue(From), To = a.GetValue(To), FromOffset = a.GetValue(FromOffset), ToOffset = a.GetValue(ToOffset),
            Sink = a.GetValue(Sink), ToTopic = a.GetValue(ToTopic),
        };
        if (request.Problem() is { } problem) throw new CliUsageException(problem);
        var started = await call.Client.PostJsonAsync("/v1/admin/replay", request, AdminJson.Default.ReplayRequest, AdminJson.Default.ReplayStatus, call.Cancellation,
            TimeSpan.FromMinutes(2));
        var id = started.Value.Id;
        if (a.GetValue(Detach))
        {
            if (call.Json) return await AdminVerb.PrintJsonAsync(call, started.Json);
            await call.Out.WriteLineAsync($"replay {id} {(started.Value.ResumedAt > 0 ? "resumed" : "started")} on {call.Client.Node}: {started.Value.Total} records; watch it with GET /v1/admin/replay/{id}");
            return 0;
        }
        if (started.Value.ResumedAt > 0 && !call.Json)
            await call.Error.WriteLineAsync($"nwdp replay: resuming {id} at {started.Value.ResumedAt} of {started.Value.Total} records");

        var terminal = !call.Json && !a.GetValue(Quiet) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb";
        AdminReply<ReplayStatus> last;
        try
        {
            last = terminal ? await WithProgressBarAsync(call, id, started.Value) : await PollAsync(call, id, _ => { });
        }
        catch (OperationCanceledException) when (call.Cancellation.IsCancellationRequested)
        {
            // Ctrl-C: the job stops after its batch in hand; its positions are saved and the same command resumes it.
            last = await call.Client.DeleteAsync($"/v1/admin/replay/{id}", AdminJson.Default.ReplayStatus, CancellationToken.None);
        }
        if (call.Json) await AdminVerb.PrintJsonAsync(call, last.Json);
        else await call.Out.WriteLineAsync(Summary(last.Value));
        return last.Value.State switch { "done" => 0, "stopped" => 130, _ => 1 };
    }

    private static async Task<AdminReply<ReplayStatus>> PollAsync(AdminCall call, string id, Action<ReplayStatus> report)
    {
        while (true)
        {
            var reply = await call.Client.GetAsync($"/v1/admin/replay/{id}", AdminJson.Default.ReplayStatus, call.Cancellation);
            report(reply.Value);
            if (reply.Value.State != "running") return reply;
            await Task.Delay(PollInterval, call.Cancellation);
        }
    }

    private static async Task<AdminReply<ReplayStatus>> WithProgressBarAsync(AdminCall call, string id, ReplayStatus first)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(call.Error),
            Interactive = InteractionSupport.Yes,
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
        });
        AdminReply<ReplayStatus>? last = null;
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var bar = context.AddTask(Describe(first), maxValue: Math.Max(1, first.Total));
                last = await PollAsync(call, id, s =>
                {
                    bar.MaxValue = Math.Max(1, s.Total);
                    bar.Value = s.Done;
                    bar.Description = Describe(s);
                });
                if (last.Value.State == "done") bar.Value = bar.MaxValue;
            });
        return last!;
    }

    private static string Describe(ReplayStatus s)
    {
        var c = CultureInfo.InvariantCulture;
        var eta = s.EtaSeconds is { } e ? TimeSpan.FromSeconds(Math.Ceiling(e)).ToString(@"hh\:mm\:ss", c) : "--:--:--";
        return Markup.Escape(string.Create(c, $"{s.Done:N0}/{s.Total:N0} events  {s.EventsPerSec:N0}/s  ETA {eta}"));
    }

    /// <summary>
    /// The command that resumes <paramref name="r"/>: its times absolute (a job's id is derived from its request, and
    /// <c>--from 2h</c> means another time a minute later), the topic by name (the same id as <c>--type</c>).
    /// </summary>
    public static string ResumeCommand(ReplayRequest r)
    {
        var c = CultureInfo.InvariantCulture;
        var parts = new List<string> { "nwdp replay", "--topic " + r.SourceTopic };
        if (r.Partition is { } p) parts.Add("--partition " + p.ToString(c));
        if (r.From is { } from) parts.Add("--from " + ReplayPlanner.Time(from));
        if (r.To is { } to) parts.Add("--to " + ReplayPlanner.Time(to));
        if (r.FromOffset is { } fo) parts.Add("--from-offset " + fo.ToString(c));
        if (r.ToOffset is { } too) parts.Add("--to-offset " + too.ToString(c));
        parts.Add(r.Sink is not null ? "--sink " + r.Sink : "--to-topic " + r.ToTopic);
        return string.Join(" ", parts);
    }

    /// <summary>The line printed at the end: what was replayed where, and how it ended.</summary>
    public static string Summary(ReplayStatus s)
    {
        var r = s.Request;
        var c = CultureInfo.InvariantCulture;
        var into = r.Sink is not null ? $"sink {r.Sink}" : $"topic {r.ToTopic}";
        var what = r.Sink is not null ? $"{s.Delivered} delivered (already stored records are written again as no-ops), {s.DeadLettered} dead-lettered"
            : $"{s.Republished} republished";
        var head = string.Create(c, $"replay {s.Id}: {r.SourceTopic} -> {into}: {s.Done} of {s.Total} records read; {what}");
        return s.State switch
        {
            "done" => head + "; done",
            "stopped" => head + $"; STOPPED: to resume, run {ResumeCommand(r)}",
            _ => head + $"; FAILED: {s.Error}",
        };
    }
}
