using DuckDB.NET.Data;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>DuckDB in memory: the independent reader of the Parquet files the Hive sink writes.</summary>
internal static class DuckDb
{
    public static List<object?[]> Query(string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>A SQL string literal.</summary>
    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Every Parquet file under <paramref name="root"/> with the hive partition columns (type, dt, hour) as text.</summary>
    public static string AllParquet(string root) =>
        $"read_parquet({Literal(Path.Combine(root, "**", "*.parquet"))}, hive_partitioning = true, hive_types_autocast = false)";
}
