using System.Globalization;
using System.Text.RegularExpressions;
using Avro.File;
using Avro.Generic;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.Hive;
using NeverwinterDP.Protocol;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Sinks.Hive;

public class HiveSinkTests : IDisposable
{
    private const string Topic = "nwdp.logs.Web";
    private const string Table = "nwdp_logs_web";

    /// <summary>2024-03-05T10:00:00Z.</summary>
    private static readonly long TenOClock = new DateTimeOffset(2024, 3, 5, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private readonly TempDir _dir = new();

    private string Root => Path.Combine(_dir.Path, "hive");

    public void Dispose() => _dir.Dispose();

    private HiveSink Sink(HiveFormat format = HiveFormat.Parquet, string? location = null, int rollRows = HiveSinkOptions.DefaultRollRows) =>
        new(new HiveSinkOptions { Directory = Root, Format = format, Location = location, RollRows = rollRows });

    private static LogEvent Event(long offset, long systemTs, string type = "web", IReadOnlyDictionary<string, string>? attributes = null) => new()
    {
        Ts = systemTs - 1234,
        SystemTs = systemTs,
        Host = "web-01",
        Ip = "10.1.2.3",
        Process = "checkout",
        Type = type,
        Version = "2.1.0",
        Level = offset % 2 == 0 ? "info" : "warn",
        Message = $"message {offset} \"quoted\" ünïcode 😀",
        Attributes = attributes ?? new Dictionary<string, string> { ["user"] = "4711", ["path"] = "/api/orders", ["n"] = offset.ToString(CultureInfo.InvariantCulture) },
        Lineage = new Lineage("node-7", 1000 + offset),
    };

    private static async Task WriteAndFlush(ISink sink, IReadOnlyList<SinkRecord> batch)
    {
        var result = await sink.WriteAsync(batch, CancellationToken.None);
        Assert.True(result.IsAllDelivered, string.Join(", ", result.Reasons?.Where(r => r is not null) ?? []));
        await sink.FlushAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Every_column_reads_back_in_DuckDB_with_its_value_and_type_and_the_hive_partitions()
    {
        var batch = new List<SinkRecord>
        {
            new(Topic, 3, 10, Event(10, TenOClock + 5)),
            new(Topic, 3, 11, Event(11, TenOClock + 3_600_000 + 7) with { Lineage = new Lineage("node-7", 1011, "billing-key") }), // the next hour, an API key's
            new(Topic, 3, 12, Event(12, TenOClock + 9, type: "api", attributes: LogEvent.NoAttributes)), // another type, no attributes
        };
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, batch);
        }

        var schema = DuckDb.Query($"DESCRIBE SELECT * FROM {DuckDb.AllParquet(Root)}").ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        Assert.Equal(new Dictionary<string, string>
        {
            ["ts"] = "TIMESTAMP WITH TIME ZONE", ["system_ts"] = "TIMESTAMP WITH TIME ZONE", ["host"] = "VARCHAR", ["ip"] = "VARCHAR",
            ["process"] = "VARCHAR", ["version"] = "VARCHAR", ["level"] = "VARCHAR", ["message"] = "VARCHAR",
            ["attributes"] = "MAP(VARCHAR, VARCHAR)", ["lineage_ingress_node"] = "VARCHAR", ["lineage_source_seq"] = "BIGINT",
            ["topic"] = "VARCHAR", ["partition"] = "INTEGER", ["offset"] = "BIGINT", ["lineage_sender"] = "VARCHAR", ["type"] = "VARCHAR", ["dt"] = "VARCHAR", ["hour"] = "VARCHAR",
        }, schema);

        var rows = DuckDb.Query(
            "SELECT epoch_ms(ts), epoch_ms(system_ts), host, ip, process, version, level, message, " +
            "to_json(attributes)::VARCHAR, cardinality(attributes), lineage_ingress_node, lineage_source_seq, topic, \"partition\", \"offset\", type, dt, hour, lineage_sender " +
            $"FROM {DuckDb.AllParquet(Root)} ORDER BY \"offset\"");
        Assert.Equal(3, rows.Count);
        for (var i = 0; i < 3; i++)
        {
            var (record, row) = (batch[i], rows[i]);
            var e = record.Event;
            var hour = DateTimeOffset.FromUnixTimeMilliseconds(e.SystemTs).UtcDateTime;
            Assert.Equal(e.Ts, (long)row[0]!);
            Assert.Equal(e.SystemTs, (long)row[1]!);
            Assert.Equal([e.Host, e.Ip, e.Process, e.Version, e.Level, e.Message], row[2..8]);
            var attributes = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>((string)row[8]!)!;
            Assert.Equal(e.Attributes.OrderBy(a => a.Key), attributes.OrderBy(a => a.Key));
            Assert.Equal((ulong)e.Attributes.Count, Convert.ToUInt64(row[9], CultureInfo.InvariantCulture));
            Assert.Equal(e.Lineage.IngressNode, row[10]);
            Assert.Equal(e.Lineage.SourceSeq, (long)row[11]!);
            Assert.Equal([Topic, 3, record.Offset], row[12..15]);
            Assert.Equal([e.Type, hour.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), hour.ToString("HH", CultureInfo.InvariantCulture)], row[15..18]);
            Assert.Equal(e.Lineage.Sender, row[18]); // null without a key
        }

        // The layout itself.
        var files = Directory.GetFiles(Root, "*.parquet", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Root, f)).Order().ToList();
        Assert.Equal(
        [
            $"{Table}/type=api/dt=2024-03-05/hour=10/part-{Topic}-p0003-o{12:D20}-o{12:D20}.parquet",
            $"{Table}/type=web/dt=2024-03-05/hour=10/part-{Topic}-p0003-o{10:D20}-o{10:D20}.parquet",
            $"{Table}/type=web/dt=2024-03-05/hour=11/part-{Topic}-p0003-o{11:D20}-o{11:D20}.parquet",
        ], files);
    }

    [Fact]
    public async Task Create_table_sql_lists_exactly_the_parquet_columns_with_matching_types()
    {
        await using (var sink = Sink(location: "hdfs://namenode:8020/warehouse/nwdp"))
        {
            await WriteAndFlush(sink, [new SinkRecord(Topic, 0, 0, Event(0, TenOClock))]);
        }

        var sql = await File.ReadAllTextAsync(Path.Combine(Root, Table, "_ddl", "create_table.sql"));
        Assert.StartsWith($"CREATE EXTERNAL TABLE IF NOT EXISTS `{Table}` (", sql);
        Assert.Contains("PARTITIONED BY (`type` STRING, `dt` STRING, `hour` STRING)\nSTORED AS PARQUET\n", sql);
        Assert.Contains($"LOCATION 'hdfs://namenode:8020/warehouse/nwdp/{Table}';", sql);
        var columns = ColumnsOf(sql);

        // The file's own schema, as DuckDB reads it (no hive partitioning): same names, same order, matching types.
        var file = Directory.GetFiles(Root, "*.parquet", SearchOption.AllDirectories).Single();
        var fileColumns = DuckDb.Query($"DESCRIBE SELECT * FROM read_parquet({DuckDb.Literal(file)}, hive_partitioning = false)")
            .Select(r => ((string)r[0]!, (string)r[1]!)).ToList();
        Assert.Equal(fileColumns.Select(c => c.Item1), columns.Select(c => c.Name));
        var hiveTypeOf = new Dictionary<string, string>
        {
            ["TIMESTAMP WITH TIME ZONE"] = "TIMESTAMP", ["VARCHAR"] = "STRING", ["BIGINT"] = "BIGINT", ["INTEGER"] = "INT",
            ["MAP(VARCHAR, VARCHAR)"] = "MAP<STRING,STRING>",
        };
        Assert.Equal(fileColumns.Select(c => hiveTypeOf[c.Item2]), columns.Select(c => c.Type));
        // No data column repeats a partition column (Hive refuses that).
        Assert.DoesNotContain(columns, c => c.Name is "type" or "dt" or "hour");
    }

    [Fact]
    public async Task Partitions_sql_names_every_partition_once_across_restarts_and_DuckDB_reads_each_location()
    {
        var first = Enumerable.Range(0, 20).Select(i => new SinkRecord(Topic, i % 2, i, Event(i, TenOClock + i * 600_000L, type: i % 3 == 0 ? "api" : "web"))).ToList();
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, first);
        }
        // A restart that replays some and goes on into the same and new partitions.
        var second = Enumerable.Range(10, 20).Select(i => new SinkRecord(Topic, i % 2, i, Event(i, TenOClock + i * 600_000L, type: i % 3 == 0 ? "api" : "web"))).ToList();
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, second);
        }

        var lines = await File.ReadAllLinesAsync(Path.Combine(Root, Table, "_ddl", "partitions.sql"));
        var partitions = lines.Select(ParsePartitionLine).ToList();
        Assert.Equal(partitions.Count, partitions.Distinct().Count());
        var directories = Directory.GetDirectories(Path.Combine(Root, Table), "hour=*", SearchOption.AllDirectories)
            .Select(d => Path.GetRelativePath(Path.Combine(Root, Table), d)).Order().ToList();
        Assert.Equal(directories, partitions.Select(p => $"type={p.Type}/dt={p.Dt}/hour={p.Hour}").Order().ToList());

        var total = 0L;
        foreach (var p in partitions)
        {
            Assert.StartsWith("file://", p.Location);
            var location = p.Location["file://".Length..];
            var rows = DuckDb.Query($"SELECT count(*), count(DISTINCT type), min(type), min(dt), min(hour) FROM read_parquet({DuckDb.Literal(location + "/*.parquet")}, hive_partitioning = true, hive_types_autocast = false)");
            Assert.Equal([1L, p.Type, p.Dt, p.Hour], [Convert.ToInt64(rows[0][1], CultureInfo.InvariantCulture), rows[0][2], rows[0][3], rows[0][4]]);
            total += Convert.ToInt64(rows[0][0], CultureInfo.InvariantCulture);
        }
        Assert.Equal(30, total);
    }

    [Fact]
    public async Task A_partition_published_before_a_crash_cut_its_line_short_is_registered_again()
    {
        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [new SinkRecord(Topic, 0, 0, Event(0, TenOClock)), new SinkRecord(Topic, 0, 1, Event(1, TenOClock + 3_600_000))]);
        }
        var path = Path.Combine(Root, Table, "_ddl", "partitions.sql");
        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal(2, lines.Length);
        // The crash: the second line half written.
        await File.WriteAllTextAsync(path, lines[0] + "\n" + lines[1][..20]);

        await using (var sink = Sink())
        {
            await WriteAndFlush(sink, [new SinkRecord(Topic, 0, 1, Event(1, TenOClock + 3_600_000)), new SinkRecord(Topic, 0, 2, Event(2, TenOClock + 3_600_001))]);
        }

        Assert.Equal(lines, await File.ReadAllLinesAsync(path));
        Assert.Equal(3L, DuckDb.Query($"SELECT count(*) FROM {DuckDb.AllParquet(Root)}")[0][0]);
    }

    [Fact]
    public async Task A_partitions_sql_that_cannot_be_written_fails_the_flush_and_the_next_flush_writes_the_lines()
    {
        await using var sink = Sink();
        await WriteAndFlush(sink, [new SinkRecord(Topic, 0, 0, Event(0, TenOClock))]);
        var ddl = Path.Combine(Root, Table, "_ddl");
        var result = await sink.WriteAsync([new SinkRecord(Topic, 0, 1, Event(1, TenOClock + 3_600_000))], CancellationToken.None);
        Assert.True(result.IsAllDelivered);

        var fault = new Compliance.DirectoriesReplacedByFiles();
        await fault.Fault(Root, ddl);
        try
        {
            await Assert.ThrowsAnyAsync<IOException>(() => sink.FlushAsync(CancellationToken.None));
        }
        finally
        {
            await fault.Repair();
        }
        Assert.Single(await File.ReadAllLinesAsync(Path.Combine(ddl, "partitions.sql")));

        await sink.FlushAsync(CancellationToken.None);
        var lines = await File.ReadAllLinesAsync(Path.Combine(ddl, "partitions.sql"));
        Assert.Equal(2, lines.Length);
        Assert.Contains("hour='11'", lines[1]);
    }

    [Fact]
    public async Task Roll_rows_publishes_a_file_every_that_many_rows_and_names_carry_the_offsets()
    {
        await using (var sink = Sink(rollRows: 4))
        {
            await WriteAndFlush(sink, Enumerable.Range(0, 10).Select(i => new SinkRecord(Topic, 0, i, Event(i, TenOClock + i))).ToList());
        }
        var names = Directory.GetFiles(Root, "*.parquet", SearchOption.AllDirectories).Select(Path.GetFileName).Order().ToList();
        Assert.Equal([$"part-{Topic}-p0000-o{0:D20}-o{3:D20}.parquet", $"part-{Topic}-p0000-o{4:D20}-o{7:D20}.parquet", $"part-{Topic}-p0000-o{8:D20}-o{9:D20}.parquet"], names);
    }

    [Fact]
    public async Task Rejects_what_parquet_or_a_partition_directory_cannot_hold()
    {
        await using var sink = Sink();
        var result = await sink.WriteAsync(
        [
            new SinkRecord(Topic, 0, 0, Event(0, TenOClock)),
            new SinkRecord(Topic, 0, 1, Event(1, TenOClock) with { Ts = long.MinValue }),
            new SinkRecord(Topic, 0, 2, Event(2, TenOClock, type: "../escape")),
            new SinkRecord(Topic, 0, 3, Event(3, TenOClock, attributes: new Dictionary<string, string> { ["k"] = "\uDC00" })),
            new SinkRecord(Topic, 0, 4, Event(4, TenOClock)),
        ], CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal([SinkOutcome.Delivered, SinkOutcome.Rejected, SinkOutcome.Rejected, SinkOutcome.Rejected, SinkOutcome.Delivered], result.Outcomes);
        Assert.Contains("ts", result.Reasons![1]);
        Assert.Contains("partition directory", result.Reasons[2]);
        Assert.Contains("surrogate", result.Reasons[3]);
        Assert.Equal([0L, 4L], DuckDb.Query($"SELECT \"offset\" FROM {DuckDb.AllParquet(Root)} ORDER BY 1").Select(r => (long)r[0]!));
    }

    [Fact]
    public async Task Avro_files_read_back_with_Apache_Avro_and_their_DDL_uses_a_reader_schema_without_type()
    {
        var batch = Enumerable.Range(0, 5).Select(i => new SinkRecord(Topic, 1, i, Event(i, TenOClock + i))).ToList();
        await using (var sink = Sink(HiveFormat.Avro))
        {
            await WriteAndFlush(sink, batch);
        }

        var file = Assert.Single(Directory.GetFiles(Root, "*.avro", SearchOption.AllDirectories));
        Assert.Equal(Path.Combine(Root, Table, "type=web", "dt=2024-03-05", "hour=10", $"part-{Topic}-p0001-o{0:D20}-o{4:D20}.avro"), file);
        using (var reader = DataFileReader<GenericRecord>.OpenReader(file))
        {
            var records = reader.NextEntries.ToList();
            Assert.Equal(5, records.Count);
            for (var i = 0; i < 5; i++)
            {
                var e = batch[i].Event;
                var r = records[i];
                Assert.Equal([e.Ts, e.SystemTs, e.Host, e.Message, e.Type], [r["ts"], r["system_ts"], r["host"], r["message"], r["type"]]);
                Assert.Equal(e.Lineage.SourceSeq, ((GenericRecord)r["lineage"])["source_seq"]);
            }
        }

        var sql = await File.ReadAllTextAsync(Path.Combine(Root, Table, "_ddl", "create_table.sql"));
        Assert.Contains("STORED AS AVRO", sql);
        var literal = Regex.Match(sql, @"'avro\.schema\.literal'='(.*)'\)").Groups[1].Value.Replace("\\'", "'", StringComparison.Ordinal);
        var readerSchema = (Avro.RecordSchema)Avro.Schema.Parse(literal);
        Assert.Equal(readerSchema.Fields.Select(f => f.Name), ColumnsOf(sql).Select(c => c.Name));
        Assert.DoesNotContain(readerSchema.Fields, f => f.Name == "type");
        // The files read with that reader schema: Avro schema resolution drops the writer's type field.
        using var resolved = DataFileReader<GenericRecord>.OpenReader(file, readerSchema);
        Assert.Equal(batch.Select(b => b.Event.Message), resolved.NextEntries.Select(r => (string)r["message"]));
    }

    [Fact]
    public async Task With_register_on_complete_an_hours_partitions_wait_for_its_completion_then_every_writers_types_register()
    {
        HiveSink Holding() => new(new HiveSinkOptions { Directory = Root, RegisterOnComplete = true });
        var eleven = TenOClock + 3_600_000;
        var partitions = Path.Combine(Root, Table, "_ddl", "partitions.sql");
        string[] Lines() => File.Exists(partitions) ? File.ReadAllLines(partitions) : [];
        HourCompletion Completion(long hourMs, string state, string? reason = null, int version = 1) =>
            new("hive", Topic, hourMs, version, state, reason, [3, 1], ["node-7"], 4, 0, eleven + 3_600_000);

        // Two writers of the sink, each with partitions of its own in hour 10; one also in hour 11.
        await using var first = Holding();
        await using var second = Holding();
        await WriteAndFlush(first, [new SinkRecord(Topic, 0, 0, Event(0, TenOClock + 1, type: "web")), new SinkRecord(Topic, 0, 1, Event(1, eleven + 1, type: "web"))]);
        await WriteAndFlush(second, [new SinkRecord(Topic, 1, 0, Event(0, TenOClock + 2, type: "api"))]);
        Assert.Empty(Lines());
        Assert.True(File.Exists(Path.Combine(Root, Table, "_ddl", "create_table.sql")));

        // A restart's recovery finds the directories and still holds them.
        await using (var restarted = Holding())
        {
            await WriteAndFlush(restarted, [new SinkRecord(Topic, 0, 1, Event(1, eleven + 1, type: "web"))]);
        }
        Assert.Empty(Lines());

        // Hour 10 completes; the first writer is told, and registers the second writer's partition too. Hour 11 waits.
        await first.HourCompletedAsync(Completion(TenOClock, HourCompletion.Complete), CancellationToken.None);
        Assert.Equal(["api/10", "web/10"], Lines().Select(ParsePartitionLine).Select(p => $"{p.Type}/{p.Hour}").ToList());

        // A late event of a new type in the completed hour registers at its flush; a second version adds nothing twice.
        await WriteAndFlush(first, [new SinkRecord(Topic, 0, 2, Event(2, TenOClock + 3, type: "late"))]);
        await first.HourCompletedAsync(Completion(TenOClock, HourCompletion.Complete, version: 2), CancellationToken.None);
        Assert.Equal(["api/10", "web/10", "late/10"], Lines().Select(ParsePartitionLine).Select(p => $"{p.Type}/{p.Hour}").ToList());

        // Hour 11 closes incomplete after the grace: registered under a comment that says why.
        await first.HourCompletedAsync(Completion(eleven, HourCompletion.IncompleteClosed, "node-9 wrote no marker in partitions 1"), CancellationToken.None);
        var lines = Lines();
        Assert.Equal("-- 2024-03-05T11:00Z incomplete-closed (completion v1): node-9 wrote no marker in partitions 1", lines[^2]);
        Assert.Equal(("web", "11"), (ParsePartitionLine(lines[^1]).Type, ParsePartitionLine(lines[^1]).Hour));

        // Read back after a restart: the comment is no partition, nothing is registered twice.
        await using (var again = Holding())
        {
            await WriteAndFlush(again, [new SinkRecord(Topic, 0, 3, Event(3, eleven + 2, type: "web"))]);
            await again.HourCompletedAsync(Completion(eleven, HourCompletion.IncompleteClosed, "node-9 wrote no marker in partitions 1", version: 2), CancellationToken.None);
        }
        Assert.Equal(lines, Lines());
    }

    [Fact]
    public async Task By_default_completions_change_nothing_and_partitions_register_at_their_flush()
    {
        await using var sink = Sink();
        await WriteAndFlush(sink, [new SinkRecord(Topic, 0, 0, Event(0, TenOClock))]);
        var partitions = Path.Combine(Root, Table, "_ddl", "partitions.sql");
        var before = await File.ReadAllLinesAsync(partitions);
        Assert.Single(before);
        await sink.HourCompletedAsync(new HourCompletion("hive", Topic, TenOClock, 1, HourCompletion.IncompleteClosed, "why", [1], ["n"], 1, 0, 0), CancellationToken.None);
        Assert.Equal(before, await File.ReadAllLinesAsync(partitions));
    }

    [Fact]
    public void Options_read_from_hocon_with_defaults_and_named_errors()
    {
        var defaults = HiveSinkOptions.FromSection(SinkSection.Parse("lake", "kind = hive", dataDir: "/data"));
        Assert.Equal(Path.Combine("/data", "sinks", "lake"), defaults.Directory);
        Assert.Equal((HiveFormat.Parquet, Parquet.CompressionMethod.Snappy, "", HiveSinkOptions.DefaultRollSize, HiveSinkOptions.DefaultRollRows, true, (string?)null),
            (defaults.Format, defaults.ParquetCompression, defaults.TablePrefix, defaults.RollSize, defaults.RollRows, defaults.Fsync, defaults.Location));

        var set = HiveSinkOptions.FromSection(SinkSection.Parse("lake",
            "directory = /x, format = avro, compression = null, table-prefix = raw_, roll-size = 1MiB, roll-rows = 10, fsync = off, location = \"s3a://bucket/logs\""));
        Assert.Equal(("/x", HiveFormat.Avro, Actors.Sinks.PartFiles.AvroCodec.Null, "raw_", 1024L * 1024, 10, false, "s3a://bucket/logs"),
            (set.Directory, set.Format, set.AvroCodec, set.TablePrefix, set.RollSize, set.RollRows, set.Fsync, set.Location));
        Assert.Equal(Parquet.CompressionMethod.Zstd, HiveSinkOptions.FromSection(SinkSection.Parse("lake", "compression = zstd")).ParquetCompression);

        Assert.Equal("nwdp.sinks.lake.format", Assert.Throws<SinkConfigException>(() => HiveSinkOptions.FromSection(SinkSection.Parse("lake", "format = orc"))).Key);
        Assert.Equal("nwdp.sinks.lake.compression", Assert.Throws<SinkConfigException>(() => HiveSinkOptions.FromSection(SinkSection.Parse("lake", "compression = lzo"))).Key);
        Assert.Equal("nwdp.sinks.lake.compression", Assert.Throws<SinkConfigException>(() => HiveSinkOptions.FromSection(SinkSection.Parse("lake", "format = avro, compression = snappy"))).Key);
        Assert.Equal("nwdp.sinks.lake.table-prefix", Assert.Throws<SinkConfigException>(() => HiveSinkOptions.FromSection(SinkSection.Parse("lake", "table-prefix = \"Raw-\""))).Key);
        Assert.Equal("nwdp.sinks.lake.roll-rows", Assert.Throws<SinkConfigException>(() => HiveSinkOptions.FromSection(SinkSection.Parse("lake", "roll-rows = 0"))).Key);
        Assert.Equal("nwdp.sinks.lake.location", Assert.Throws<SinkConfigException>(() => HiveSinkOptions.FromSection(SinkSection.Parse("lake", "location = \"not a uri\""))).Key);
        Assert.False(defaults.RegisterOnComplete);
        Assert.True(HiveSinkOptions.FromSection(SinkSection.Parse("lake", "register-on = complete")).RegisterOnComplete);
        Assert.Equal("nwdp.sinks.lake.register-on", Assert.Throws<SinkConfigException>(() => HiveSinkOptions.FromSection(SinkSection.Parse("lake", "register-on = closed"))).Key);
    }

    private static List<(string Name, string Type)> ColumnsOf(string createTable)
    {
        var body = createTable[(createTable.IndexOf("(\n", StringComparison.Ordinal) + 2)..createTable.IndexOf("\n)\n", StringComparison.Ordinal)];
        return body.Split(",\n").Select(l => Regex.Match(l, @"^\s*`([^`]+)` (.+)$")).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
    }

    private static (string Type, string Dt, string Hour, string Location) ParsePartitionLine(string line)
    {
        var m = Regex.Match(line, @"^ALTER TABLE `" + Table + @"` ADD IF NOT EXISTS PARTITION \(type='([^']+)', dt='([^']+)', hour='([^']+)'\) LOCATION '([^']+)';$");
        Assert.True(m.Success, line);
        return (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value);
    }
}
