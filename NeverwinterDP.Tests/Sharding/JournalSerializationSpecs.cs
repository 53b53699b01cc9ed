using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Sharding;
using NeverwinterDP.Actors.Spillover;
using Xunit;
using NeverwinterDP.Tests.TestKit;

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

    /// <summary>Written with <see cref="NodeMessageSerializer"/>: every row a serializer id and a manifest.</summary>
    public const string WithManifests = "journal-manifests.db";

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
    public async Task A_journal_written_with_stable_manifests_recovers_every_entity()
    {
        using var dir = new TempDir();
        var path = Copy(dir, WithManifests);
        await JournalFixture.AssertRecoversAsync(path);

        // Nothing in it names a CLR type: the registry rows are the node serializer's, the spill rows the spill serializer's.
        SqliteConnection.ClearAllPools();
        await using var db = new SqliteConnection($"Data Source={path};Pooling=False");
        await db.OpenAsync();
        await using var rows = db.CreateCommand();
        rows.CommandText = "SELECT identifier, manifest FROM journal UNION ALL SELECT serializer_id, manifest FROM snapshot";
        await using var reader = await rows.ExecuteReaderAsync();
        var seen = new List<(long, string)>();
        while (await reader.ReadAsync()) seen.Add((reader.GetInt64(0), reader.GetString(1)));
        Assert.All(seen, r => Assert.Contains(r.Item1, new long[] { NodeMessageSerializer.SerializerId, SpillSerializer.SerializerId }));
        Assert.Contains((NodeMessageSerializer.SerializerId, "E2"), seen);
    }

    /// <summary>
    /// Rows of Akka's default JSON name their CLR type; once the type moved, <see cref="LegacyTypeNames"/> finds it
    /// by its simple name. Simulated by rewriting the names in the rows to a namespace that does not exist.
    /// </summary>
    [Fact]
    public async Task A_journal_written_before_stable_manifests_recovers_after_its_types_moved()
    {
        using var dir = new TempDir();
        var path = Copy(dir, BeforeManifests);
        await using (var db = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await db.OpenAsync();
            await using var rewrite = db.CreateCommand();
            rewrite.CommandText = """
                UPDATE journal SET message = CAST(replace(CAST(message AS TEXT), 'NeverwinterDP.Actors.Registry.', 'NeverwinterDP.Actors.Elsewhere.') AS BLOB) WHERE identifier = 1;
                UPDATE snapshot SET snapshot = CAST(replace(CAST(snapshot AS TEXT), 'NeverwinterDP.Actors.Registry.', 'NeverwinterDP.Actors.Elsewhere.') AS BLOB) WHERE serializer_id = 1;
                SELECT count(*) FROM journal WHERE identifier = 1 AND CAST(message AS TEXT) LIKE '%Actors.Elsewhere.%';
                """;
            Assert.True(Convert.ToInt64(await rewrite.ExecuteScalarAsync()) >= 6);
        }
        SqliteConnection.ClearAllPools();
        await JournalFixture.AssertRecoversAsync(path);
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
