using System.Runtime.InteropServices;
using System.Text;
using NeverwinterDP.Actors.Kafka.Native;

namespace NeverwinterDP.Actors.Kafka.Embedded;

/// <summary>
/// Options of the in-process broker (HOCON <c>nwdp.embedded-kafka</c>, defaults in Bus/reference.conf). The node
/// reads <see cref="Brokers"/> and <see cref="DefaultPartitions"/> from the configuration; the property defaults
/// are for tests and <c>nwdp broker</c>, and a test checks that they equal reference.conf's.
/// </summary>
public sealed record EmbeddedKafkaOptions
{
    /// <summary>Number of brokers on 127.0.0.1 (<c>brokers</c>).</summary>
    public int Brokers { get; init; } = 1;

    /// <summary>Partitions of topics created on first use or by <see cref="EmbeddedKafka.CreateTopic"/> (<c>default-partitions</c>).</summary>
    public int DefaultPartitions { get; init; } = 8;

    /// <summary>How long the group coordinator waits for more members before the first assignment (<c>group-initial-rebalance-delay</c>).</summary>
    public TimeSpan GroupInitialRebalanceDelay { get; init; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>
/// A Kafka-protocol broker inside this process: librdkafka's mock cluster, reached through its C API.
/// It speaks the real protocol over TCP on 127.0.0.1, so any Kafka client (another process too) can use it.
/// It is in memory, keeps only about 5 MB per partition (older records are dropped — consumers detect and
/// report such gaps), and exists for trying NeverwinterDP out and for tests. Fault injection: brokers down
/// and up, round-trip delay, request errors.
/// </summary>
public sealed class EmbeddedKafka : IDisposable
{
    private readonly object _gate = new();
    private IntPtr _rk;
    private IntPtr _cluster;

    public EmbeddedKafka(EmbeddedKafkaOptions? options = null)
    {
        Options = options ?? new EmbeddedKafkaOptions();
        if (Options.Brokers < 1) throw new ArgumentOutOfRangeException(nameof(options), "brokers must be at least 1");
        Librdkafka.EnsureLoaded();

        var errstr = new byte[512];
        var conf = MockClusterApi.rd_kafka_conf_new();
        // The owning handle never talks to anyone; keep it quiet.
        MockClusterApi.rd_kafka_conf_set(conf, "log_level", "3", errstr, (UIntPtr)errstr.Length);
        _rk = MockClusterApi.rd_kafka_new(0, conf, errstr, (UIntPtr)errstr.Length);
        if (_rk == IntPtr.Zero)
        {
            MockClusterApi.rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException("rd_kafka_new failed: " + CString(errstr));
        }

        _cluster = MockClusterApi.rd_kafka_mock_cluster_new(_rk, Options.Brokers);
        if (_cluster == IntPtr.Zero)
        {
            MockClusterApi.rd_kafka_destroy(_rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        BootstrapServers = Marshal.PtrToStringAnsi(MockClusterApi.rd_kafka_mock_cluster_bootstraps(_cluster))!;
        // Without a controller, admin requests wait for one for a minute.
        Check(MockClusterApi.rd_kafka_mock_set_controller_id(_cluster, 1), "set controller");
        MockClusterApi.rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, (int)Options.GroupInitialRebalanceDelay.TotalMilliseconds);
    }

    public EmbeddedKafkaOptions Options { get; }

    /// <summary>Comma-separated <c>127.0.0.1:port</c> list for <c>bootstrap.servers</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>Broker ids are 1..N.</summary>
    public IReadOnlyList<int> BrokerIds => Enumerable.Range(1, Options.Brokers).ToArray();

    /// <summary>Creates a topic (the mock has no CreateTopics admin API). Creating an existing topic is an error.</summary>
    public void CreateTopic(string topic, int? partitions = null, int? replicationFactor = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        var rf = replicationFactor ?? Math.Min(3, Options.Brokers);
        lock (_gate) Check(MockClusterApi.rd_kafka_mock_topic_create(Cluster, topic, partitions ?? Options.DefaultPartitions, rf), $"create topic '{topic}'");
    }

    /// <summary>Moves the leadership of one partition to a broker.</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        lock (_gate) Check(MockClusterApi.rd_kafka_mock_partition_set_leader(Cluster, topic, partition, brokerId), "set leader");
    }

    /// <summary>Takes a broker down: its connections are closed and new ones refused until <see cref="BrokerUp"/>.</summary>
    public void BrokerDown(int brokerId)
    {
        lock (_gate) Check(MockClusterApi.rd_kafka_mock_broker_set_down(Cluster, brokerId), $"broker {brokerId} down");
    }

    public void BrokerUp(int brokerId)
    {
        lock (_gate) Check(MockClusterApi.rd_kafka_mock_broker_set_up(Cluster, brokerId), $"broker {brokerId} up");
    }

    /// <summary>Delays every response of a broker by <paramref name="rtt"/>.</summary>
    public void SetBrokerRtt(int brokerId, TimeSpan rtt)
    {
        lock (_gate) Check(MockClusterApi.rd_kafka_mock_broker_set_rtt(Cluster, brokerId, (int)rtt.TotalMilliseconds), $"broker {brokerId} rtt");
    }

    /// <summary>The next <paramref name="count"/> requests of Kafka API <paramref name="apiKey"/> (0 = Produce, 1 = Fetch, ...) fail with <paramref name="errorCode"/>.</summary>
    public void PushRequestErrors(short apiKey, int count, int errorCode)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        var errors = Enumerable.Repeat(errorCode, count).ToArray();
        lock (_gate) MockClusterApi.rd_kafka_mock_push_request_errors_array(Cluster, apiKey, (UIntPtr)errors.Length, errors);
    }

    public void ClearRequestErrors(short apiKey)
    {
        lock (_gate) MockClusterApi.rd_kafka_mock_clear_request_errors(Cluster, apiKey);
    }

    /// <summary>The name librdkafka gives an error code, e.g. <c>NOT_LEADER_FOR_PARTITION</c>.</summary>
    public static string ErrorName(int code)
    {
        Librdkafka.EnsureLoaded();
        return Marshal.PtrToStringAnsi(MockClusterApi.rd_kafka_err2name(code)) ?? code.ToString();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster != IntPtr.Zero) MockClusterApi.rd_kafka_mock_cluster_destroy(_cluster);
            if (_rk != IntPtr.Zero) MockClusterApi.rd_kafka_destroy(_rk);
            _cluster = IntPtr.Zero;
            _rk = IntPtr.Zero;
        }
    }

    private IntPtr Cluster => _cluster != IntPtr.Zero ? _cluster : throw new ObjectDisposedException(nameof(EmbeddedKafka));

    private static void Check(int err, string what)
    {
        if (err != 0) throw new InvalidOperationException($"embedded kafka: {what} failed: {ErrorName(err)}");
    }

    private static string CString(byte[] buffer)
    {
        var len = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, len < 0 ? buffer.Length : len);
    }
}
