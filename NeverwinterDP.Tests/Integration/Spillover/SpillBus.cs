using System.Text;
using Akka.Serialization;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;
using NeverwinterDP.Actors.Spillover;

namespace NeverwinterDP.Tests.Integration.Spillover;

/// <summary>What a test sees of the bus: records per topic and the replay headers on them.</summary>
internal static class SpillBus
{
    /// <summary>Records on the topic now (sum of the partitions' end offsets; the test's topics start empty).</summary>
    public static long Count(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "test-count" }).Build();
        return Enumerable.Range(0, partitions).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }

    public static Dictionary<int, long> EndOffsets(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "test-count" }).Build();
        return Enumerable.Range(0, partitions).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }

    /// <summary>The <see cref="SpillHeader"/> of every record on the topic (null for a record without one).</summary>
    public static List<string?> Headers(string bootstrap, string topic, int partitions)
    {
        var ends = EndOffsets(bootstrap, topic, partitions);
        var headers = new List<string?>();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "test-read", EnableAutoCommit = false,
        }).Build();
        consumer.Assign(ends.Where(e => e.Value > 0).Select(e => new TopicPartitionOffset(topic, e.Key, 0)));
        var left = ends.ToDictionary(e => e.Key, e => e.Value);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (left.Values.Any(v => v > 0))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"reading {topic}: {left.Values.Sum()} records not read");
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null || r.IsPartitionEOF || r.Offset.Value >= ends[r.Partition.Value]) continue;
            left[r.Partition.Value]--;
            headers.Add(r.Message.Headers is { } h && h.TryGetLastBytes(SpillHeader.Name, out var v) ? Encoding.UTF8.GetString(v) : null);
        }
        consumer.Close();
        return headers;
    }
}

/// <summary>Reads and appends spill journal rows directly (as another version of the node would have written them).</summary>
internal static class SpillJournal
{
    private static SqliteConnection Open(string dataDir) => new($"Data Source={Path.Combine(dataDir, "nwdp-state.db")};Pooling=False");

    public static async Task<List<long>> BatchSequenceNrsAsync(string dataDir, string persistenceId)
    {
        await using var db = Open(dataDir);
        await db.OpenAsync();
        var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT sequence_number FROM journal WHERE persistence_id = $p AND manifest IN ('B2', 'B3') ORDER BY sequence_number";
        cmd.Parameters.AddWithValue("$p", persistenceId);
        var seqs = new List<long>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) seqs.Add(reader.GetInt64(0));
        return seqs;
    }

    public static async Task<SpilledBatch> ReadBatchAsync(string dataDir, string persistenceId, long seq, SerializerWithStringManifest serializer)
    {
        await using var db = Open(dataDir);
        await db.OpenAsync();
        var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT message, manifest FROM journal WHERE persistence_id = $p AND sequence_number = $s";
        cmd.Parameters.AddWithValue("$p", persistenceId);
        cmd.Parameters.AddWithValue("$s", seq);
        await using var reader = await cmd.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) throw new InvalidOperationException($"no journal row {persistenceId} #{seq}");
        return (SpilledBatch)serializer.FromBinary((byte[])reader[0], reader.GetString(1));
    }

    /// <summary>Appends <paramref name="evt"/> as the next event of <paramref name="persistenceId"/>, other columns as in its last row.</summary>
    public static async Task AppendAsync(string dataDir, string persistenceId, object evt, SerializerWithStringManifest serializer)
    {
        await using var db = Open(dataDir);
        await db.OpenAsync();
        var info = db.CreateCommand();
        info.CommandText = "SELECT name FROM pragma_table_info('journal')";
        var columns = new List<string>();
        await using (var reader = await info.ExecuteReaderAsync())
            while (await reader.ReadAsync()) columns.Add(reader.GetString(0));
        var replaced = new Dictionary<string, string>
        {
            ["sequence_number"] = "sequence_number + 1",
            ["message"] = "$message",
            ["manifest"] = "$manifest",
            ["identifier"] = "$identifier",
            ["deleted"] = "0",
        };
        var copied = columns.Where(c => c != "ordering").ToList();
        var insert = db.CreateCommand();
        insert.CommandText = $"""
            INSERT INTO journal ({string.Join(", ", copied)})
            SELECT {string.Join(", ", copied.Select(c => replaced.GetValueOrDefault(c, c)))} FROM journal
            WHERE persistence_id = $p ORDER BY sequence_number DESC LIMIT 1
            """;
        insert.Parameters.AddWithValue("$p", persistenceId);
        insert.Parameters.AddWithValue("$message", serializer.ToBinary(evt));
        insert.Parameters.AddWithValue("$manifest", serializer.Manifest(evt));
        insert.Parameters.AddWithValue("$identifier", serializer.Identifier);
        if (await insert.ExecuteNonQueryAsync() != 1) throw new InvalidOperationException($"no journal row of {persistenceId} to append to");
    }
}
