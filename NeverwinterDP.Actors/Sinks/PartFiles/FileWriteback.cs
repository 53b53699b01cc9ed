using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// Starts the disk write of a range just written, without waiting for it (Linux <c>sync_file_range</c> with
/// <c>SYNC_FILE_RANGE_WRITE</c>). Without it the kernel keeps the data dirty until the publish's fsync, which
/// then writes the whole file while the sink waits; with it the disk works while the sink encodes, and the
/// fsync finds little left to do. Advisory: it promises nothing, errors are ignored, fsync stays the guarantee.
/// </summary>
internal static partial class FileWriteback
{
    private const uint SyncFileRangeWrite = 2;

    private static bool _unavailable = !OperatingSystem.IsLinux();

    public static void Start(SafeFileHandle file, long offset, long count)
    {
        if (_unavailable || count <= 0) return;
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            SyncFileRange((int)file.DangerousGetHandle(), offset, count, SyncFileRangeWrite);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true; // e.g. a libc without it: the fsync alone still makes the data durable
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);
}
