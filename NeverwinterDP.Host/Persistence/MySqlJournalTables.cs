using MySqlConnector;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Persistence;

/// <summary>
/// Creates the journal's tables on MySQL or MariaDB before the actor system starts (<c>nwdp.persistence.provider =
/// mysql</c>, or <c>mariadb</c>). Akka.Persistence.Sql's own set-up for MySQL looks its indexes up in
/// <c>information_schema.INNODB_INDEXES</c>, which only MySQL 8 has: on MariaDB the journal never initializes. So for
/// this provider its <c>auto-initialize</c> is off (<see cref="PersistenceOptions.ToHocon"/>) and these are the same
/// tables, columns and indexes (its "default" table mapping), made with checks both servers know
/// (<c>information_schema.STATISTICS</c>). Idempotent; nodes starting together may race, and an index another node
/// made meanwhile is not an error.
/// </summary>
public sealed class MySqlJournalTables(NodeConfig config, ILogger<MySqlJournalTables> log) : IHostedService
{
    /// <summary>How long a start waits for the database server before it gives up (the node cannot run without its journal).</summary>
    public static readonly TimeSpan ServerWait = TimeSpan.FromSeconds(30);

    private const int DuplicateKeyName = 1061;

    public static readonly string[] Tables =
    [
        """
        CREATE TABLE IF NOT EXISTS `journal` (
          `ordering`        BIGINT       AUTO_INCREMENT NOT NULL,
          `created`         BIGINT       NOT NULL,
          `deleted`         BOOLEAN      NOT NULL,
          `persistence_id`  VARCHAR(255) NOT NULL,
          `sequence_number` BIGINT       NOT NULL,
          `message`         LONGBLOB     NOT NULL,
          `manifest`        VARCHAR(500) NULL,
          `identifier`      INT          NULL,
          `writer_uuid`     VARCHAR(128) NULL,
          CONSTRAINT `PK_journal` PRIMARY KEY CLUSTERED (`ordering`)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS `tags` (
          `ordering_id`    BIGINT       NOT NULL,
          `tag`            VARCHAR(64)  NOT NULL,
          `persistence_id` VARCHAR(255) NOT NULL,
          `sequence_nr`    BIGINT       NOT NULL,
          CONSTRAINT `PK_tags` PRIMARY KEY CLUSTERED (`ordering_id`, `tag`)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS `snapshot` (
          `persistence_id`  VARCHAR(255) NOT NULL,
          `sequence_number` BIGINT       NOT NULL,
          `created`         BIGINT       NOT NULL,
          `snapshot`        LONGBLOB     NULL,
          `manifest`        VARCHAR(500) NULL,
          `serializer_id`   INT          NULL,
          CONSTRAINT `PK_snapshot` PRIMARY KEY CLUSTERED (`persistence_id`, `sequence_number`)
        )
        """,
    ];

    // (table, index, DDL): the unique key is named as Akka.Persistence.Sql's MySQL set-up checks for it.
    public static readonly (string Table, string Index, string Ddl)[] Indexes =
    [
        ("journal", "persistence_id", "ALTER TABLE `journal` ADD CONSTRAINT `persistence_id` UNIQUE (`persistence_id`, `sequence_number`)"),
        ("journal", "journal_created_idx", "CREATE INDEX `journal_created_idx` ON `journal` (`created`)"),
        ("journal", "journal_sequence_number_idx", "CREATE INDEX `journal_sequence_number_idx` ON `journal` (`sequence_number`)"),
        ("tags", "tags_persistence_id_sequence_nr_idx", "CREATE INDEX `tags_persistence_id_sequence_nr_idx` ON `tags` (`persistence_id`, `sequence_nr`)"),
        ("tags", "tags_tag_idx", "CREATE INDEX `tags_tag_idx` ON `tags` (`tag`)"),
        ("snapshot", "snapshot_sequence_number_idx", "CREATE INDEX `snapshot_sequence_number_idx` ON `snapshot` (`sequence_number`)"),
        ("snapshot", "snapshot_created_idx", "CREATE INDEX `snapshot_created_idx` ON `snapshot` (`created`)"),
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (config.Persistence.Provider != "mysql") return;
        var where = JournalIdentityReader.Location(config.Persistence);
        var deadline = DateTime.UtcNow + ServerWait;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var made = await EnsureAsync(config.Persistence.ConnectionString, cancellationToken).ConfigureAwait(false);
                log.LogInformation("journal tables on {Where}: ready ({Made} indexes made now)", where, made);
                return;
            }
            catch (MySqlException e) when (DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("journal tables on {Where} not made yet (attempt {Attempt}: {Reason}); trying again for up to {Wait:0} s",
                    where, attempt, e.Message, ServerWait.TotalSeconds);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            }
            catch (MySqlException e)
            {
                throw new InvalidOperationException($"the journal's tables on {where} cannot be made: {e.Message} (nwdp.persistence.connection-string)", e);
            }
        }
    }

    /// <summary>Makes the tables that are missing and their indexes; answers how many indexes it made.</summary>
    public static async Task<int> EnsureAsync(string connectionString, CancellationToken cancellation)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellation).ConfigureAwait(false);
        var made = 0;
        foreach (var ddl in Tables) await ExecuteAsync(connection, ddl, cancellation).ConfigureAwait(false);
        foreach (var (table, index, ddl) in Indexes)
        {
            if (await HasIndexAsync(connection, table, index, cancellation).ConfigureAwait(false)) continue;
            try
            {
                await ExecuteAsync(connection, ddl, cancellation).ConfigureAwait(false);
                made++;
            }
            catch (MySqlException e) when (e.Number == DuplicateKeyName)
            {
                // Another node made it between the check and here.
            }
        }
        return made;
    }

    private static async Task<bool> HasIndexAsync(MySqlConnection connection, string table, string index, CancellationToken cancellation)
    {
        await using var command = new MySqlCommand(
            "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @table AND INDEX_NAME = @index", connection);
        command.Parameters.AddWithValue("@table", table);
        command.Parameters.AddWithValue("@index", index);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellation).ConfigureAwait(false)) > 0;
    }

    private static async Task<int> ExecuteAsync(MySqlConnection connection, string sql, CancellationToken cancellation)
    {
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
