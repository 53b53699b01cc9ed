using NeverwinterDP.Actors.Configuration;

namespace NeverwinterDP.Host.Configuration;

/// <summary>
/// Where the cluster keeps its state (HOCON <c>nwdp.persistence</c>): the emitter registry, the watchdog and the
/// remembered entities, through Akka.Persistence.Sql. SQLite in the data directory by default (one node);
/// PostgreSQL or MySQL/MariaDB for a cluster, whose nodes must all see the same database.
/// </summary>
/// <param name="AllowPrivateJournal"><c>nwdp.persistence.allow-private-journal</c>: a node whose journal is not the cluster's stays in
/// it with a warning instead of leaving (tests and demos only: the cluster's state splits).</param>
public sealed record PersistenceOptions(string Provider, string ConnectionString, bool AllowPrivateJournal = false)
{
    public static readonly string[] Providers = ["sqlite", "postgresql", "mysql"];

    /// <summary>Reads <c>nwdp.persistence</c>.</summary>
    public static PersistenceOptions FromConfig(ConfigReader persistence, string dataDir)
    {
        var provider = persistence.String("provider").Trim().ToLowerInvariant();
        if (provider == "mariadb") provider = "mysql";
        if (!Providers.Contains(provider))
            throw new ArgumentException($"nwdp.persistence.provider must be one of {string.Join(", ", Providers)}, got '{provider}'");
        var connection = persistence.String("connection-string");
        if (string.IsNullOrWhiteSpace(connection))
        {
            if (provider != "sqlite") throw new ArgumentException($"nwdp.persistence.connection-string is required with provider {provider}");
            connection = $"Data Source={Path.Combine(dataDir, "nwdp-state.db")};Pooling=True";
        }
        return new PersistenceOptions(provider, connection, persistence.Bool("allow-private-journal"));
    }

    /// <summary>
    /// The directory of the SQLite database file (where the journal, and so the spillover store, takes disk space);
    /// null for a database server or an in-memory SQLite.
    /// </summary>
    public string? LocalDirectory
    {
        get
        {
            if (Provider != "sqlite") return null;
            var source = ConnectionString.Split(';').Select(p => p.Split('=', 2)).FirstOrDefault(p => p.Length == 2 &&
                p[0].Trim() is var k && (k.Equals("Data Source", StringComparison.OrdinalIgnoreCase) || k.Equals("DataSource", StringComparison.OrdinalIgnoreCase)
                    || k.Equals("Filename", StringComparison.OrdinalIgnoreCase)))?[1].Trim();
            if (string.IsNullOrEmpty(source) || source.StartsWith(':') || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) return null;
            return Path.GetDirectoryName(Path.GetFullPath(source));
        }
    }

    /// <summary>The linq2db provider name Akka.Persistence.Sql wants.</summary>
    public string ProviderName => Provider switch
    {
        "postgresql" => "PostgreSQL.15",
        "mysql" => "MySqlConnector",
        _ => "SQLite.MS",
    };

    /// <summary>Journal, snapshot store and query plugin over one database; tables created at first use (MySQL/MariaDB: at start, <see cref="Persistence.MySqlJournalTables"/>).</summary>
    public string ToHocon()
    {
        var cs = Quote(ConnectionString);
        var provider = Quote(ProviderName);
        // MySQL/MariaDB: made by MySqlJournalTables before the actor system starts (Akka.Persistence.Sql's set-up fails on MariaDB).
        var autoInitialize = Provider == "mysql" ? "off" : "on";
        return $$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = {{cs}}
                  provider-name = {{provider}}
                  auto-initialize = {{autoInitialize}}
                  # Spilled batches are large blobs: bound as parameters, not spelled out as hex in the SQL text.
                  prefer-parameters-on-multirow-insert = on
                  {{(Provider == "sqlite" ? "parallelism = 1 # SQLite has one writer: more only wait on its lock (in 150 ms sleeps)" : "")}}
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = {{cs}}
                  provider-name = {{provider}}
                  auto-initialize = {{autoInitialize}}
                }
              }
              query.journal.sql {
                write-plugin = "akka.persistence.journal.sql"
                connection-string = {{cs}}
                provider-name = {{provider}}
              }
            }
            """;
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
