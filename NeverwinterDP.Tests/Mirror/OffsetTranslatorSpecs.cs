using System.Text;
using NeverwinterDP.Actors.Mirror;
using Xunit;

namespace NeverwinterDP.Tests.Mirror;

/// <summary>Source offset to target offset from a mirror's offset syncs (no Kafka).</summary>
public sealed class OffsetTranslatorSpecs
{
    private const string Topic = "nwdp.logs.web";

    /// <summary>
    /// A target partition as a list: each entry is a copy of a source offset, or null for a record of another producer
    /// (local records in active/active). The syncs a mirror would write for it, one per transaction of <paramref name="batch"/> source offsets.
    /// </summary>
    private static List<OffsetSync> SyncsOf(IReadOnlyList<long?> target, long sourceFrom, long sourceNext, int batch)
    {
        var copies = target.Select((s, t) => (Source: s, Target: (long)t)).Where(c => c.Source is not null).Select(c => (c.Source!.Value, c.Target)).ToList();
        var syncs = new List<OffsetSync>();
        for (var from = sourceFrom; from < sourceNext; from += batch)
        {
            var next = Math.Min(sourceNext, from + batch);
            var f = from;
            syncs.Add(new OffsetSync(Topic, 3, "dc1." + Topic, from, next, OffsetSync.RunsOf(copies.Where(c => c.Item1 >= f && c.Item1 < next))));
        }
        return syncs;
    }

    /// <summary>What translation must give: the target offset of the first copy of a source offset at least <paramref name="o"/>, else after the last copy.</summary>
    private static long Expected(IReadOnlyList<long?> target, long o)
    {
        for (var t = 0; t < target.Count; t++)
            if (target[t] is { } s && s >= o) return t;
        var last = target.Select((s, t) => (s, t)).Last(x => x.s is not null).t;
        return last + 1;
    }

    [Fact]
    public void Each_committed_offset_maps_to_the_first_copy_at_or_after_it_with_local_records_and_skipped_records_in_between()
    {
        // Source offsets 100..159 of partition 3; 140..144 skipped (they came from the target site); local records interleaved.
        var target = new List<long?> { null, null };
        for (long s = 100; s < 160; s++)
        {
            if (s is >= 140 and < 145) continue;
            if (s % 7 == 0) target.Add(null);
            target.Add(s);
        }
        target.Add(null);
        var translator = new OffsetTranslator();
        foreach (var sync in SyncsOf(target, 100, 160, batch: 13)) translator.Add(sync);

        for (long o = 100; o <= 160; o++)
        {
            var t = translator.Translate(Topic, 3, o, out var why);
            Assert.True(t is not null, $"{o}: {why}");
            Assert.Equal(Expected(target, o), t.TargetOffset);
            Assert.Equal(("dc1." + Topic, 3, 0L), (t.TargetTopic, t.TargetPartition, t.Ahead));
        }
        // A consumer at 141 (inside the skipped records) resumes at the copy of 145; one at 160 after the last copy, before the local record after it.
        Assert.Equal(target.IndexOf(145), translator.Translate(Topic, 3, 141, out _)!.TargetOffset);
        Assert.Equal(target.Count - 1, translator.Translate(Topic, 3, 160, out _)!.TargetOffset);
    }

    [Fact]
    public void An_offset_beyond_what_was_copied_maps_after_the_last_copy_and_says_how_far_ahead_it_is()
    {
        var target = Enumerable.Range(0, 50).Select(i => (long?)(1000 + i)).ToList();
        var translator = new OffsetTranslator();
        foreach (var sync in SyncsOf(target, 1000, 1050, batch: 10)) translator.Add(sync);

        var t = translator.Translate(Topic, 3, 1070, out _)!;
        Assert.Equal((50L, 20L, false), (t.TargetOffset, t.Ahead, t.Exact));
        Assert.True(translator.Translate(Topic, 3, 1050, out _)!.Exact);
        // Consecutive transactions without other records between merge into one run.
        Assert.Equal((1000L, 1050L, 1), translator.Coverage(new Confluent.Kafka.TopicPartition(Topic, 3)));
    }

    [Fact]
    public void Offsets_the_syncs_do_not_cover_are_not_translated()
    {
        var translator = new OffsetTranslator(maxRuns: 2);
        Assert.Null(translator.Translate(Topic, 3, 5, out var why));
        Assert.Contains("no offset syncs", why);

        // Three runs (a local record between each): the oldest is dropped, and with it the offsets up to its last copy.
        translator.Add(new OffsetSync(Topic, 3, Topic, 0, 10, [new SyncRun(0, 0, 10)]));
        translator.Add(new OffsetSync(Topic, 3, Topic, 10, 20, [new SyncRun(10, 11, 10)]));
        translator.Add(new OffsetSync(Topic, 3, Topic, 20, 30, [new SyncRun(20, 22, 10)]));
        Assert.Null(translator.Translate(Topic, 3, 9, out why));
        Assert.Contains("older than the offset syncs kept", why);
        Assert.Equal(11, translator.Translate(Topic, 3, 10, out _)!.TargetOffset);

        // A gap (syncs missing): what came before it is forgotten.
        translator.Add(new OffsetSync(Topic, 3, Topic, 40, 50, [new SyncRun(40, 60, 10)]));
        Assert.Null(translator.Translate(Topic, 3, 25, out _));
        Assert.Equal(65, translator.Translate(Topic, 3, 45, out _)!.TargetOffset);

        // Nothing copied yet (all skipped): no target offset to give.
        var skippedOnly = new OffsetTranslator();
        skippedOnly.Add(new OffsetSync(Topic, 1, Topic, 0, 10, []));
        Assert.Null(skippedOnly.Translate(Topic, 1, 5, out why));
        Assert.Contains("copied nothing", why);
    }

    [Fact]
    public void Records_taken_again_replace_the_first_copies()
    {
        // Where aborted transactions stay readable, a sync of records taken again follows the first one: the later copies count.
        var translator = new OffsetTranslator();
        translator.Add(new OffsetSync(Topic, 0, Topic, 0, 10, [new SyncRun(0, 0, 10)]));
        translator.Add(new OffsetSync(Topic, 0, Topic, 5, 15, [new SyncRun(5, 10, 10)]));
        Assert.Equal(3, translator.Translate(Topic, 0, 3, out _)!.TargetOffset);
        Assert.Equal(10, translator.Translate(Topic, 0, 5, out _)!.TargetOffset);
        Assert.Equal(20, translator.Translate(Topic, 0, 15, out _)!.TargetOffset);
    }

    [Fact]
    public void A_transaction_whose_copies_interleave_with_many_other_records_writes_several_syncs_that_translate_as_one()
    {
        // Every copy followed by another producer's record: one run per copy, more than a sync record holds.
        var source = new Confluent.Kafka.TopicPartition(Topic, 2);
        var batch = new OffsetSyncBatch();
        const int copies = 2 * OffsetSyncBatch.MaxRunsPerRecord + 5;
        batch.Began(source, 500, Topic, samePartitions: true);
        for (var i = 0; i < copies; i++)
        {
            batch.Delivered(source, 500 + i, new Confluent.Kafka.DeliveryReport<byte[]?, byte[]?>
            {
                TopicPartitionOffset = new Confluent.Kafka.TopicPartitionOffset(Topic, 2, 7 + 2 * i),
                Error = new Confluent.Kafka.Error(Confluent.Kafka.ErrorCode.NoError),
            });
        }
        var syncs = batch.Syncs(new Dictionary<Confluent.Kafka.TopicPartition, long> { [source] = 500 + copies + 3 });
        Assert.Equal(3, syncs.Count);
        Assert.All(syncs, s => Assert.True(Encoding.UTF8.GetByteCount(s.Encode()) < 400_000));
        Assert.Equal((500L, 500L + copies + 3), (syncs[0].From, syncs[^1].Next));
        var translator = new OffsetTranslator(maxRuns: 3 * OffsetSyncBatch.MaxRunsPerRecord);
        foreach (var sync in syncs) translator.Add(OffsetSync.Decode("m", Encoding.UTF8.GetBytes(OffsetSync.KeyOf("m", Topic, 2)), Encoding.UTF8.GetBytes(sync.Encode()))!);
        foreach (var o in new long[] { 500, 10_499, 10_500, 20_501, 500 + copies - 1 })
            Assert.Equal(7 + 2 * (o - 500), translator.Translate(Topic, 2, o, out _)!.TargetOffset);
        Assert.Equal(7 + 2 * (copies - 1) + 1, translator.Translate(Topic, 2, 500 + copies + 3, out _)!.TargetOffset);
    }

    [Fact]
    public void A_sync_reads_back_as_written_and_other_mirrors_syncs_are_not_read()
    {
        var sync = new OffsetSync("nwdp.logs.a/b", 7, "dc1.nwdp.logs.a/b", 5, 30, [new SyncRun(5, 100, 3), new SyncRun(10, 104, 20)]);
        var key = Encoding.UTF8.GetBytes(OffsetSync.KeyOf("m1", sync.Topic, sync.Partition));
        var back = OffsetSync.Decode("m1", key, Encoding.UTF8.GetBytes(sync.Encode()));
        Assert.NotNull(back);
        Assert.Equal((sync.Topic, sync.Partition, sync.TargetTopic, sync.From, sync.Next), (back.Topic, back.Partition, back.TargetTopic, back.From, back.Next));
        Assert.Equal(sync.Runs, back.Runs);
        Assert.Null(OffsetSync.Decode("m", key, Encoding.UTF8.GetBytes(sync.Encode())));
        Assert.Null(OffsetSync.Decode("m1", key, Encoding.UTF8.GetBytes("v2 whatever")));
        Assert.Equal([new SyncRun(1, 10, 2), new SyncRun(3, 13, 1)], OffsetSync.RunsOf([(2, 11), (1, 10), (3, 13)]));
    }
}
