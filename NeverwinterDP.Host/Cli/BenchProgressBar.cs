using System.Globalization;
using NeverwinterDP.Host.Bench;
using Spectre.Console;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp bench</c>'s progress on a terminal: a Spectre.Console progress bar on standard error for the load
/// (events acknowledged of <c>--events</c>, or time of <c>--duration</c>) with the live rate, and with
/// <c>--e2e</c> a second bar for the run's events found in the files. The bars stay on screen when done; the
/// summary follows on standard output.
/// </summary>
internal static class BenchProgressBar
{
    public static async Task<BenchReport> RunAsync(TextWriter stderr, BenchOptions options, Func<IProgress<BenchProgress>, Task<BenchReport>> run)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stderr),
            Interactive = InteractionSupport.Yes,
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
        });
        BenchReport? report = null;
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var bars = new Bars(context, options);
                report = await run(bars);
                bars.Finish(report);
            });
        return report!;
    }

    private sealed class Bars : IProgress<BenchProgress>
    {
        private readonly BenchOptions _options;
        private readonly ProgressTask _load;
        private readonly ProgressTask? _files;

        public Bars(ProgressContext context, BenchOptions options)
        {
            _options = options;
            _load = context.AddTask("starting", maxValue: options.Events ?? Math.Max(1, options.Duration?.TotalSeconds ?? 1));
            if (options.EndToEndDirectory is not null)
            {
                _files = context.AddTask("in files", maxValue: options.Events ?? 1);
                _files.IsIndeterminate = options.Events is null;
            }
        }

        public void Report(BenchProgress value)
        {
            var c = CultureInfo.InvariantCulture;
            if (value.Landing)
            {
                _load.Value = _load.MaxValue;
                _load.StopTask();
                if (_files is null) return;
                _files.IsIndeterminate = false;
                _files.MaxValue = Math.Max(1, value.EventsAccepted);
                _files.Value = value.InFiles ?? 0;
                _files.Description = Markup.Escape(string.Format(c, "in files {0:N0} of {1:N0} acknowledged, waiting up to {2:0} s",
                    value.InFiles ?? 0, value.EventsAccepted, Math.Max(0, (value.WaitLeft ?? TimeSpan.Zero).TotalSeconds)));
                return;
            }
            if (value.Final) return; // Finish has the report
            _load.Value = _options.Events is null ? Math.Min(_load.MaxValue, value.Elapsed.TotalSeconds) : value.EventsAccepted;
            _load.Description = Markup.Escape(string.Format(c, "accepted {0:N0}  {1:N0} ev/s  in flight {2}  retries {3:N0}  errors {4:N0}",
                value.EventsAccepted, value.EventsPerSecond, value.InFlight, value.Retries, value.Errors));
            if (_files is not null && value.InFiles is { } inFiles)
            {
                _files.Value = Math.Min(_files.MaxValue, inFiles);
                _files.Description = Markup.Escape(string.Format(c, "in files {0:N0}", inFiles));
            }
        }

        public void Finish(BenchReport report)
        {
            var c = CultureInfo.InvariantCulture;
            _load.Description = Markup.Escape(string.Format(c, "accepted {0:N0} of {1:N0}  {2:N0} ev/s  errors {3:N0}",
                report.EventsAccepted, report.EventsSent, report.EventsPerSecond, report.Errors));
            _load.MaxValue = Math.Max(1, report.EventsSent);
            _load.Value = report.EventsAccepted;
            _load.StopTask();
            if (_files is null || report.EndToEnd is not { } e) return;
            _files.IsIndeterminate = false;
            _files.MaxValue = Math.Max(1, e.Acknowledged);
            _files.Value = e.InFilesAfterWait;
            _files.Description = Markup.Escape(string.Format(c, "in files {0:N0} of {1:N0} acknowledged{2}",
                e.InFilesAfterWait, e.Acknowledged, e.ExactlyOnce ? ", exactly once" : $", {e.Missing:N0} missing, {e.Duplicates:N0} duplicates"));
            _files.StopTask();
        }
    }
}
