using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka.Embedded;
using NeverwinterDP.Actors.Kafka.Settings;
using NeverwinterDP.Actors.Pump;
using NeverwinterDP.Actors.Replay;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.Sql;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Npgsql;

namespace NeverwinterDP.Tests.Replay;

/// <summary>An embedded broker, a PostgreSQL database and a replay context over both (sink <c>pg</c>).</summary>
internal sealed class ReplayKit : IAsyncDisposable
{
    public const string SinkName = "pg";

    private ReplayKit(EmbeddedKafka kafka, PostgresDatabase db, TempDir dir)
    {
        Kafka = kafka;
        Db = db;
        Dir = dir;
        DeadLetters = new KafkaDeadLetterQueue(ProducerSettings<byte[]?, byte[]>.Create(Serializers.ByteArray, Serializers.ByteArray)
            .WithBootstrapServers(kafka.BootstrapServers).CreateKafkaProducer());
        Context = new ReplayContext(new KafkaClients(kafka.BootstrapServers),
            name => name == SinkName ? WrapSink(CreateSink()) : throw new ReplayRequestException($"--sink {name}: no such sink", notFound: true),
            DeadLetters, Path.Combine(dir.Path, "replay"),
            new SinkRetryOptions { MinBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50) })
        {
            BatchSize = 10,
        };
    }

    public EmbeddedKafka Kafka { get; }
    public PostgresDatabase Db { get; }
    public TempDir Dir { get; }
    public KafkaDeadLetterQueue DeadLetters { get; }
    public ReplayContext Context { get; set; }

    /// <summary>What wraps each sink the replay builds (a gate in the resume test).</summary>
    public Func<ISink, ISink> WrapSink { get; set; } = s => s;

    public static async Task<ReplayKit> StartAsync()
    {
        var db = await PostgresDatabase.CreateAsync();
        return new ReplayKit(new EmbeddedKafka(), db, new TempDir());
    }

    public PostgreSqlSink CreateSink() => new(new SqlSinkOptions { ConnectionString = Db.ConnectionString }, SinkName);

    /// <summary>Events 0..count-1 on <paramref name="topic"/>, event i with Kafka timestamp <paramref name="baseMs"/> + i s, round-robin over partitions.</summary>
    public void Produce(string topic, int partitions, int count, long baseMs, Func<int, string>? host = null, int messageBytes = 0)
    {
        using var producer = ProducerSettings<byte[]?, byte[]>.Create(Serializers.ByteArray, Serializers.ByteArray)
            .WithBootstrapServers(Kafka.BootstrapServers).WithProperty("linger.ms", "5").WithProperty("compression.type", "none").CreateKafkaProducer();
        var random = new Random(1);
        var bytes = new byte[messageBytes];
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(bytes);
            // Random filler does not compress: the embedded broker's ~5 MB per partition fills as the test means.
            var e = new LogEvent { Message = messageBytes == 0 ? $"m-{i}" : $"m-{i}|{Convert.ToBase64String(bytes)}", Host = host?.Invoke(i) ?? "h", Type = "replay", Ts = baseMs + i * 1000L, SystemTs = baseMs + i * 1000L };
            producer.Produce(new TopicPartition(topic, i % partitions), new Message<byte[]?, byte[]>
            {
                Value = LogEventAvro.EncodeFramed(e),
                Timestamp = new Timestamp(baseMs + i * 1000L, TimestampType.CreateTime),
            });
            if (i % 500 == 499) producer.Flush(TimeSpan.FromSeconds(30));
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new InvalidOperationException("records not acknowledged");
    }

    /// <summary>The messages in the sink's table, in order.</summary>
    public async Task<List<string>> RowsAsync()
    {
        await using var connection = new NpgsqlConnection(Db.ConnectionString);
        await connection.OpenAsync();
        await using var select = new NpgsqlCommand($"SELECT message FROM {SqlSinkOptions.DefaultTable} ORDER BY message", connection);
        var rows = new List<string>();
        try
        {
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
        }
        return rows;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        DeadLetters.Dispose();
        Kafka.Dispose();
        await Db.DisposeAsync();
        Dir.Dispose();
    }
}
