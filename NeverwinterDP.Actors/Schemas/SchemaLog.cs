using Confluent.Kafka;
using NeverwinterDP.Actors.Kafka;
using NeverwinterDP.Actors.Kafka.Native;
using NeverwinterDP.Actors.Kafka.Settings;

namespace NeverwinterDP.Actors.Schemas;

/// <summary>
/// The registry's topic (one partition, compacted): read from its first record into a <see cref="SchemaStore"/> for
/// as long as the node runs, and written to by this node's registry, whose writes count when they are read back.
/// </summary>
public sealed class SchemaLog : IAsyncDisposable
{
    private readonly KafkaClients _clients;
    private readonly string _topic;
    private readonly SchemaStore _store;
    private readonly ITopicProvisioner _topics;
    private readonly Action<string>? _warn;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _watermarkGate = new(1, 1);
    private IProducer<byte[], byte[]?>? _producer;
    private IConsumer<Ignore, Ignore>? _watermarks;
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    public SchemaLog(KafkaClients clients, string topic, SchemaStore store, ITopicProvisioner topics, Action<string>? warn = null)
    {
        _clients = clients;
        _topic = topic;
        _store = store;
        _topics = topics;
        _warn = warn;
    }

    public string Topic => _topic;

    /// <summary>Creates the topic if it is missing and starts reading it from its first record.</summary>
    public async Task StartAsync(CancellationToken cancellation = default)
    {
        Librdkafka.EnsureLoaded();
        await _topics.EnsureCompactedAsync(_topic, cancellation).ConfigureAwait(false);
        _producer = new ProducerBuilder<byte[], byte[]?>(new ProducerConfig(_clients.Producer())
        {
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 0,
        }).Build();
        _watermarks = new ConsumerBuilder<Ignore, Ignore>(_clients.Consumer("nwdp-schemas-watermarks")).Build();
        _loop = Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);
    }

    /// <summary>
    /// Waits until every record written so far is applied to the store, and returns the end offset it read up to:
    /// what a writer decides on, and where its record must land to count.
    /// </summary>
    /// <exception cref="SchemaRegistryException">50002 when the topic does not answer or is not read within <paramref name="timeout"/>.</exception>
    public async Task<long> CatchUpAsync(TimeSpan timeout, CancellationToken cancellation = default)
    {
        var consumer = _watermarks ?? throw NotOpen();
        long end;
        await _watermarkGate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            end = await Task.Run(() => consumer.QueryWatermarkOffsets(new TopicPartition(_topic, 0), timeout).High.Value, cancellation).ConfigureAwait(false);
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_UnknownPartition or ErrorCode.Local_UnknownTopic or ErrorCode.UnknownTopicOrPart)
        {
            // Not created yet (a broker without CreateTopics creates it on the first write): empty. Were it only unknown
            // to this client for a moment, a write decided on "empty" lands past offset 0, does not count, and is retried.
            end = 0;
        }
        catch (KafkaException e)
        {
            throw SchemaRegistryException.StoreTimeout($"reading the end of {_topic} failed: {e.Error.Reason}");
        }
        finally
        {
            _watermarkGate.Release();
        }
        await Applied(end, timeout, cancellation).ConfigureAwait(false);
        return end;
    }

    /// <summary>Writes one record (<paramref name="value"/> null: a tombstone), waits until it is applied here, and returns its offset.</summary>
    public async Task<long> WriteAsync(byte[] key, byte[]? value, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var producer = _producer ?? throw NotOpen();
        DeliveryResult<byte[], byte[]?> delivered;
        try
        {
            delivered = await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<byte[], byte[]?> { Key = key, Value = value }, cancellation)
                .WaitAsync(timeout, cancellation).ConfigureAwait(false);
        }
        catch (ProduceException<byte[], byte[]?> e)
        {
            throw SchemaRegistryException.StoreError($"writing to {_topic} failed: {e.Error.Reason}");
        }
        catch (TimeoutException)
        {
            throw SchemaRegistryException.StoreTimeout($"{_topic} did not acknowledge a write within {timeout.TotalSeconds:0.#} s");
        }
        await Applied(delivered.Offset.Value + 1, timeout, cancellation).ConfigureAwait(false);
        return delivered.Offset.Value;
    }

    private SchemaRegistryException NotOpen() =>
        SchemaRegistryException.StoreError($"{_topic} is not open yet: Kafka has not answered since the node started");

    private async Task Applied(long position, TimeSpan timeout, CancellationToken cancellation)
    {
        try
        {
            await _store.WhenAppliedAsync(position).WaitAsync(timeout, cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw SchemaRegistryException.StoreTimeout($"{_topic} was not read up to offset {position} within {timeout.TotalSeconds:0.#} s");
        }
    }

    private void Run()
    {
        // The group is required by the client; never joined (the partition is assigned) and never committed.
        var config = new ConsumerConfig(_clients.Consumer("nwdp-schemas-" + Guid.NewGuid().ToString("N")))
        {
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
                // From where this node stopped applying (the first record, at start): nothing is applied twice.
                consumer.Assign(new TopicPartitionOffset(_topic, 0, _store.Position == 0 ? Offset.Beginning : new Offset(_store.Position)));
                while (!_stop.IsCancellationRequested)
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                    if (result?.Message is not { } message) continue;
                    try
                    {
                        _store.Apply(result.Offset.Value, message.Key, message.Value);
                    }
                    catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException or InvalidCastException)
                    {
                        _warn?.Invoke($"skipped a record of {_topic} that is not a registry record ({result.TopicPartitionOffset}): {e.Message}");
                    }
                }
                consumer.Close();
            }
            catch (Exception e) when (e is KafkaException or InvalidOperationException)
            {
                _warn?.Invoke($"reading {_topic} failed ({e.Message}); retrying");
                _stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _producer?.Flush(TimeSpan.FromSeconds(5));
        _producer?.Dispose();
        _watermarks?.Dispose();
        _watermarkGate.Dispose();
        _stop.Dispose();
    }
}
