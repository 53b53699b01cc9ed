namespace NeverwinterDP.Tests.TestKit;

/// <summary>A process's resident memory as an operator reads it (<c>/proc/PID/status</c>), for the memory specs.</summary>
public static class ProcessMemory
{
    /// <summary>Resident now (<c>VmRSS</c> of <c>/proc/PID/status</c>), in bytes.</summary>
    public static long Rss(System.Diagnostics.Process process)
    {
        process.Refresh();
        return process.WorkingSet64;
    }

    /// <summary>Peak resident since start or the last reset (<c>VmHWM</c>), in bytes.</summary>
    public static long PeakRss(System.Diagnostics.Process process)
    {
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}
