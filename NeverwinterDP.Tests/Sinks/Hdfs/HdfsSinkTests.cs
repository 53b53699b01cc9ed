using Avro.File;
using Avro.Generic;
using NeverwinterDP.Actors.Sinks;
using NeverwinterDP.Actors.Sinks.Hdfs;
using NeverwinterDP.Protocol;
using Xunit;
using static NeverwinterDP.Tests.Sinks.Hdfs.HdfsSinkTestKit;

namespace NeverwinterDP.Tests.Sinks.Hdfs;

/// <summary>Layout, the WebHDFS flow, atomic publishing, markers, HA and recovery of the HDFS sink, against the fake.</summary>
public sealed class HdfsSinkTests : IAsyncLifetime
{
    private readonly string _root = NewRoot();
    private FakeWebHdfs _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeWebHdfs.StartAsync(namenodes: 2);

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task Files_go_to_hour_directories_under_the_files_sinks_names_as_deflated_Avro_read_by_Apache_Avro()
    {
        await using var sink = await OpenAsync(Sink(_fake, _root));
        var batch = Records(0, 99, TenOClock).Concat(Records(100, 109, ElevenOClock)).Concat(Records(0, 49, TenOClock, partition: 3)).ToList();

        await WriteAllDelivered(sink, batch);
        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal(
            [
                $"{HourDirectory(_root, TenOClock)}/{FinalName(0, 0, 99)}",
                $"{HourDirectory(_root, TenOClock)}/{FinalName(3, 0, 49)}",
                $"{HourDirectory(_root, ElevenOClock)}/{FinalName(0, 100, 109)}",
            ],
            PublishedPaths(_fake, _root));
        Assert.Equal($"{_root}/{Topic}/2024/03/05/10", HourDirectory(_root, TenOClock));
        Assert.Empty(Hidden(_fake, _root));
        foreach (var (_, content) in Published(_fake, _root))
        {
            using var reader = DataFileReader<GenericRecord>.OpenReader(new MemoryStream(content));
            Assert.Equal("deflate", reader.GetMetaString("avro.codec"));
            Assert.Equal("neverwinterdp.LogEvent", reader.GetSchema().Fullname);
        }
        var stored = ReadAll(_fake, _root);
        Assert.Equal(batch.Select(r => r.Event.Message), stored.Select(s => s.Message).OrderBy(m => batch.FindIndex(r => r.Event.Message == m)));
        Assert.All(stored, s => Assert.Equal(batch.Single(r => r.Event.Message == s.Message).Event.SystemTs, s.SystemTs));
        Assert.All(_fake.Requests, r => Assert.Equal("nwdp", r.User));
    }

    [Fact]
    public async Task A_publish_is_CREATE_at_the_namenode_without_a_body_then_the_bytes_to_the_datanode_it_redirects_to_then_RENAME()
    {
        await using var sink = await OpenAsync(Sink(_fake, _root));
        await WriteAllDelivered(sink, Records(0, 9, TenOClock));
        var before = _fake.Requests.Count;

        await sink.FlushAsync(CancellationToken.None);

        var dir = HourDirectory(_root, TenOClock);
        var temp = $"{dir}/.{Topic}-p0000-o{0:D20}.avro.tmp";
        var publish = _fake.Requests.Skip(before).Select(r => (r.Server, r.Method, r.Op, r.Path)).ToList();
        Assert.Equal(
            [
                (FakeHdfsServer.Namenode, "PUT", "CREATE", temp),
                (FakeHdfsServer.Datanode, "PUT", "CREATE", temp),
                (FakeHdfsServer.Namenode, "PUT", "RENAME", temp),
            ],
            publish);
        Assert.Equal(0, _fake.BytesSentToNamenode);
        var upload = _fake.Requests.Single(r => r.Server == FakeHdfsServer.Datanode);
        Assert.Equal(Published(_fake, _root).Single().Content.Length, upload.BodyBytes);
    }

    [Fact]
    public async Task Readers_never_see_a_partial_file_while_it_is_uploaded()
    {
        await using var sink = await OpenAsync(Sink(_fake, _root));
        await WriteAllDelivered(sink, Records(0, 4999, TenOClock));
        var paused = _fake.PauseNextUpload();

        var flush = sink.FlushAsync(CancellationToken.None);
        await paused.WaitAsync(TimeSpan.FromSeconds(30));

        // Half uploaded: only the hidden temporary file exists, partly written; nothing a reader would pick up.
        Assert.Empty(Published(_fake, _root));
        var (tempPath, partial) = Assert.Single(_fake.Files(_root));
        Assert.StartsWith(".", tempPath[(tempPath.LastIndexOf('/') + 1)..]);
        Assert.True(partial.Length > 0);
        Assert.False(flush.IsCompleted);

        _fake.ResumeUpload();
        await flush.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(Hidden(_fake, _root));
        AssertPublishedExactly(_fake, _root, Records(0, 4999, TenOClock));
        Assert.True(Published(_fake, _root).Single().Content.Length > partial.Length);
    }

    [Fact]
    public async Task A_roll_size_splits_an_hour_into_files_of_contiguous_offset_ranges()
    {
        var options = Options(_fake, _root, rollSize: 40_000) with { AvroCodec = NeverwinterDP.Actors.Sinks.PartFiles.AvroCodec.Null };
        await using var sink = new HdfsSink(options);
        await sink.OpenAsync(CancellationToken.None);
        var batch = Records(0, 2999, TenOClock);

        await WriteAllDelivered(sink, batch);
        await sink.FlushAsync(CancellationToken.None);

        var names = PublishedPaths(_fake, _root).Select(p => p[(p.LastIndexOf('/') + 1)..]).ToList();
        Assert.True(names.Count > 2, $"{names.Count} files");
        var next = 0L;
        foreach (var name in names)
        {
            var first = long.Parse(name.Substring(Topic.Length + 8, 20), System.Globalization.CultureInfo.InvariantCulture);
            var last = long.Parse(name.Substring(Topic.Length + 30, 20), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(next, first);
            next = last + 1;
        }
        Assert.Equal(3000, next);
        AssertPublishedExactly(_fake, _root, batch);
    }

    [Fact]
    public async Task With_success_on_closed_an_hour_gets_SUCCESS_once_every_partition_held_has_moved_past_it()
    {
        await using var sink = await OpenAsync(new HdfsSink(Options(_fake, _root) with { SuccessOnComplete = false }, "hdfs", new ManualTime(DateTimeOffset.FromUnixTimeMilliseconds(TenOClock))));
        var ten = HourDirectory(_root, TenOClock);
        var eleven = HourDirectory(_root, ElevenOClock);

        await WriteAllDelivered(sink, [.. Records(0, 9, TenOClock), .. Records(0, 9, TenOClock, partition: 1), .. Records(10, 19, ElevenOClock)]);
        await sink.FlushAsync(CancellationToken.None);
        Assert.False(_fake.Exists($"{ten}/_SUCCESS"), "partition 1 is still in 10:00");

        await WriteAllDelivered(sink, Records(10, 19, ElevenOClock, partition: 1));
        await sink.FlushAsync(CancellationToken.None);

        Assert.True(_fake.Exists($"{ten}/_SUCCESS"));
        Assert.Empty(_fake.Files(ten).Single(f => f.Path.EndsWith("/_SUCCESS", StringComparison.Ordinal)).Content);
        Assert.False(_fake.Exists($"{eleven}/_SUCCESS"));
        AssertPublishedExactly(_fake, _root,
            [.. Records(0, 9, TenOClock), .. Records(0, 9, TenOClock, partition: 1), .. Records(10, 19, ElevenOClock), .. Records(10, 19, ElevenOClock, partition: 1)]);
    }

    [Fact]
    public async Task By_default_an_hour_gets_SUCCESS_holding_its_completion_only_when_the_watermark_says_complete()
    {
        // Long past close-hour-after, with every partition moved on: the closed rule would have marked 10:00 already.
        var time = new ManualTime(DateTimeOffset.FromUnixTimeMilliseconds(ElevenOClock).AddHours(1));
        await using var sink = await OpenAsync(new HdfsSink(Options(_fake, _root), "hdfs", time)); // success-on = complete, the default
        var ten = HourDirectory(_root, TenOClock);
        await WriteAllDelivered(sink, [.. Records(0, 9, TenOClock), .. Records(10, 19, ElevenOClock)]);
        await sink.FlushAsync(CancellationToken.None);
        Assert.False(_fake.Exists($"{ten}/_SUCCESS"), "success-on = complete: no marker before the completion");

        await sink.HourCompletedAsync(new HourCompletion("hdfs", Topic, TenOClock, 1, HourCompletion.IncompleteClosed, "no marker from n2",
            [10], ["n1"], 10, 0, ElevenOClock), CancellationToken.None);
        Assert.False(_fake.Exists($"{ten}/_SUCCESS"), "an hour closed incomplete gets no marker");

        var complete = new HourCompletion("hdfs", Topic, TenOClock, 2, HourCompletion.Complete, null, [10], ["n1", "n2"], 10, 0, ElevenOClock + 1);
        await sink.HourCompletedAsync(complete, CancellationToken.None);
        var marker = _fake.Files(ten).Single(f => f.Path.EndsWith("/_SUCCESS", StringComparison.Ordinal));
        var read = HourCompletion.FromJson(marker.Content.AsSpan().TrimEnd((byte)'\n'));
        Assert.Equal((2, HourCompletion.Complete), (read.Version, read.State));
        Assert.Equal([10L], read.Counts);
        Assert.Equal(["n1", "n2"], read.Nodes);

        // An hour without events of this sink's still gets its directory and marker: complete and empty.
        var twelve = ElevenOClock + 3_600_000;
        await sink.HourCompletedAsync(complete with { HourMs = twelve, Counts = [0], Delivered = 0 }, CancellationToken.None);
        Assert.True(_fake.Exists($"{HourDirectory(_root, twelve)}/_SUCCESS"));
        Assert.False(_fake.Exists($"{HourDirectory(_root, ElevenOClock)}/_SUCCESS"));
    }

    [Fact]
    public async Task With_success_on_closed_an_hour_gets_SUCCESS_at_the_first_flush_close_hour_after_its_end()
    {
        var time = new ManualTime(DateTimeOffset.FromUnixTimeMilliseconds(ElevenOClock).AddMinutes(9));
        await using var sink = await OpenAsync(new HdfsSink(Options(_fake, _root) with { SuccessOnComplete = false }, "hdfs", time));
        var marker = HourDirectory(_root, TenOClock) + "/_SUCCESS";

        await WriteAllDelivered(sink, Records(0, 9, TenOClock));
        await sink.FlushAsync(CancellationToken.None);
        Assert.False(_fake.Exists(marker), "9 minutes after the hour: not closed yet (close-hour-after = 10m)");

        time.Now = time.Now.AddMinutes(1);
        await sink.FlushAsync(CancellationToken.None);
        Assert.True(_fake.Exists(marker));
    }

    [Fact]
    public async Task A_standby_namenode_is_skipped_and_the_active_one_is_used_from_then_on()
    {
        _fake.ActiveNamenode = 1;
        await using var sink = await OpenAsync(Sink(_fake, _root));
        await WriteAllDelivered(sink, Records(0, 99, TenOClock));
        await sink.FlushAsync(CancellationToken.None);

        var standbyAnswers = _fake.Requests.Count(r => r.Server == FakeHdfsServer.Namenode && r.Namenode == 0);
        Assert.Equal(1, standbyAnswers); // the first request (MKDIRS), then all go to namenode 1
        AssertPublishedExactly(_fake, _root, Records(0, 99, TenOClock));

        // A failover back: namenode 1 becomes the standby.
        _fake.ActiveNamenode = 0;
        await WriteAllDelivered(sink, Records(100, 199, TenOClock));
        await sink.FlushAsync(CancellationToken.None);
        AssertPublishedExactly(_fake, _root, Records(0, 199, TenOClock));
        Assert.True(_fake.Requests.Last(r => r.Server == FakeHdfsServer.Namenode).Namenode == 0);
    }

    [Fact]
    public async Task A_namenode_that_cannot_be_reached_is_skipped()
    {
        var options = Options(_fake, _root) with { NamenodeUrls = [ClosedPort(), _fake.NamenodeUrls[0]] };
        await using var sink = new HdfsSink(options);
        await sink.OpenAsync(CancellationToken.None);
        await WriteAllDelivered(sink, Records(0, 99, TenOClock));
        await sink.FlushAsync(CancellationToken.None);

        AssertPublishedExactly(_fake, _root, Records(0, 99, TenOClock));
        Assert.True((await sink.CheckHealthAsync(CancellationToken.None)).Healthy);
    }

    [Fact]
    public async Task A_replay_after_a_crash_between_CREATE_and_RENAME_deletes_the_leftover_and_duplicates_nothing()
    {
        var dir = HourDirectory(_root, TenOClock);
        await using (var first = await OpenAsync(Sink(_fake, _root)))
        {
            await WriteAllDelivered(first, Records(0, 99, TenOClock));
            await first.FlushAsync(CancellationToken.None); // committed up to 99
            await WriteAllDelivered(first, Records(100, 199, TenOClock));
            _fake.FailNext(1, FakeHdfsFailure.DropConnection, op: "RENAME");
            await Assert.ThrowsAsync<WebHdfsException>(() => first.FlushAsync(CancellationToken.None));
            Assert.Single(Hidden(_fake, _root)); // uploaded, not renamed
        } // the process dies here: 100.. were never committed

        await using (var second = await OpenAsync(Sink(_fake, _root)))
        {
            await WriteAllDelivered(second, Records(100, 249, TenOClock)); // the pump resumes at the last commit
            await second.FlushAsync(CancellationToken.None);
        }

        Assert.Contains(_fake.Requests, r => r.Op == "DELETE" && r.Path == $"{dir}/.{Topic}-p0000-o{100:D20}.avro.tmp");
        Assert.Empty(Hidden(_fake, _root));
        AssertPublishedExactly(_fake, _root, Records(0, 249, TenOClock));
        Assert.Equal([$"{dir}/{FinalName(0, 0, 99)}", $"{dir}/{FinalName(0, 100, 249)}"], PublishedPaths(_fake, _root));
    }

    [Fact]
    public async Task A_replay_of_published_records_is_skipped_from_the_names_in_the_hour_directory()
    {
        await using (var first = await OpenAsync(Sink(_fake, _root)))
        {
            await WriteAllDelivered(first, [.. Records(0, 99, TenOClock), .. Records(100, 149, ElevenOClock)]);
            await first.FlushAsync(CancellationToken.None);
        }
        await using (var second = await OpenAsync(Sink(_fake, _root)))
        {
            await WriteAllDelivered(second, [.. Records(50, 99, TenOClock), .. Records(100, 199, ElevenOClock)]);
            await second.FlushAsync(CancellationToken.None);
        }
        AssertPublishedExactly(_fake, _root, [.. Records(0, 99, TenOClock), .. Records(100, 199, ElevenOClock)]);
    }

    [Theory]
    [InlineData(FakeHdfsFailure.ServiceUnavailable, null)]
    [InlineData(FakeHdfsFailure.Retriable, null)]
    [InlineData(FakeHdfsFailure.Standby, null)]
    [InlineData(FakeHdfsFailure.DropConnection, "CREATE")]
    [InlineData(FakeHdfsFailure.ServiceUnavailable, "RENAME")]
    public async Task A_failed_publish_fails_the_flush_and_its_retry_publishes_the_same_records(FakeHdfsFailure failure, string? op)
    {
        await using var sink = await OpenAsync(Sink(_fake, _root));
        await WriteAllDelivered(sink, Records(0, 999, TenOClock));
        // A standby answer sends the request to the other namenode, so that takes two; a dropped CREATE is the datanode's.
        _fake.FailNext(failure == FakeHdfsFailure.Standby ? 2 : 1, failure, op, op == "CREATE" ? FakeHdfsServer.Datanode : null);

        await Assert.ThrowsAsync<WebHdfsException>(() => sink.FlushAsync(CancellationToken.None));
        Assert.Empty(Published(_fake, _root));
        await sink.FlushAsync(CancellationToken.None);

        AssertPublishedExactly(_fake, _root, Records(0, 999, TenOClock));
        Assert.Empty(Hidden(_fake, _root));
    }

    [Fact]
    public async Task Safe_mode_fails_flushes_with_a_clear_reason_until_it_is_left()
    {
        await using var sink = await OpenAsync(Sink(_fake, _root));
        await WriteAllDelivered(sink, Records(0, 99, TenOClock));
        _fake.SafeMode = true;

        var e = await Assert.ThrowsAsync<WebHdfsException>(() => sink.FlushAsync(CancellationToken.None));
        Assert.Contains("safe mode", e.Message, StringComparison.Ordinal);
        Assert.True(e.IsSafeMode);

        _fake.SafeMode = false;
        await sink.FlushAsync(CancellationToken.None);
        AssertPublishedExactly(_fake, _root, Records(0, 99, TenOClock));
    }

    [Fact]
    public async Task Access_denied_errors_the_records_with_a_reason_naming_the_user_key()
    {
        await using var sink = await OpenAsync(Sink(_fake, _root));
        _fake.FailNext(1, FakeHdfsFailure.AccessDenied, op: "LISTSTATUS");

        var result = await sink.WriteAsync(Records(0, 9, TenOClock), CancellationToken.None);

        Assert.All(result.Outcomes, o => Assert.Equal(SinkOutcome.Errored, o));
        Assert.Contains("nwdp.sinks.hdfs.user", result.Reasons![0], StringComparison.Ordinal);
        Assert.Contains("AccessControlException", result.Reasons[0], StringComparison.Ordinal);
        Assert.Equal(1, _fake.Requests.Count(r => r.Op == "LISTSTATUS")); // tried once for the batch, not per record

        await WriteAllDelivered(sink, Records(0, 9, TenOClock));
        await sink.FlushAsync(CancellationToken.None);
        AssertPublishedExactly(_fake, _root, Records(0, 9, TenOClock));
    }

    [Fact]
    public async Task Records_no_HDFS_path_can_hold_are_rejected_and_the_rest_delivered()
    {
        await using var sink = await OpenAsync(Sink(_fake, _root));
        var good = Records(0, 9, TenOClock);
        var batch = new List<SinkRecord>(good)
        {
            Record(10, TenOClock, topic: "../etc"),
            Record(11, TenOClock, topic: "a/b"),
            new(Topic, 0, 12, Event(Topic, 0, 12, TenOClock) with { SystemTs = long.MaxValue }),
        };

        var result = await sink.WriteAsync(batch, CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal([.. Enumerable.Repeat(SinkOutcome.Delivered, 10), SinkOutcome.Rejected, SinkOutcome.Rejected, SinkOutcome.Rejected], result.Outcomes);
        Assert.Contains("not a safe HDFS path component", result.Reasons![10], StringComparison.Ordinal);
        AssertPublishedExactly(_fake, _root, good);
    }

    [Fact]
    public async Task Past_the_buffer_limit_the_largest_file_is_published_early_and_records_error_while_HDFS_refuses()
    {
        var options = Options(_fake, _root) with { RollSize = 200_000, BufferLimit = 200_000, AvroCodec = NeverwinterDP.Actors.Sinks.PartFiles.AvroCodec.Null };
        await using var sink = new HdfsSink(options);
        await sink.OpenAsync(CancellationToken.None);
        var first = Records(0, 3_999, TenOClock);
        await WriteAllDelivered(sink, first); // passes the limit: published early
        Assert.NotEmpty(Published(_fake, _root));

        _fake.SafeMode = true;
        var more = Records(4_000, 11_999, TenOClock, partition: 1);
        var result = await sink.WriteAsync(more, CancellationToken.None);
        Assert.Contains(SinkOutcome.Errored, result.Outcomes);
        Assert.Contains("buffer-limit", result.Reasons!.First(r => r is not null)!, StringComparison.Ordinal);

        _fake.SafeMode = false;
        var retry = more.Where((_, i) => result.Outcomes[i] == SinkOutcome.Errored).ToList();
        await WriteAllDelivered(sink, retry);
        await sink.FlushAsync(CancellationToken.None);
        AssertPublishedExactly(_fake, _root, [.. first, .. more]);
    }

    [Fact]
    public async Task Health_is_reported_from_GETFILESTATUS_of_the_root()
    {
        await using var sink = Sink(_fake, _root);
        var before = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.True(before.Healthy, before.Detail);
        Assert.Contains("not created yet", before.Detail, StringComparison.Ordinal);

        await sink.OpenAsync(CancellationToken.None);
        var after = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.True(after.Healthy, after.Detail);

        _fake.ActiveNamenode = 5; // both are standbys
        var none = await sink.CheckHealthAsync(CancellationToken.None);
        Assert.False(none.Healthy);
        Assert.Contains("StandbyException", none.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_delegation_token_is_sent_on_every_request()
    {
        var options = Options(_fake, _root) with { User = null, DelegationToken = "tok-123" };
        await using var sink = new HdfsSink(options);
        await sink.OpenAsync(CancellationToken.None);
        await WriteAllDelivered(sink, Records(0, 9, TenOClock));
        await sink.FlushAsync(CancellationToken.None);

        Assert.All(_fake.Requests, r => Assert.Equal("tok-123", r.Delegation));
        Assert.All(_fake.Requests, r => Assert.Null(r.User));
    }
}
