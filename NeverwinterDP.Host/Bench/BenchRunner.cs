using System.Buffers;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace NeverwinterDP.Host.Bench;

/// <summary>
/// The end-to-end load generator behind <c>nwdp bench</c>: <see cref="BenchOptions.Concurrency"/> workers, each
/// with its own loop and reused body buffer, claim batches of sequence numbers, render them with a
/// <see cref="BenchEventGenerator"/> and <c>POST</c> them (as NDJSON, or in another input's format: <see cref="BenchFormat"/>) over one pooled <see cref="HttpClient"/>.
/// A batch answered 429/503 is resent after <c>Retry-After</c> until it is accepted (or
/// <see cref="BenchOptions.RetryTimeout"/> passes); any other non-2xx answer or transport failure is an error and
/// the worker moves on, so every event generated ends up accepted or counted as failed.
/// Through the run it samples the totals for the steady-state figures (<see cref="SteadyState"/>), the node's
/// process (<see cref="BenchOptions.NodePid"/>) and, with <see cref="BenchOptions.EndToEndDirectory"/>, the
/// run's events in the files sink's part files; after the run it waits for the rest of them to land.
/// </summary>
public static class BenchRunner
{
    /// <summary>
    /// Runs until <see cref="BenchOptions.Events"/> were sent, <see cref="BenchOptions.Duration"/> passed, or
    /// <paramref name="cancellation"/> fires. Cancelling stops new batches and gives those in flight
    /// <see cref="BenchOptions.DrainTimeout"/> before aborting them (and ends the wait for files); the report is
    /// returned either way.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range, or <see cref="BenchOptions.NodePid"/> cannot be read.</exception>
    public static async Task<BenchReport> RunAsync(BenchOptions options, IProgress<BenchProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var node = options.NodePid is { } pid ? NodeProcessWatch.Open(pid) : null;
        var run = new Run(options, node);
        return await run.ExecuteAsync(progress, cancellation).ConfigureAwait(false);
    }

    private sealed class Run
    {
        private const int MaxErrorSamples = 5;
        private const int MaxMissingRanges = 5;

        private readonly BenchOptions _options;
        private readonly BenchEventGenerator _generator;
        private readonly long _limit;
        private readonly LatencyHistogram _latency = new();
        private readonly LatencyHistogram _steadyLatency = new();
        private readonly long[] _status = new long[1000];
        private readonly List<string> _errorSamples = [];
        private readonly NodeProcessWatch? _node;
        private readonly SequenceBitmap? _acknowledged;
        private readonly PartFileTally? _files;
        private readonly List<RateSample> _acceptedSamples = [];
        private readonly List<RateSample> _filesSamples = [];
        private readonly TimeSpan _tick;
        private readonly TokenBucket? _pacer;
        private long _start;
        private long _warmupEnd;
        private long _loadEnd; // 0 until the load stops: no batches are claimed after it
        private long _nextSeq;
        private long _eventsSent;
        private long _eventsAccepted;
        private long _eventsFailed;
        private long _requests;
        private long _retries;
        private long _errors;
        private long _transportErrors;
        private long _bytesAccepted;
        private long _bytesSent;
        private long _inFiles = -1;
        private int _inFlight;
        private readonly BenchTargets _targets;
        private readonly long[] _urlRequests;
        private readonly long[] _urlAccepted;
        private readonly long[] _urlFailed; // requests a node refused or lost (connection, 503/429) that went elsewhere
        private readonly SequenceBitmap? _resent;
        private readonly List<AckGap> _gaps = [];
        private readonly long _gapThresholdTicks;
        private DateTimeOffset _startWall;
        private long _lastAck;
        private long _longestGapTicks;
        private long _failovers;
        private long _resentEvents;
        private volatile bool _stopping;

        public Run(BenchOptions options, NodeProcessWatch? node)
        {
            _options = options;
            _node = node;
            _generator = new BenchEventGenerator(options.RunId ?? BenchEventGenerator.NewRunId(), options.Type, options.Hosts, options.EventSize);
            _limit = Math.Min(options.Events ?? long.MaxValue, BenchEventGenerator.MaxSequence + 1);
            _targets = new BenchTargets(options.Urls, options.FailoverCoolDown);
            _urlRequests = new long[_targets.Count];
            _urlAccepted = new long[_targets.Count];
            _urlFailed = new long[_targets.Count];
            _gapThresholdTicks = (long)(options.AckGapThreshold.TotalSeconds * Stopwatch.Frequency);
            if (_targets.Count > 1) _resent = new SequenceBitmap();
            if (options.EndToEndDirectories.Count > 0)
            {
                _acknowledged = new SequenceBitmap();
                _files = PartFileTally.ForDirectories(options.EndToEndDirectories, options.Type, _generator.RunId);
                _files.Resent = _resent;
            }
            // Samples for the steady-state maths at least twice a second, however rare the progress lines.
            if (options.Rate is { } rate) _pacer = new TokenBucket(rate, Math.Max(options.Batch, rate / 10));
            _tick = options.ProgressInterval < TimeSpan.FromMilliseconds(500) ? options.ProgressInterval : TimeSpan.FromMilliseconds(500);
        }

        private TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);

        private TimeSpan? LoadEnd => Interlocked.Read(ref _loadEnd) is var t and not 0 ? Stopwatch.GetElapsedTime(_start, t) : null;

        /// <summary>The load stops (once): no new batches from now on; the accepted total is sampled at this moment.</summary>
        private void EndLoad()
        {
            _stopping = true;
            var now = Stopwatch.GetTimestamp();
            if (Interlocked.CompareExchange(ref _loadEnd, now, 0) != 0) return;
            lock (_acceptedSamples) _acceptedSamples.Add(new RateSample(Stopwatch.GetElapsedTime(_start, now), Volatile.Read(ref _eventsAccepted)));
            _node?.Sample(Stopwatch.GetElapsedTime(_start, now));
        }

        public async Task<BenchReport> ExecuteAsync(IProgress<BenchProgress>? progress, CancellationToken cancellation)
        {
            using var handler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = _options.Concurrency,
                UseProxy = false,
                UseCookies = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                ConnectTimeout = _options.RequestTimeout < TimeSpan.FromSeconds(10) ? _options.RequestTimeout : TimeSpan.FromSeconds(10),
            };
            using var client = new HttpClient(handler, disposeHandler: false)
            {
                Timeout = Timeout.InfiniteTimeSpan, // per request, see SendBatchAsync
                DefaultRequestVersion = HttpVersion.Version11,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            };
            client.DefaultRequestHeaders.ExpectContinue = false;

            using var abort = new CancellationTokenSource();
            using var done = new CancellationTokenSource();
            _files?.Scan(); // files of earlier runs: read now, not counted against this run's first seconds
            _start = Stopwatch.GetTimestamp();
            _startWall = DateTimeOffset.UtcNow;
            _warmupEnd = _start + (long)(_options.Warmup.TotalSeconds * Stopwatch.Frequency);
            _node?.Sample(TimeSpan.Zero);
            var cancelled = false;
            using (cancellation.Register(() =>
                   {
                       cancelled = true;
                       EndLoad();
                       try
                       {
                           abort.CancelAfter(_options.DrainTimeout);
                       }
                       catch (ObjectDisposedException)
                       {
                       }
                   }))
            {
                var sampler = SampleAsync(progress, done.Token);
                var filesLoop = _files is null ? Task.CompletedTask : Task.Run(() => ScanFilesAsync(done.Token), CancellationToken.None);
                var workers = new Task<(List<string>? Accepted, List<string>? Failed)>[_options.Concurrency];
                (List<string>? Accepted, List<string>? Failed)[] results;
                await using (var transport = _options.Format.CreateTransport(_options))
                {
                    for (var i = 0; i < workers.Length; i++)
                    {
                        var worker = i;
                        workers[i] = Task.Run(() => WorkerAsync(client, transport, worker, abort.Token), CancellationToken.None);
                    }
                    results = await Task.WhenAll(workers).ConfigureAwait(false);
                }
                EndLoad();
                var elapsed = Elapsed;
                _node?.Sample(elapsed);
                await done.CancelAsync().ConfigureAwait(false);
                await sampler.ConfigureAwait(false);
                await filesLoop.ConfigureAwait(false);

                var loadEnd = LoadEnd ?? elapsed;
                SteadyWindow? steady;
                lock (_acceptedSamples) steady = SteadyState.Compute(_acceptedSamples, _options.Warmup, loadEnd);
                var endToEnd = _files is null ? null : await LandAsync(progress, elapsed, steady, cancellation).ConfigureAwait(false);

                progress?.Report(new BenchProgress(elapsed, Volatile.Read(ref _eventsSent), Volatile.Read(ref _eventsAccepted),
                    elapsed > TimeSpan.Zero ? Volatile.Read(ref _eventsAccepted) / elapsed.TotalSeconds : 0,
                    Volatile.Read(ref _requests), Volatile.Read(ref _retries), Volatile.Read(ref _errors), 0, Final: true,
                    InFiles: endToEnd?.InFilesAfterWait));

                var status = new SortedDictionary<int, long>();
                for (var code = 0; code < _status.Length; code++)
                    if (_status[code] > 0) status[code] = _status[code];
                List<string>? accepted = null, failed = null;
                if (_options.RecordMessages)
                {
                    accepted = results.SelectMany(r => r.Accepted!).ToList();
                    failed = results.SelectMany(r => r.Failed!).ToList();
                }
                var urls = new List<BenchUrlReport>(_targets.Count);
                for (var i = 0; i < _targets.Count; i++)
                    urls.Add(new BenchUrlReport(_targets.Urls[i], Interlocked.Read(ref _urlRequests[i]), Interlocked.Read(ref _urlAccepted[i]), Interlocked.Read(ref _urlFailed[i])));
                AckGap[] gaps;
                lock (_gaps) gaps = _gaps.ToArray();
                lock (_errorSamples)
                {
                    return new BenchReport
                    {
                        Url = _options.Url,
                        Urls = urls,
                        Failovers = Interlocked.Read(ref _failovers),
                        ResentEvents = Interlocked.Read(ref _resentEvents),
                        LongestAckGap = TimeSpan.FromSeconds((double)Interlocked.Read(ref _longestGapTicks) / Stopwatch.Frequency),
                        AckGapThreshold = _options.AckGapThreshold,
                        AckGaps = gaps,
                        RunId = _generator.RunId,
                        Format = _options.Format.Name,
                        EventsSent = _eventsSent,
                        EventsAccepted = _eventsAccepted,
                        EventsFailed = _eventsFailed,
                        Requests = _requests,
                        Retries = _retries,
                        Errors = _errors,
                        TransportErrors = _transportErrors,
                        BytesAccepted = _bytesAccepted,
                        BytesSent = _bytesSent,
                        Elapsed = elapsed,
                        LoadElapsed = loadEnd,
                        Status = status,
                        P50Ms = _latency.ValueAtPercentile(50) / 1000.0,
                        P99Ms = _latency.ValueAtPercentile(99) / 1000.0,
                        P999Ms = _latency.ValueAtPercentile(99.9) / 1000.0,
                        MaxMs = _latency.MaxMicros / 1000.0,
                        Warmup = _options.Warmup,
                        Steady = steady is null ? null : new SteadyStateReport(steady.From, steady.To, (long)Math.Round(steady.Growth), steady.PerSecond,
                            _steadyLatency.Count, _steadyLatency.ValueAtPercentile(50) / 1000.0, _steadyLatency.ValueAtPercentile(99) / 1000.0,
                            _steadyLatency.ValueAtPercentile(99.9) / 1000.0, _steadyLatency.MaxMicros / 1000.0),
                        EndToEnd = endToEnd,
                        Node = _node?.Report(_options.Warmup, loadEnd, steady),
                        ErrorSamples = _errorSamples.ToArray(),
                        Cancelled = cancelled,
                        AcceptedMessages = accepted,
                        FailedMessages = failed,
                    };
                }
            }
        }

        /// <summary>Samples the totals every tick and reports progress every <see cref="BenchOptions.ProgressInterval"/>.</summary>
        private async Task SampleAsync(IProgress<BenchProgress>? progress, CancellationToken done)
        {
            using var timer = new PeriodicTimer(_tick);
            var lastAccepted = 0L;
            var lastAt = _start;
            try
            {
                while (await timer.WaitForNextTickAsync(done).ConfigureAwait(false))
                {
                    var now = Stopwatch.GetTimestamp();
                    var accepted = Volatile.Read(ref _eventsAccepted);
                    var at = Stopwatch.GetElapsedTime(_start, now);
                    if (LoadEnd is null)
                        lock (_acceptedSamples) _acceptedSamples.Add(new RateSample(at, accepted));
                    _node?.Sample(at);
                    if (progress is null) continue;
                    var seconds = Stopwatch.GetElapsedTime(lastAt, now).TotalSeconds;
                    if (seconds < _options.ProgressInterval.TotalSeconds * 0.99) continue;
                    var rate = seconds > 0 ? (accepted - lastAccepted) / seconds : 0;
                    lastAccepted = accepted;
                    lastAt = now;
                    var inFiles = Interlocked.Read(ref _inFiles);
                    progress.Report(new BenchProgress(at, Volatile.Read(ref _eventsSent), accepted, rate,
                        Volatile.Read(ref _requests), Volatile.Read(ref _retries), Volatile.Read(ref _errors), Volatile.Read(ref _inFlight), Final: false,
                        InFiles: inFiles < 0 ? null : inFiles));
                }
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
            }
        }

        /// <summary>Reads newly published part files about once a second while the load runs.</summary>
        private async Task ScanFilesAsync(CancellationToken done)
        {
            using var timer = new PeriodicTimer(_options.EndToEndScanInterval);
            try
            {
                while (await timer.WaitForNextTickAsync(done).ConfigureAwait(false))
                {
                    _files!.Scan();
                    var at = Elapsed;
                    var distinct = _files.Lines - _files.Duplicates;
                    Interlocked.Exchange(ref _inFiles, distinct);
                    _filesSamples.Add(new RateSample(at, distinct));
                }
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
            }
        }

        /// <summary>After the run: counts what reached the files by now, then waits up to <see cref="BenchOptions.EndToEndWait"/> for the rest.</summary>
        private async Task<EndToEndReport> LandAsync(IProgress<BenchProgress>? progress, TimeSpan runEnd, SteadyWindow? steady, CancellationToken cancellation)
        {
            var files = _files!;
            var acknowledged = _acknowledged!;
            var ackedCount = Volatile.Read(ref _eventsAccepted);
            files.Scan();
            var atRunEnd = files.Seen.CountBoth(acknowledged);
            var landed = atRunEnd;
            var waitStart = Stopwatch.GetTimestamp();
            var lastReport = waitStart;
            var lastGrowth = waitStart;
            try
            {
                while (landed < ackedCount && Stopwatch.GetElapsedTime(waitStart) < _options.EndToEndWait)
                {
                    await Task.Delay(_options.EndToEndScanInterval, cancellation).ConfigureAwait(false);
                    if (files.Scan() > 0)
                    {
                        lastGrowth = Stopwatch.GetTimestamp();
                        // Counting against the acknowledged set costs a pass over both bitmaps: only when it can have changed.
                        if (files.Lines - files.Duplicates >= ackedCount || Stopwatch.GetElapsedTime(lastReport) >= _options.ProgressInterval)
                            landed = files.Seen.CountBoth(acknowledged);
                    }
                    if (progress is not null && Stopwatch.GetElapsedTime(lastReport) >= _options.ProgressInterval)
                    {
                        lastReport = Stopwatch.GetTimestamp();
                        progress.Report(new BenchProgress(Elapsed, Volatile.Read(ref _eventsSent), ackedCount, 0,
                            Volatile.Read(ref _requests), Volatile.Read(ref _retries), Volatile.Read(ref _errors), 0, Final: false,
                            InFiles: landed, Landing: true, WaitLeft: _options.EndToEndWait - Stopwatch.GetElapsedTime(waitStart)));
                    }
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
            }
            landed = files.Seen.CountBoth(acknowledged);
            var landingTime = landed > atRunEnd ? Stopwatch.GetElapsedTime(waitStart, lastGrowth) : TimeSpan.Zero;
            SteadyWindow? intoFiles = null;
            if (steady is not null) intoFiles = SteadyState.Compute(_filesSamples, steady.From, steady.To);
            return new EndToEndReport
            {
                Directory = string.Join(", ", _options.EndToEndDirectories.Select(d => PartFileTally.TopicDirectory(d, _options.Type))),
                Acknowledged = ackedCount,
                InFilesAtRunEnd = atRunEnd,
                InFilesAfterWait = landed,
                Waited = Stopwatch.GetElapsedTime(waitStart),
                LastLandedAfter = landingTime,
                Duplicates = files.Duplicates,
                DuplicatesOfResent = files.DuplicatesOfResent,
                DuplicateSamples = files.DuplicateSamples.ToArray(),
                Unacknowledged = files.Seen.CountExcept(acknowledged),
                MissingRanges = acknowledged.RangesExcept(files.Seen, MaxMissingRanges),
                Files = files.FilesRead,
                AvroFilesSkipped = files.AvroFilesSkipped,
                SteadyIntoFilesPerSecond = intoFiles?.PerSecond,
                RunEnd = runEnd,
            };
        }

        private async Task<(List<string>? Accepted, List<string>? Failed)> WorkerAsync(HttpClient client, BenchTransport? transport, int worker, CancellationToken abort)
        {
            var batch = _options.Batch;
            var buffer = new byte[_generator.BufferSize(batch)];
            var compressed = _options.Gzip ? new MemoryStream() : null;
            var format = _options.Format;
            var encoded = format.Transcodes ? new ArrayBufferWriter<byte>(buffer.Length * 2) : null;
            var accepted = _options.RecordMessages ? new List<string>() : null;
            var failed = _options.RecordMessages ? new List<string>() : null;
            while (!_stopping)
            {
                if (_pacer is not null)
                {
                    try
                    {
                        await _pacer.WaitAsync(batch, abort).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                    if (_stopping) break;
                }
                if (_options.Duration is { } duration && Elapsed >= duration)
                {
                    EndLoad();
                    break;
                }
                var first = Interlocked.Add(ref _nextSeq, batch) - batch;
                if (first >= _limit)
                {
                    EndLoad();
                    break;
                }
                var count = (int)Math.Min(batch, _limit - first);
                if (first + count >= _limit) EndLoad(); // the last batch: the load ends as it goes out
                Interlocked.Add(ref _eventsSent, count);
                Interlocked.Increment(ref _inFlight);
                bool ok;
                try
                {
                    var length = _generator.Write(buffer, first, count, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                    ReadOnlyMemory<byte> body = buffer.AsMemory(0, length);
                    if (encoded is not null)
                    {
                        encoded.ResetWrittenCount();
                        format.Encode(body.Span, encoded);
                        body = encoded.WrittenMemory;
                    }
                    if (compressed is not null)
                    {
                        compressed.SetLength(0);
                        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(body.Span);
                        body = compressed.GetBuffer().AsMemory(0, (int)compressed.Length);
                    }
                    ok = transport is null
                        ? await SendBatchAsync(client, worker, first, body, length, count, abort).ConfigureAwait(false)
                        : await SendOverTransportAsync(transport, worker, body, length, count, abort).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
                if (ok) _acknowledged?.AddRange(first, count);
                var record = ok ? accepted : failed;
                if (record is not null)
                    for (var seq = first; seq < first + count; seq++) record.Add(_generator.MessageOf(seq));
            }
            return (accepted, failed);
        }

        /// <summary>
        /// Sends one batch until it is accepted (true) or given up (false), counting everything on the way. With several
        /// nodes (<see cref="BenchTargets"/>) a batch a node refused (connection refused, 503/429) or whose answer was lost
        /// (connection cut, timeout) goes to the next node; once every node failed it in a row the batch waits (the
        /// node's Retry-After, else the cool-down) before the next round, until <see cref="BenchOptions.RetryTimeout"/>.
        /// A batch resent after a lost answer may arrive twice: its sequence numbers are kept in <c>_resent</c>.
        /// </summary>
        private async Task<bool> SendBatchAsync(HttpClient client, int worker, long first, ReadOnlyMemory<byte> body, int rawLength, int events, CancellationToken abort)
        {
            long? retryingSince = null;
            var zeroDelayRetries = 0;
            var several = _targets.Count > 1;
            var target = _targets.Pick(_targets.Home(worker));
            var failedInARow = 0;
            var resent = false;
            while (true)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, _targets.Urls[target]);
                request.Content = new ReadOnlyMemoryContent(body);
                request.Content.Headers.TryAddWithoutValidation("Content-Type", _options.Format.ContentType);
                _options.Format.AddHeaders(request.Headers);
                if (_options.Gzip) request.Content.Headers.TryAddWithoutValidation("Content-Encoding", "gzip");
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
                timeout.CancelAfter(_options.RequestTimeout);

                Interlocked.Increment(ref _requests);
                Interlocked.Increment(ref _urlRequests[target]);
                Interlocked.Add(ref _bytesSent, body.Length);
                var sentAt = Stopwatch.GetTimestamp();
                HttpResponseMessage response;
                try
                {
                    response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
                {
                    Interlocked.Increment(ref _transportErrors);
                    var why = abort.IsCancellationRequested ? "aborted after the drain timeout"
                        : e is OperationCanceledException ? $"no answer within {_options.RequestTimeout.TotalSeconds:0.###} s"
                        : e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message} ({inner.Message})" : e.Message;
                    if (!several || abort.IsCancellationRequested) return GiveUp(events, "transport: " + why);
                    // Refused at connect: the node never saw the batch. Anything else (cut, timeout): it may have
                    // taken it, so the copy sent elsewhere may be a second one.
                    if (!NeverSent(e) && !resent)
                    {
                        resent = true;
                        _resent!.AddRange(first, events);
                        Interlocked.Add(ref _resentEvents, events);
                    }
                    var next = await FailOverAsync(target, sentAt, null, ref retryingSince, ref failedInARow, ref zeroDelayRetries, abort).ConfigureAwait(false);
                    if (next < 0) return GiveUp(events, $"transport: {why}; every node failed it for {_options.RetryTimeout.TotalSeconds:0.###} s");
                    target = next;
                    continue;
                }
                using (response)
                {
                    var latency = Stopwatch.GetElapsedTime(sentAt);
                    _latency.Record(latency);
                    // Steady state: requests sent after the warm-up and before the load stopped.
                    if (sentAt >= _warmupEnd && Interlocked.Read(ref _loadEnd) is var end && (end == 0 || sentAt < end)) _steadyLatency.Record(latency);
                    var code = (int)response.StatusCode;
                    Interlocked.Increment(ref _status[Math.Clamp(code, 0, _status.Length - 1)]);
                    if (code is >= 200 and < 300 && _options.Format.ReadsAnswer)
                    {
                        // 2xx with refusals inside (a _bulk item, an OTLP partial success): the batch is not resent
                        // (the rest was taken), it is counted as failed.
                        string? refusal;
                        try
                        {
                            refusal = _options.Format.Refusal(await response.Content.ReadAsByteArrayAsync(CancellationToken.None).ConfigureAwait(false));
                        }
                        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or Google.Protobuf.InvalidProtocolBufferException)
                        {
                            refusal = $"{code}, and the answer could not be read: {e.Message}";
                        }
                        if (refusal is not null) return GiveUp(events, refusal);
                    }
                    if (code is >= 200 and < 300)
                    {
                        Interlocked.Add(ref _eventsAccepted, events);
                        Interlocked.Add(ref _bytesAccepted, rawLength);
                        Interlocked.Add(ref _urlAccepted[target], events);
                        Acknowledged();
                        return true;
                    }
                    if (code is 429 or 503 && several)
                    {
                        if (abort.IsCancellationRequested) return GiveUp(events, $"{code} and the run was aborted before a retry");
                        Interlocked.Increment(ref _retries);
                        var next = await FailOverAsync(target, sentAt, response.Headers.RetryAfter, ref retryingSince, ref failedInARow, ref zeroDelayRetries, abort).ConfigureAwait(false);
                        if (next < 0) return GiveUp(events, $"{code}: every node refused it for {_options.RetryTimeout.TotalSeconds:0.###} s");
                        target = next;
                        continue;
                    }
                    if (code is 429 or 503)
                    {
                        retryingSince ??= sentAt;
                        if (abort.IsCancellationRequested)
                            return GiveUp(events, $"{code} and the run was aborted before a retry");
                        if (Stopwatch.GetElapsedTime(retryingSince.Value) > _options.RetryTimeout)
                            return GiveUp(events, $"{code}: still refused after retrying for {_options.RetryTimeout.TotalSeconds:0.###} s");
                        Interlocked.Increment(ref _retries);
                        try
                        {
                            await Task.Delay(RetryDelay(response.Headers.RetryAfter, ref zeroDelayRetries), abort).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            return GiveUp(events, $"{code} and the run was aborted while waiting to retry");
                        }
                        continue;
                    }
                    string text;
                    try
                    {
                        text = await response.Content.ReadAsStringAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException)
                    {
                        text = "";
                    }
                    text = text.ReplaceLineEndings(" ").Trim();
                    if (text.Length > 200) text = text[..200] + "...";
                    return GiveUp(events, $"{code} {response.ReasonPhrase}{(text.Length > 0 ? ": " + text : "")}");
                }
            }
        }

        /// <summary>
        /// Sends one batch to an input that is not HTTP (syslog, ZeroMQ) until it is accepted (true) or given up
        /// (false): a 429/503 answer (ZeroMQ) is resent after the node's hint, as for HTTP.
        /// </summary>
        private async Task<bool> SendOverTransportAsync(BenchTransport transport, int worker, ReadOnlyMemory<byte> body, int rawLength, int events, CancellationToken abort)
        {
            long? retryingSince = null;
            var zeroDelayRetries = 0;
            while (true)
            {
                Interlocked.Increment(ref _requests);
                Interlocked.Increment(ref _urlRequests[0]);
                Interlocked.Add(ref _bytesSent, body.Length);
                var sentAt = Stopwatch.GetTimestamp();
                BenchAnswer answer;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort))
                {
                    timeout.CancelAfter(_options.RequestTimeout);
                    try
                    {
                        answer = await transport.SendAsync(worker, body, events, timeout.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
                    {
                        Interlocked.Increment(ref _transportErrors);
                        var why = abort.IsCancellationRequested ? "aborted after the drain timeout"
                            : e is OperationCanceledException ? $"no answer within {_options.RequestTimeout.TotalSeconds:0.###} s" : e.Message;
                        return GiveUp(events, "transport: " + why);
                    }
                }
                var latency = Stopwatch.GetElapsedTime(sentAt);
                _latency.Record(latency);
                if (sentAt >= _warmupEnd && Interlocked.Read(ref _loadEnd) is var end && (end == 0 || sentAt < end)) _steadyLatency.Record(latency);
                Interlocked.Increment(ref _status[Math.Clamp(answer.Status, 0, _status.Length - 1)]);
                if (answer.Status is >= 200 and < 300)
                {
                    Interlocked.Add(ref _eventsAccepted, events);
                    Interlocked.Add(ref _bytesAccepted, rawLength);
                    Interlocked.Add(ref _urlAccepted[0], events);
                    Acknowledged();
                    return true;
                }
                if (answer.Status is not (429 or 503)) return GiveUp(events, answer.Error ?? answer.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                retryingSince ??= sentAt;
                if (abort.IsCancellationRequested) return GiveUp(events, $"{answer.Status} and the run was aborted before a retry");
                if (Stopwatch.GetElapsedTime(retryingSince.Value) > _options.RetryTimeout)
                    return GiveUp(events, $"{answer.Status}: still refused after retrying for {_options.RetryTimeout.TotalSeconds:0.###} s");
                Interlocked.Increment(ref _retries);
                try
                {
                    await Task.Delay(RetryDelay(answer.RetryAfter is { } hint ? new RetryConditionHeaderValue(hint) : null, ref zeroDelayRetries), abort).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return GiveUp(events, $"{answer.Status} and the run was aborted while waiting to retry");
                }
            }
        }

        /// <summary>Connection refused: the request never left (the node did not take the batch).</summary>
        private static bool NeverSent(Exception e) =>
            e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } ||
            e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused };

        /// <summary>
        /// Node <paramref name="target"/> failed a batch: sets it aside and answers the node to send to next, after waiting
        /// once every node failed the batch in a row (the hint of the last, else the cool-down); -1 once the batch has been
        /// failing for longer than <see cref="BenchOptions.RetryTimeout"/> or the run was aborted.
        /// </summary>
        private ValueTask<int> FailOverAsync(int target, long sentAt, RetryConditionHeaderValue? retryAfter, ref long? retryingSince, ref int failedInARow,
            ref int zeroDelayRetries, CancellationToken abort)
        {
            retryingSince ??= sentAt;
            Interlocked.Increment(ref _urlFailed[target]);
            Interlocked.Increment(ref _failovers);
            var next = _targets.FailOver(target);
            if (abort.IsCancellationRequested || Stopwatch.GetElapsedTime(retryingSince.Value) > _options.RetryTimeout) return ValueTask.FromResult(-1);
            if (++failedInARow < _targets.Count) return ValueTask.FromResult(next);
            failedInARow = 0;
            var delay = retryAfter is null ? _options.FailoverCoolDown : RetryDelay(retryAfter, ref zeroDelayRetries);
            if (delay <= TimeSpan.Zero) delay = TimeSpan.FromMilliseconds(50);
            return WaitThen(next, delay, abort);

            static async ValueTask<int> WaitThen(int next, TimeSpan delay, CancellationToken abort)
            {
                try
                {
                    await Task.Delay(delay, abort).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return -1;
                }
                return next;
            }
        }

        /// <summary>A batch was acknowledged: the gap since the previous acknowledgement (any worker, any node) is measured.</summary>
        private void Acknowledged()
        {
            var now = Stopwatch.GetTimestamp();
            var previous = Interlocked.Exchange(ref _lastAck, now);
            if (previous == 0) return; // the first: the time to it is start-up (connections, JIT), not a pause
            var gap = now - previous;
            if (gap <= 0) return; // another worker's later acknowledgement got in first
            var longest = Interlocked.Read(ref _longestGapTicks);
            while (gap > longest)
            {
                var seen = Interlocked.CompareExchange(ref _longestGapTicks, gap, longest);
                if (seen == longest) break;
                longest = seen;
            }
            if (gap < _gapThresholdTicks) return;
            var from = _startWall + Stopwatch.GetElapsedTime(_start, previous);
            lock (_gaps)
                if (_gaps.Count < BenchOptions.MaxAckGaps) _gaps.Add(new AckGap(from, TimeSpan.FromSeconds((double)gap / Stopwatch.Frequency)));
        }

        private TimeSpan RetryDelay(RetryConditionHeaderValue? retryAfter, ref int zeroDelayRetries)
        {
            var delay = retryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - DateTimeOffset.UtcNow,
                _ => TimeSpan.FromSeconds(1),
            };
            if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
            if (delay > _options.MaxRetryDelay) delay = _options.MaxRetryDelay;
            // Retry-After: 0 is honoured the first time; a batch refused again and again backs off a little
            // (up to 256 ms) so the bench does not spin on a node that is shedding load on the same machine.
            if (delay == TimeSpan.Zero && zeroDelayRetries++ > 0) delay = TimeSpan.FromMilliseconds(1 << Math.Min(zeroDelayRetries, 8));
            return delay;
        }

        private bool GiveUp(int events, string why)
        {
            Interlocked.Increment(ref _errors);
            Interlocked.Add(ref _eventsFailed, events);
            lock (_errorSamples)
                if (_errorSamples.Count < MaxErrorSamples) _errorSamples.Add(why);
            return false;
        }
    }
}
