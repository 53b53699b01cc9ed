using NeverwinterDP.Protocol.AtRest;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Cli;

public sealed class SpillKeyVerbsTests
{
    [Fact]
    public async Task Spill_key_new_writes_a_key_only_its_owner_may_read_and_never_overwrites_one()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "spill.key");
        var made = await Nwdp.RunAsync("spill-key", "new", "--out", file);
        Assert.True(made.ExitCode == 0, made.ToString());
        var key = SpillKey.FromFile(file);
        Assert.Contains(key.IdText, made.Stdout);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

        var again = await Nwdp.RunAsync("spill-key", "new", "--out", file);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("never overwritten", again.Stderr);
        Assert.Equal(key.Id, SpillKey.FromFile(file).Id);

        var id = await Nwdp.RunAsync("spill-key", "id", file, "--json");
        Assert.True(id.ExitCode == 0, id.ToString());
        Assert.Contains($"\"key_id\":\"{key.IdText}\"", id.Stdout);
        var notKey = await Nwdp.RunAsync("spill-key", "id", Path.Combine(dir.Path, "none"));
        Assert.Equal(1, notKey.ExitCode);
    }
}
