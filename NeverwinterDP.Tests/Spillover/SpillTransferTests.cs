using Akka.Actor;
using System.Text;
using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Host.Persistence;
using NeverwinterDP.Host.SpillTransfer;
using NeverwinterDP.Protocol.AtRest;
using NeverwinterDP.Tests.Sharding;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Spillover;

/// <summary>
/// <c>nwdp spill export</c> / <c>import</c> on SQLite spill stores written by spillover entities: the source sealed,
/// each batch imported once however often the import runs, a damaged or cut-short file refused before anything is
/// added, sealed batches moved as they are (the importing node needs their key).
/// </summary>
public sealed class SpillTransferTests : IDisposable
{
    private const string Topic = "nwdp.logs.move";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90); // a bound on a hang, not a speed check

    private readonly TempDir _dir = new();
    private readonly ManualClock _clock = new(JournalFixture.At);
    private readonly List<string> _progress = new();

    public void Dispose() => _dir.Dispose();

    private string Source => Directory.CreateDirectory(Path.Combine(_dir.Path, "source")).FullName;

    private string Target => Path.Combine(_dir.Path, "target");

    private string SourceDb => Path.Combine(Source, SpillStoreFile.StateFile);

    private string TargetDb => Path.Combine(Target, SpillStoreFile.OwnFile);

    private string ExportFile => Path.Combine(_dir.Path, "move.nwdpspill");

    private static SpilledRecord Record(int batch, int i) => new(Encoding.UTF8.GetBytes($"k{batch}-{i}"), Encoding.UTF8.GetBytes($"{{\"msg\":\"batch {batch} event {i}\"}}"));

    /// <summary>Spills <paramref name="batches"/> batches of two records as the node's spillover entity of <see cref="Topic"/> would.</summary>
    private async Task SpillAsync(int batches, SpillKeyRing? keys = null, int first = 0)
    {
        var system = JournalFixture.StartSystem(SourceDb, "spill-writer", keys);
        try
        {
            var entity = system.ActorOf(SpilloverEntity.PropsFor(Topic, JournalFixture.SpillContextFor(_clock, Path.Combine(Source, "q"))));
            for (var b = first; b < first + batches; b++)
                Assert.IsType<SpillAccepted>(await entity.Ask<object>(new SpillBatch(Topic, [Record(b, 0), Record(b, 1)]), Timeout));
        }
        finally
        {
            await system.Terminate();
            SqliteConnection.ClearAllPools();
        }
    }

    /// <summary>What the entity of <paramref name="persistenceId"/> recovers from the store at <paramref name="db"/>.</summary>
    private async Task<SpillStatus> StatusAsync(string db, string persistenceId, SpillKeyRing? keys = null)
    {
        var system = JournalFixture.StartSystem(db, "spill-reader", keys);
        try
        {
            var entity = system.ActorOf(SpilloverEntity.PropsForId(persistenceId, JournalFixture.SpillContextFor(_clock, Path.Combine(_dir.Path, "q"))));
            return await entity.Ask<SpillStatus>(new GetSpillStatus(SpilloverEntity.NameOf(persistenceId)), Timeout);
        }
        finally
        {
            await system.Terminate();
            SqliteConnection.ClearAllPools();
        }
    }

    private static string StoreIdOf(string db)
    {
        using var connection = SpillStoreFile.Connect(db, readOnly: true);
        return SpillStoreFile.ReadId(connection)!;
    }

    private static IReadOnlyList<string> PersistenceIdsOf(string db)
    {
        if (!File.Exists(db)) return [];
        using var connection = SpillStoreFile.Connect(db, readOnly: true);
        return SpillStoreFile.PersistenceIds(connection);
    }

    [Fact]
    public async Task An_export_seals_the_source_and_an_import_run_twice_adds_each_batch_once()
    {
        await SpillAsync(3);
        var exported = SpillTransfer.Export(Source, ExportFile, _progress.Add);
        var sourceId = StoreIdOf(SourceDb);
        var moved = $"{SpilloverEntity.TypeName}|{Topic}@{sourceId}";
        Assert.Equal((3L, 6L), (exported.Manifest.Batches, exported.Manifest.Events));
        Assert.Equal([moved], exported.Manifest.Ranges.Keys);
        Assert.False(File.Exists(ExportFile + ".partial"));
        Assert.Contains(_progress, p => p.Contains("sealed", StringComparison.Ordinal));

        // The source, restarted, replays nothing of what it exported; what it spills after gets new sequence numbers.
        Assert.Equal(0, (await StatusAsync(SourceDb, $"{SpilloverEntity.TypeName}|{Topic}")).Batches);
        await SpillAsync(1, first: 3);
        Assert.Equal(1, (await StatusAsync(SourceDb, $"{SpilloverEntity.TypeName}|{Topic}")).Batches);

        var first = SpillTransfer.Import(Target, ExportFile, _progress.Add);
        Assert.Equal((3L, false), (first.ImportedBatches, first.AlreadyImported));
        var again = SpillTransfer.Import(Target, ExportFile, _progress.Add);
        Assert.Equal((0L, exported.Manifest.Rows, true), (again.ImportedRows, again.SkippedRows, again.AlreadyImported));

        Assert.Equal([moved], PersistenceIdsOf(TargetDb));
        var status = await StatusAsync(TargetDb, moved);
        Assert.Equal((3, 6L, Topic + "@" + sourceId), (status.Batches, status.Events, status.Topic));

        // A second export of the source holds only the batch spilled after the first; imported, it joins the three.
        var later = Path.Combine(_dir.Path, "later.nwdpspill");
        Assert.Equal(1L, SpillTransfer.Export(Source, later, _progress.Add).Manifest.Batches);
        Assert.Equal(1L, SpillTransfer.Import(Target, later, _progress.Add).ImportedBatches);
        Assert.Equal(4, (await StatusAsync(TargetDb, moved)).Batches);
        Assert.True(SpillTransfer.Import(Target, ExportFile, _progress.Add).AlreadyImported);
        Assert.Equal(4, (await StatusAsync(TargetDb, moved)).Batches);
    }

    [Fact]
    public async Task A_damaged_or_cut_short_export_is_refused_naming_the_flag_and_imports_nothing()
    {
        await SpillAsync(5);
        SpillTransfer.Export(Source, ExportFile, _progress.Add);
        var bytes = await File.ReadAllBytesAsync(ExportFile);

        var flipped = Path.Combine(_dir.Path, "flipped");
        var altered = bytes.ToArray();
        altered[altered.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(flipped, altered);
        var e = Assert.Throws<SpillTransferException>(() => SpillTransfer.Import(Target, flipped, _progress.Add));
        Assert.Contains("'--in'", e.Message);
        Assert.Contains("checksum", e.Message);
        Assert.Equal(2, e.ExitCode);

        var cut = Path.Combine(_dir.Path, "cut");
        await File.WriteAllBytesAsync(cut, bytes[..(bytes.Length - 50)]);
        e = Assert.Throws<SpillTransferException>(() => SpillTransfer.Import(Target, cut, _progress.Add));
        Assert.Contains("'--in'", e.Message);
        Assert.Contains("incomplete", e.Message);

        var other = Path.Combine(_dir.Path, "other");
        await File.WriteAllTextAsync(other, new string('x', 200));
        e = Assert.Throws<SpillTransferException>(() => SpillTransfer.Import(Target, other, _progress.Add));
        Assert.Contains("'--in'", e.Message);

        Assert.Empty(PersistenceIdsOf(TargetDb));
        // The file is never overwritten, and the source has nothing left to export.
        Assert.Contains("'--out'", Assert.Throws<SpillTransferException>(() => SpillTransfer.Export(Source, ExportFile, _progress.Add)).Message);
        Assert.Equal(0L, SpillTransfer.Export(Source, Path.Combine(_dir.Path, "empty"), _progress.Add).Manifest.Rows);
    }

    [Fact]
    public async Task Export_and_import_refuse_while_a_node_holds_the_data_directory()
    {
        await SpillAsync(1);
        using (SpillStoreLock.TakeOrThrow(Source, "test"))
        {
            var e = Assert.Throws<SpillTransferException>(() => SpillTransfer.Export(Source, ExportFile, _progress.Add));
            Assert.Contains("flag '--data': a node is running", e.Message);
            Assert.Equal(1, e.ExitCode);
        }
        Assert.False(File.Exists(ExportFile));
        Assert.Equal(1L, SpillTransfer.Export(Source, ExportFile, _progress.Add).Manifest.Batches);
    }

    [Fact]
    public async Task Sealed_batches_move_sealed_and_the_importing_node_needs_their_key()
    {
        var key = SpillKey.Parse(SpillKey.NewText(), "test key");
        var ring = new SpillKeyRing(key, [], seals: true);
        await SpillAsync(2, ring);
        var exported = SpillTransfer.Export(Source, ExportFile, _progress.Add);
        Assert.Equal([key.IdText], exported.Manifest.KeyIds);
        SpillTransfer.Import(Target, ExportFile, _progress.Add);
        Assert.Contains(_progress, p => p.Contains(key.IdText, StringComparison.Ordinal));

        var moved = $"{SpilloverEntity.TypeName}|{Topic}@{StoreIdOf(SourceDb)}";
        Assert.Equal((0, "key missing"), ((await StatusAsync(TargetDb, moved)) is var locked ? (locked.Batches, locked.State) : default));
        Assert.Equal((2, 4L), ((await StatusAsync(TargetDb, moved, new SpillKeyRing(null, [key], seals: false))) is var open ? (open.Batches, open.Events) : default));
    }

    [Fact]
    public async Task A_store_of_its_own_writes_and_reads_through_its_own_journal_and_query_plugins()
    {
        // As a node on a shared journal opens <data>/nwdp-spill.db: the node's journal elsewhere, the spill store beside it.
        var own = Path.Combine(Source, SpillStoreFile.OwnFile);
        var context = JournalFixture.SpillContextFor(_clock, Path.Combine(Source, "q")) with
        {
            StoreId = "s1", JournalPluginId = SpillStoreFile.JournalPlugin, ReadJournalPluginId = SpillStoreFile.QueryPlugin,
        };
        for (var round = 0; round < 2; round++)
        {
            var system = Akka.Actor.ActorSystem.Create("own-store", Akka.Actor.BootstrapSetup.Create()
                .WithConfig(JournalFixture.StartSystemConfig(Path.Combine(_dir.Path, "elsewhere.db")).WithFallback(SpillStoreFile.Plugins(own))).And(new SpillKeysSetup(SpillKeyRing.None)));
            try
            {
                var entity = system.ActorOf(SpilloverEntity.PropsFor(Topic, context));
                if (round == 0)
                    for (var b = 0; b < 2; b++)
                        Assert.IsType<SpillAccepted>(await entity.Ask<object>(new SpillBatch(Topic, [Record(b, 0), Record(b, 1)]), Timeout));
                Assert.Equal(2, (await entity.Ask<SpillStatus>(new GetSpillStatus(Topic), Timeout)).Batches);
                var read = Akka.Persistence.Query.PersistenceQuery.Get(system)
                    .ReadJournalFor<Akka.Persistence.Sql.Query.SqlReadJournal>(SpillStoreFile.QueryPlugin)
                    .CurrentEventsByPersistenceId($"{SpilloverEntity.TypeName}|{Topic}", 0, long.MaxValue)
                    .RunWith(Akka.Streams.Dsl.Sink.Seq<Akka.Persistence.Query.EventEnvelope>(), Akka.Streams.ActorMaterializer.Create(system));
                Assert.Equal(2, (await read.WaitAsync(Timeout)).Count(e => e.Event is SpilledBatch));
            }
            finally
            {
                await system.Terminate();
                SqliteConnection.ClearAllPools();
            }
        }
        Assert.Equal([$"{SpilloverEntity.TypeName}|{Topic}"], PersistenceIdsOf(own));
        Assert.Empty(PersistenceIdsOf(Path.Combine(_dir.Path, "elsewhere.db")));
    }

    [Fact]
    public async Task The_verbs_name_a_missing_flag_and_print_what_they_did()
    {
        var missing = await Nwdp.RunAsync("spill", "import", "--data", Target);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--in", missing.Stderr);

        await SpillAsync(2);
        var export = await Nwdp.RunAsync("spill", "export", "--data", Source, "--out", ExportFile, "--json");
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("\"batches\":2", export.Stdout);
        var import = await Nwdp.RunAsync("spill", "import", "--data", Target, "--in", ExportFile);
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.StartsWith("imported 2 batches", import.Stdout);
        var twice = await Nwdp.RunAsync("spill", "import", "--data", Target, "--in", ExportFile);
        Assert.StartsWith("already imported", twice.Stdout);

        await File.WriteAllTextAsync(ExportFile + ".bad", "not an export at all, but long enough to be read as one if nobody checked");
        var bad = await Nwdp.RunAsync("spill", "import", "--data", Target, "--in", ExportFile + ".bad");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("flag '--in'", bad.Stderr);
    }
}
