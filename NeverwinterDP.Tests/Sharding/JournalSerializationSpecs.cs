using NeverwinterDP.Tests.Host;
using Xunit;

namespace NeverwinterDP.Tests.Sharding;

/// <summary>
/// Journals written by earlier code recover: every persistent entity kind comes back with its state from a
/// committed SQLite journal (run on a copy). What is stored is a serializer id and a manifest, not a CLR type name,
/// so these keep passing when types move to other namespaces.
/// </summary>
public sealed class JournalSerializationSpecs
{
    /// <summary>Written by the code before stable manifests (commit a2372f5): registry events and snapshots in Akka's default JSON, with CLR type names.</summary>
    public const string BeforeManifests = "journal-before-manifests.db";

    private static string Copy(TempDir dir, string fixture)
    {
        var path = Path.Combine(dir.Path, fixture);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture), path);
        return path;
    }

    [Fact]
    public async Task A_journal_written_before_stable_manifests_recovers_every_entity()
    {
        using var dir = new TempDir();
        await JournalFixture.AssertRecoversAsync(Copy(dir, BeforeManifests));
    }

    [Fact]
    public async Task A_journal_written_now_recovers_every_entity()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "journal.db");
        await JournalFixture.WriteAsync(path);
        await JournalFixture.AssertRecoversAsync(path);
    }

    /// <summary>Writes a fixture: <c>NWDP_WRITE_JOURNAL_FIXTURE=/abs/path.db dotnet test --filter Writes_a_journal_fixture</c>.</summary>
    [Fact]
    public async Task Writes_a_journal_fixture_when_asked()
    {
        if (Environment.GetEnvironmentVariable("NWDP_WRITE_JOURNAL_FIXTURE") is not { Length: > 0 } path) return;
        File.Delete(path);
        await JournalFixture.WriteAsync(path);
    }
}
