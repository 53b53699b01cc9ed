using MySqlConnector;
using NeverwinterDP.Host.Persistence;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Clustering;

/// <summary>The journal's tables on MariaDB, made by the node (Akka.Persistence.Sql's own set-up fails there).</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class MySqlJournalTablesSpecs
{
    [Fact]
    public async Task Nodes_starting_together_make_the_tables_and_indexes_once_and_the_journal_keeps_one_event_per_sequence_number()
    {
        await using var db = await MariaDbDatabase.CreateAsync();
        // Three nodes starting at once race on the same indexes: none fails, every index is there once.
        var made = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => MySqlJournalTables.EnsureAsync(db.ConnectionString, CancellationToken.None)));
        Assert.InRange(made.Sum(), MySqlJournalTables.Indexes.Length, 3 * MySqlJournalTables.Indexes.Length);
        Assert.Equal(0, await MySqlJournalTables.EnsureAsync(db.ConnectionString, CancellationToken.None));

        await using var connection = new MySqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        await using (var indexes = new MySqlCommand(
            "SELECT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' GROUP BY TABLE_NAME, INDEX_NAME", connection))
        await using (var reader = await indexes.ExecuteReaderAsync())
        {
            var found = new List<(string, string)>();
            while (await reader.ReadAsync()) found.Add((reader.GetString(0), reader.GetString(1)));
            Assert.Equal(MySqlJournalTables.Indexes.Select(i => (i.Table, i.Index)).Order(), found.Order());
        }

        // The unique key is what keeps two writers of one entity (a split cluster) from both appending sequence number 1.
        const string insert = "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (0, FALSE, 'emitter-a', 1, x'00')";
        await using (var first = new MySqlCommand(insert, connection)) await first.ExecuteNonQueryAsync();
        await using var second = new MySqlCommand(insert, connection);
        var refused = await Assert.ThrowsAsync<MySqlException>(() => second.ExecuteNonQueryAsync());
        Assert.Equal(MySqlErrorCode.DuplicateKeyEntry, refused.ErrorCode);
    }
}
