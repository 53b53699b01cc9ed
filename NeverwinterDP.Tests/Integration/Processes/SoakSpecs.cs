using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Integration.Processes;

/// <summary>
/// Issue 13's soak, two minutes of it: <c>scripts/soak.sh 2</c> runs a node on a separate <c>nwdp broker</c> under a
/// steady <c>nwdp bench --rate</c> load through every fault on its schedule (broker down, produce errors, PostgreSQL
/// stopped, SIGKILL and restart, the spill store's disk full, a corrupted spill tail) and exits 0 only when nothing
/// acknowledged was lost or duplicated (files, PostgreSQL, <c>nwdp audit</c>) and RSS stayed flat.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class SoakSpecs(ITestOutputHelper output)
{
    /// <summary>Two minutes of load, then landing and the audit's settle time; a cold start on a busy machine.</summary>
    private static readonly TimeSpan SoakLimit = TimeSpan.FromMinutes(8);

    private static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "scripts", "soak.sh");
            if (File.Exists(script)) return script;
        }
        throw new FileNotFoundException($"scripts/soak.sh not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public async Task Two_minutes_of_steady_load_through_every_fault_lose_nothing_duplicate_nothing_and_keep_RSS_flat()
    {
        // The work directory is kept when the soak fails (the script says where): its logs are the diagnosis.
        var dir = Path.Combine(Path.GetTempPath(), "nwdp-soak-test-" + Guid.NewGuid().ToString("N")[..12]);
        var info = new ProcessStartInfo("bash") { WorkingDirectory = Path.GetTempPath() };
        info.ArgumentList.Add(Script());
        info.ArgumentList.Add("2");
        info.Environment["NWDP_DLL"] = ChildProcess.NwdpDll;
        info.Environment["SOAK_DIR"] = dir;
        await using var soak = ChildProcess.Start("soak", info);
        int code;
        try
        {
            code = await soak.WaitForExitAsync(SoakLimit);
        }
        catch (TimeoutException)
        {
            // SIGTERM first: the script's trap stops what it started (PostgreSQL daemonizes, the tmpfs is mounted).
            soak.Signal(ChildProcess.SIGTERM);
            await soak.WaitForExitAsync(TimeSpan.FromSeconds(90));
            throw;
        }
        foreach (var line in soak.Stdout) output.WriteLine(line);
        var summary = soak.Stdout.LastOrDefault(l => l.StartsWith("soak summary: ", StringComparison.Ordinal));
        // The verdict first (bench, files, PostgreSQL, audit, RSS: the lines after the faults), then the tails.
        var verdict = string.Join("\n", soak.Stdout.SkipWhile(l => !l.StartsWith("  bench: ", StringComparison.Ordinal)));
        Assert.True(code == 0 && summary is not null, $"soak.sh exited {code}.\n{verdict}\n{soak.Describe(40, 30)}");
        Assert.Matches(@"^soak summary: ok minutes=2 sent=\d+ accepted=[1-9]\d* delivered=\d+ faults=\d/6 lost=0 duplicated=0 .* rss_flat=yes$", summary);
        Directory.Delete(dir, recursive: true);
    }
}
