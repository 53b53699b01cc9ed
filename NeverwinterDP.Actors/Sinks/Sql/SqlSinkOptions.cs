using System.Text.RegularExpressions;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Sinks.Sql;

/// <summary>
/// Settings of a SQL sink (<c>kind = postgresql</c>, <c>mysql</c> or <c>mariadb</c>), HOCON <c>nwdp.sinks.&lt;name&gt;</c>:
/// <code>
/// nwdp.sinks.pg {
///   kind = postgresql
///   connection-string = "Host=db1;Username=nwdp;Password=...;Database=logs"   # required
///   table = nwdp_logs              # [schema.]table; letters, digits, underscores
///   create-table = on              # create the table (and its unique key) when missing
///   command-timeout = 30s          # one statement (a chunk of rows, the commit)
///   max-rows-per-statement = 1000  # rows per INSERT (a batch may need several, all in one transaction)
/// }
/// </code>
/// </summary>
public sealed partial record SqlSinkOptions
{
    public const string DefaultTable = "nwdp_logs";

    public const int DefaultMaxRowsPerStatement = 1000;

    public static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary><c>connection-string</c>: an Npgsql or MySqlConnector connection string. Required.</summary>
    public required string ConnectionString { get; init; }

    /// <summary><c>table</c>: the table written to, optionally schema-qualified (<see cref="DefaultTable"/>).</summary>
    public string Table { get; init; } = DefaultTable;

    /// <summary><c>create-table</c>: create the table when it is missing (on); off expects it made by a DBA.</summary>
    public bool CreateTable { get; init; } = true;

    /// <summary><c>command-timeout</c>: how long one statement may run before the write counts as errored (retried).</summary>
    public TimeSpan CommandTimeout { get; init; } = DefaultCommandTimeout;

    /// <summary><c>max-rows-per-statement</c>: rows per multi-row INSERT / COPY; a batch is several statements in one transaction.</summary>
    public int MaxRowsPerStatement { get; init; } = DefaultMaxRowsPerStatement;

    /// <summary>The table name split at the schema dot (identifiers are quoted by each dialect).</summary>
    public IReadOnlyList<string> TableParts => Table.Split('.');

    /// <summary>Reads and validates the options; a bad value throws a <see cref="SinkConfigException"/> naming the key.</summary>
    public static SqlSinkOptions FromSection(SinkSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var table = section.GetString("table", DefaultTable).Trim();
        if (!TableName().IsMatch(table))
        {
            throw new SinkConfigException(section.Key("table"), $"must be a table name ([schema.]name of letters, digits and underscores, at most 63 each), got '{table}'");
        }
        return new SqlSinkOptions
        {
            ConnectionString = section.RequiredString("connection-string"),
            Table = table,
            CreateTable = section.GetBool("create-table", true),
            CommandTimeout = section.GetDuration("command-timeout", DefaultCommandTimeout),
            MaxRowsPerStatement = section.GetPositiveInt("max-rows-per-statement", DefaultMaxRowsPerStatement),
        };
    }

    /// <summary>The command timeout in whole seconds, as ADO.NET wants it (at least one).</summary>
    public int CommandTimeoutSeconds => Math.Max(1, (int)Math.Ceiling(CommandTimeout.TotalSeconds));

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")]
    private static partial Regex TableName();
}
