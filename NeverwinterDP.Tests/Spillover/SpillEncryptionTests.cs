using System.IO.Hashing;
using System.Text;
using Akka.Actor;
using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Spillover;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Protocol.AtRest;
using NeverwinterDP.Tests.Sharding;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Spillover;

/// <summary>
/// Encryption at rest of the node's spillover store: a spillover entity on a SQLite journal, its rows sealed with
/// the system's <see cref="SpillKeysSetup"/>, restarted with other keys.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)] // NodeConfig.Load reads the environment
public sealed class SpillEncryptionTests : IDisposable
{
    private const string Topic = "nwdp.logs.secret";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90); // a bound on a hang, not a speed check

    private readonly TempDir _dir = new();
    private readonly ManualClock _clock = new(JournalFixture.At);
    private readonly SpillKey _a = SpillKey.Parse(SpillKey.NewText(), "test a");
    private readonly SpillKey _b = SpillKey.Parse(SpillKey.NewText(), "test b");

    public void Dispose() => _dir.Dispose();

    private string Db => Path.Combine(_dir.Path, "state.db");

    private string QuarantineDir => Path.Combine(_dir.Path, "quarantine", "spill");

    private static SpilledRecord Record(string marker, int i) =>
        new(Encoding.UTF8.GetBytes($"key-{marker}-{i}"), Encoding.UTF8.GetBytes($"{{\"msg\":\"{marker} event {i}\"}}"));

    /// <summary>Starts the entity with <paramref name="keys"/>, spills <paramref name="spill"/> batches, and returns its status once it did.</summary>
    private async Task<SpillStatus> RunAsync(SpillKeyRing keys, int spill = 0, string marker = "MARKER")
    {
        var system = JournalFixture.StartSystem(Db, "spill-" + Guid.NewGuid().ToString("N")[..8], keys);
        try
        {
            var entity = system.ActorOf(SpilloverEntity.PropsFor(Topic, JournalFixture.SpillContextFor(_clock, QuarantineDir)));
            for (var b = 0; b < spill; b++)
                Assert.IsType<SpillAccepted>(await entity.Ask<object>(new SpillBatch(Topic, [Record(marker, 2 * b), Record(marker, 2 * b + 1)]), Timeout));
            return await entity.Ask<SpillStatus>(new GetSpillStatus(Topic), Timeout);
        }
        finally
        {
            await system.Terminate();
            SqliteConnection.ClearAllPools();
        }
    }

    /// <summary>Every file under the test's directory (the journal, its side files, the quarantine) that holds <paramref name="marker"/>.</summary>
    private List<string> FilesHolding(string marker)
    {
        var bytes = Encoding.UTF8.GetBytes(marker);
        return Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories).Where(f => File.ReadAllBytes(f).AsSpan().IndexOf(bytes) >= 0).ToList();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_plaintext_of_spilled_events_is_in_no_file_of_the_store_when_encryption_is_on(bool encrypted)
    {
        var marker = "PLAINTEXT-MARKER-" + Guid.NewGuid().ToString("N");
        var status = await RunAsync(encrypted ? new SpillKeyRing(_a, [], seals: true) : SpillKeyRing.None, spill: 3, marker: marker);
        Assert.Equal((3, 6L), (status.Batches, status.Events));
        var holding = FilesHolding(marker);
        if (encrypted) Assert.True(holding.Count == 0, "the plaintext is in " + string.Join(", ", holding));
        else Assert.NotEmpty(holding); // the check can fail: in the clear, the journal holds it
        Assert.Equal(3, (await RunAsync(encrypted ? new SpillKeyRing(_a, [], seals: false) : SpillKeyRing.None)).Batches);
    }

    [Fact]
    public async Task Batches_in_the_clear_and_under_an_older_key_are_read_after_the_key_rotates_and_after_encryption_is_turned_off()
    {
        await RunAsync(SpillKeyRing.None, spill: 1);                               // before encryption: in the clear
        await RunAsync(new SpillKeyRing(_a, [], seals: true), spill: 1);           // key A
        var rotated = await RunAsync(new SpillKeyRing(_b, [_a], seals: true), spill: 1); // key B current, A kept to read
        Assert.Equal((3, 6L), (rotated.Batches, rotated.Events));
        // Every batch decoded whole: its bytes are its records' bytes.
        Assert.Equal(3 * (Record("MARKER", 0).Value.Length + Record("MARKER", 0).Key!.Length + Record("MARKER", 1).Value.Length + Record("MARKER", 1).Key!.Length),
            rotated.Bytes);
        // Off, with the keys still configured: new batches in the clear, the sealed ones still read.
        var off = await RunAsync(new SpillKeyRing(_b, [_a], seals: false), spill: 1);
        Assert.Equal((4, 0L), (off.Batches, off.QuarantinedBatches));
    }

    [Fact]
    public async Task Batches_whose_key_is_missing_stay_in_the_journal_untouched_and_are_read_once_it_is_back()
    {
        await RunAsync(new SpillKeyRing(_a, [], seals: true), spill: 2);
        var rows = RowsAsText();
        Assert.Equal(2, rows.Count);
        var withoutA = await RunAsync(new SpillKeyRing(_b, [], seals: true));
        Assert.Equal((0, 0L, "key missing"), (withoutA.Batches, withoutA.QuarantinedBatches, withoutA.State));
        Assert.False(Directory.Exists(QuarantineDir) && Directory.EnumerateFiles(QuarantineDir).Any());
        Assert.Equal(rows, RowsAsText());
        Assert.Equal("key missing", (await RunAsync(SpillKeyRing.None)).State); // encryption off and no key at all: the same
        var back = await RunAsync(new SpillKeyRing(_b, [_a], seals: true));
        Assert.Equal((2, 4L, 0L), (back.Batches, back.Events, back.QuarantinedBatches));
    }

    [Fact]
    public async Task A_batch_that_fails_authentication_under_its_own_key_is_quarantined_and_the_others_are_kept()
    {
        var keys = new SpillKeyRing(_a, [], seals: true);
        await RunAsync(keys, spill: 2);
        // Tampered with, its checksum made to match: only the authentication tag tells.
        var (ordering, message) = Rows().First();
        message[^3] ^= 0x20;
        BitConverter.TryWriteBytes(message.AsSpan(0, 4), Crc32.HashToUInt32(message.AsSpan(4)));
        await using (var db = new SqliteConnection($"Data Source={Db};Pooling=False"))
        {
            await db.OpenAsync();
            await using var update = db.CreateCommand();
            update.CommandText = "UPDATE journal SET message = $m WHERE ordering = $o";
            update.Parameters.AddWithValue("$m", message);
            update.Parameters.AddWithValue("$o", ordering);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }
        var status = await RunAsync(keys);
        Assert.Equal((1, 2L, 1L), (status.Batches, status.Events, status.QuarantinedBatches));
        var kept = Assert.Single(Directory.GetFiles(QuarantineDir));
        Assert.Equal(message, File.ReadAllBytes(kept));
    }

    [Fact]
    public void A_node_whose_spill_key_file_is_missing_does_not_start_and_says_which_file()
    {
        var missing = Path.Combine(_dir.Path, "keys", "spill.key");
        var config = NodeConfig.Load(null, new Dictionary<string, string>
        {
            ["nwdp.node.data-dir"] = Path.Combine(_dir.Path, "data"),
            ["nwdp.spill.encryption.enabled"] = "on",
            ["nwdp.spill.encryption.key-file"] = missing,
        });
        var e = Assert.Throws<SpillKeyException>(() => NodeHost.Build(config));
        Assert.Contains(missing, e.Message);
    }

    /// <summary>The spilled batches' journal rows (ordering, message), oldest first.</summary>
    private List<(long Ordering, byte[] Message)> Rows() => ReadRows();

    private List<(long, string)> RowsAsText() => ReadRows().Select(r => (r.Ordering, Convert.ToHexString(r.Message))).ToList();

    private List<(long Ordering, byte[] Message)> ReadRows()
    {
        using var db = new SqliteConnection($"Data Source={Db};Pooling=False");
        db.Open();
        using var query = db.CreateCommand();
        query.CommandText = "SELECT ordering, message FROM journal WHERE manifest IN ('E', 'B2', 'B3') ORDER BY ordering";
        using var reader = query.ExecuteReader();
        var rows = new List<(long, byte[])>();
        while (reader.Read()) rows.Add((reader.GetInt64(0), (byte[])reader[1]));
        SqliteConnection.ClearAllPools();
        return rows;
    }
}
