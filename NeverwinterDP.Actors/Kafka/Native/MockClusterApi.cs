using System.Runtime.InteropServices;

namespace NeverwinterDP.Actors.Kafka.Native;

/// <summary>
/// The parts of librdkafka's C API (rdkafka.h, rdkafka_mock.h) that the embedded broker needs. The mock
/// cluster speaks the real Kafka protocol on 127.0.0.1; it is owned by an rd_kafka_t handle of its own.
/// </summary>
internal static class MockClusterApi
{
    private const string Lib = "librdkafka";

    [DllImport(Lib)] internal static extern IntPtr rd_kafka_conf_new();
    [DllImport(Lib)] internal static extern void rd_kafka_conf_destroy(IntPtr conf);

    [DllImport(Lib)]
    internal static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    /// <summary>0 = RD_KAFKA_CONF_OK; <paramref name="size"/> in: the buffer's size, out: the value's size with its NUL.</summary>
    [DllImport(Lib)]
    internal static extern int rd_kafka_conf_get(IntPtr conf, string name, byte[]? dest, ref UIntPtr size);

    /// <summary>type 0 = producer.</summary>
    [DllImport(Lib)] internal static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);
    [DllImport(Lib)] internal static extern void rd_kafka_destroy(IntPtr rk);

    [DllImport(Lib)] internal static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);
    [DllImport(Lib)] internal static extern void rd_kafka_mock_cluster_destroy(IntPtr mcluster);
    [DllImport(Lib)] internal static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [DllImport(Lib)] internal static extern int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitions, int replicationFactor);
    [DllImport(Lib)] internal static extern int rd_kafka_mock_partition_set_leader(IntPtr mcluster, string topic, int partition, int brokerId);
    [DllImport(Lib)] internal static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);
    [DllImport(Lib)] internal static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
    [DllImport(Lib)] internal static extern int rd_kafka_mock_broker_set_rtt(IntPtr mcluster, int brokerId, int rttMs);
    [DllImport(Lib)] internal static extern int rd_kafka_mock_set_controller_id(IntPtr mcluster, int brokerId);
    [DllImport(Lib)] internal static extern int rd_kafka_mock_coordinator_set(IntPtr mcluster, string keyType, string key, int brokerId);
    [DllImport(Lib)] internal static extern void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr mcluster, int delayMs);
    [DllImport(Lib)] internal static extern void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, UIntPtr count, int[] errors);
    [DllImport(Lib)] internal static extern void rd_kafka_mock_clear_request_errors(IntPtr mcluster, short apiKey);

    [DllImport(Lib)] internal static extern IntPtr rd_kafka_err2name(int err);
}
