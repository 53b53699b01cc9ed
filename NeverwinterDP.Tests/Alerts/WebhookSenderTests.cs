using System.Collections.Concurrent;
using Akka.Event;
using NeverwinterDP.Actors.Alerts;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Alerts;

/// <summary>The webhook sender against a real HTTP receiver: JSON and Slack bodies, retries on 500, done once.</summary>
public sealed class WebhookSenderTests
{
    private static readonly AlertNotifyOptions Fast = new(QueueSize: 100, MaxAttempts: 5, MinBackoff: TimeSpan.FromMilliseconds(20),
        MaxBackoff: TimeSpan.FromMilliseconds(200), Timeout: TimeSpan.FromSeconds(10));

    private static AlertNotification Notification(string status = AlertStatus.Firing) => new(
        "lag{sink=es}@1764583200000", status, "lag{sink=es}", "lag", "critical",
        new Dictionary<string, string> { ["alertname"] = "lag", ["severity"] = "critical", ["sink"] = "es", ["team"] = "data" },
        42.5, "lag of sink es > 30s", 1764583200000, 1764583320000, status == AlertStatus.Resolved ? 1764583500000 : null, "akka.tcp://nwdp@127.0.0.1:1");

    [Fact]
    public async Task A_notification_is_retried_with_backoff_after_500s_and_done_once_delivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Failures = 2;
        var done = new ConcurrentQueue<string>();
        await using var sender = new WebhookSender([new AlertWebhook("ops", receiver.Url, "json")], Fast, done.Enqueue, NoLogger.Instance);

        sender.Send(Notification());

        await Wait.UntilAsync(() => Task.FromResult(done.Count == 1), TimeSpan.FromSeconds(30));
        Assert.Equal([500, 500, 200], receiver.Requests.Select(r => r.Status));
        Assert.Equal("lag{sink=es}@1764583200000", Assert.Single(done));
        Assert.Equal(2, sender.FailedAttempts);
        var body = Assert.Single(receiver.Delivered);
        Assert.Equal("firing", body.GetProperty("status").GetString());
        Assert.Equal("lag{sink=es}@1764583200000", body.GetProperty("id").GetString());
        Assert.Equal("lag", body.GetProperty("alert").GetString());
        Assert.Equal("critical", body.GetProperty("severity").GetString());
        Assert.Equal("data", body.GetProperty("labels").GetProperty("team").GetString());
        Assert.Equal(42.5, body.GetProperty("value").GetDouble());
        Assert.Equal("2025-12-01T10:00:00.000Z", body.GetProperty("startsAt").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("endsAt").ValueKind);
    }

    [Fact]
    public async Task A_webhook_that_keeps_failing_is_given_up_after_max_attempts_and_the_notification_is_done()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Failures = 100;
        var done = new ConcurrentQueue<string>();
        await using var sender = new WebhookSender([new AlertWebhook("ops", receiver.Url, "json")], Fast with { MaxAttempts = 3 }, done.Enqueue, NoLogger.Instance);

        sender.Send(Notification());

        await Wait.UntilAsync(() => Task.FromResult(done.Count == 1), TimeSpan.FromSeconds(30));
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Empty(receiver.Delivered);
    }

    [Fact]
    public async Task Two_webhooks_each_get_the_notification_in_their_shape_and_it_is_done_when_both_are()
    {
        await using var json = await WebhookReceiver.StartAsync();
        await using var slack = await WebhookReceiver.StartAsync();
        slack.Failures = 1;
        var done = new ConcurrentQueue<string>();
        await using var sender = new WebhookSender([new AlertWebhook("ops", json.Url, "json"), new AlertWebhook("chat", slack.Url, "slack")], Fast, done.Enqueue,
            NoLogger.Instance);

        sender.Send(Notification(AlertStatus.Resolved));

        await Wait.UntilAsync(() => Task.FromResult(done.Count == 1), TimeSpan.FromSeconds(30));
        Assert.Equal("resolved", Assert.Single(json.Delivered).GetProperty("status").GetString());
        var s = Assert.Single(slack.Delivered);
        Assert.StartsWith("[RESOLVED] lag{sink=es} (critical)", s.GetProperty("text").GetString());
        var attachment = s.GetProperty("attachments")[0];
        Assert.Equal("good", attachment.GetProperty("color").GetString());
        Assert.Contains(attachment.GetProperty("fields").EnumerateArray(), f => f.GetProperty("title").GetString() == "sink" && f.GetProperty("value").GetString() == "es");
        Assert.Single(done);
    }

    [Fact]
    public void Backoff_doubles_from_min_to_max()
    {
        var o = Fast with { MinBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(10) };
        Assert.Equal([1, 2, 4, 8, 10, 10], Enumerable.Range(1, 6).Select(a => o.Backoff(a).TotalSeconds));
    }
}
