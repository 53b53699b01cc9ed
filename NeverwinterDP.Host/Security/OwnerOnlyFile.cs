namespace NeverwinterDP.Host.Security;

/// <summary>Files only the node's user may read (the admin token, the senders' keys file).</summary>
public static class OwnerOnlyFile
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Writes <paramref name="text"/> whole into a temp file beside <paramref name="path"/>, created mode 0600, then
    /// renames it over the file: a reader never sees half of it, and nobody else can read it at any moment.
    /// </summary>
    public static void WriteAtomically(string path, string text)
    {
        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "." + Path.GetFileName(path) + ".tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerReadWrite;
        using (var file = new StreamWriter(temp, options)) file.Write(text);
        // An older temp file kept its mode through FileMode.Create.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, OwnerReadWrite);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Takes read access from everyone but the owner when the file has more (copied, restored from a backup).</summary>
    public static void RestrictToOwner(string path)
    {
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~OwnerReadWrite) != 0)
            File.SetUnixFileMode(path, OwnerReadWrite);
    }
}
