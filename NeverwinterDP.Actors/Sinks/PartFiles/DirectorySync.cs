using System.Runtime.InteropServices;

namespace NeverwinterDP.Actors.Sinks.PartFiles;

/// <summary>
/// fsync of a directory, which makes the renames and new entries in it durable. .NET has no API for it (it
/// refuses to open a directory as a file), so on Unix it is open(2) + fsync(2) through libc. On Windows
/// there is nothing to do: NTFS journals the rename itself.
/// </summary>
internal static partial class DirectorySync
{
    private const int EINTR = 4;
    private const int EINVAL = 22;
    private const int ENOTSUP = 95;

    /// <exception cref="IOException">The directory could not be opened or synced.</exception>
    public static void Fsync(string directory)
    {
        if (OperatingSystem.IsWindows()) return;

        int fd;
        do
        {
            fd = Open(directory, 0 /* O_RDONLY: works for directories without O_DIRECTORY, whose value differs by CPU */);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);
        if (fd < 0) throw Failure("open", directory, Marshal.GetLastPInvokeError());

        try
        {
            if (FsyncNative(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                // Some file systems cannot sync a directory; their renames are as durable as they get.
                if (errno is not (EINVAL or ENOTSUP)) throw Failure("fsync", directory, errno);
            }
        }
        finally
        {
            CloseNative(fd);
        }
    }

    private static IOException Failure(string call, string directory, int errno) =>
        new($"{call}({directory}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncNative(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);
}
