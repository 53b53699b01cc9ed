using System.Globalization;
using System.Text;

namespace NeverwinterDP.Host.Bench;

/// <summary>
/// Renders realistic NDJSON log lines fast: a few hundred lines are rendered once as byte templates (host,
/// process, level, message, padding) and each event is a copy of one of them with its timestamp and sequence
/// number patched in at fixed offsets. Event <c>seq</c> of a run looks like
/// <code>{"ts":1700000000000,"host":"web-02","process":"nginx","level":"info","type":"bench","msg":"GET /api/orders/4711 200 12ms run=RUN seq=0000000042 ua=...","req_id":"5f0c2b9e81d4a7c3"}</code>
/// so every <c>msg</c> is unique to its run and sequence number (and so is <c>req_id</c>, a mix of both).
/// Lines are padded (inside <c>msg</c>) to exactly the event size; long message heads are cut to fit, so
/// only sizes below about 170 bytes (or long types) give longer lines. Thread-safe: the templates are read only.
/// </summary>
public sealed class BenchEventGenerator
{
    /// <summary>Digits of the zero-padded sequence number; runs stop before <see cref="MaxSequence"/>.</summary>
    public const int SeqDigits = 10;

    public const long MaxSequence = 9_999_999_999;

    private const int ReqIdDigits = 16;

    /// <summary>Message heads are cut (at a word) to keep lines within the event size, but never below this.</summary>
    private const int MinHeadLength = 16;

    private const int TsDigits = 13;

    /// <summary>An upper bound of a line's length before padding (type names up to 100 characters).</summary>
    public const int MaxBaseLineLength = 420;

    private static readonly string[] HostKinds = ["web", "api", "db", "worker", "cache"];
    private static readonly string[] ProcessOfKind = ["nginx", "orders-api", "postgres", "billing-worker", "redis"];
    private static readonly string[] SystemProcesses = ["sshd", "cron", "kernel"];

    private const string Filler =
        " ua=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36" +
        " ref=https://shop.example.com/checkout/step-2?cart=8812&coupon=SPRING24 tenant=acme-eu-west region=eu-west-1" +
        " trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 pool=default node=ip-10-0-12-7 build=2024.06.1";

    private readonly Template[] _templates;
    private readonly ulong _reqIdSalt;

    public BenchEventGenerator(string runId, string type = "bench", int hosts = 16, int eventSize = 200)
    {
        if (!IsValidRunId(runId)) throw new ArgumentException("run id must be 1-32 letters or digits", nameof(runId));
        if (!IsValidType(type)) throw new ArgumentException("type must be 1-100 letters, digits, '.', '_' or '-'", nameof(type));
        ArgumentOutOfRangeException.ThrowIfLessThan(hosts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(eventSize, 1);
        RunId = runId;
        Type = type;
        Hosts = hosts;
        EventSize = eventSize;

        // At least 512 templates for variety, and a multiple of the host count so hosts get equal shares.
        var count = hosts >= 512 ? hosts : hosts * ((512 + hosts - 1) / hosts);
        _reqIdSalt = (ulong)runId.Aggregate(1469598103934665603L, (h, c) => unchecked((h ^ c) * 1099511628211L));
        _templates = new Template[count];
        for (var i = 0; i < count; i++) _templates[i] = Render(i);
        MaxLineLength = _templates.Max(t => t.Line.Length);
    }

    public string RunId { get; }

    public string Type { get; }

    public int Hosts { get; }

    public int EventSize { get; }

    /// <summary>Longest line, without its newline.</summary>
    public int MaxLineLength { get; }

    /// <summary>Bytes a buffer needs for <paramref name="events"/> lines with their newlines.</summary>
    public int BufferSize(int events) => checked(events * (MaxLineLength + 1));

    /// <summary>A random run id: 8 lowercase hex digits.</summary>
    public static string NewRunId() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4));

    public static bool IsValidRunId(string? id) =>
        id is { Length: >= 1 and <= 32 } && id.All(char.IsAsciiLetterOrDigit);

    public static bool IsValidType(string? type) =>
        type is { Length: >= 1 and <= 100 } && type.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>
    /// Writes the lines of events <paramref name="firstSeq"/> .. <paramref name="firstSeq"/>+<paramref name="count"/>-1,
    /// each followed by '\n', with <c>ts</c> = <paramref name="tsMs"/>. Answers the bytes written.
    /// </summary>
    public int Write(Span<byte> destination, long firstSeq, int count, long tsMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstSeq);
        if (firstSeq + count - 1 > MaxSequence) throw new ArgumentOutOfRangeException(nameof(count), "sequence numbers past " + MaxSequence);
        Span<byte> ts = stackalloc byte[TsDigits];
        WriteDigits(ts, Math.Clamp(tsMs, 0, 9_999_999_999_999));
        Span<byte> seqDigits = stackalloc byte[SeqDigits];
        Span<byte> reqId = stackalloc byte[ReqIdDigits];
        var pos = 0;
        for (var i = 0; i < count; i++)
        {
            var seq = firstSeq + i;
            var t = _templates[seq % _templates.Length];
            var line = destination.Slice(pos, t.Line.Length + 1);
            t.Line.CopyTo(line);
            ts.CopyTo(line[t.TsOffset..]);
            WriteDigits(seqDigits, seq);
            seqDigits.CopyTo(line[t.MsgSeqOffset..]);
            WriteHex(reqId, ReqIdOf(seq));
            reqId.CopyTo(line[t.ReqIdOffset..]);
            line[^1] = (byte)'\n';
            pos += line.Length;
        }
        return pos;
    }

    /// <summary>The line of event <paramref name="seq"/>, without its newline.</summary>
    public string Line(long seq, long tsMs)
    {
        var t = _templates[seq % _templates.Length];
        var buffer = new byte[t.Line.Length + 1];
        Write(buffer, seq, 1, tsMs);
        return Encoding.ASCII.GetString(buffer, 0, t.Line.Length);
    }

    /// <summary>The <c>msg</c> of event <paramref name="seq"/> (it contains <c>run=RUN seq=NNNNNNNNNNNN</c>).</summary>
    public string MessageOf(long seq)
    {
        var t = _templates[seq % _templates.Length];
        return string.Create(t.Message.Length, (t, seq), static (span, state) =>
        {
            state.t.Message.CopyTo(span);
            var digits = span.Slice(state.t.MessageSeqOffset, SeqDigits);
            var v = state.seq;
            for (var i = SeqDigits - 1; i >= 0; i--)
            {
                digits[i] = (char)('0' + (int)(v % 10));
                v /= 10;
            }
        });
    }

    /// <summary>Finds <c>run=RUN seq=N</c> in a message and answers (RUN, N), or null.</summary>
    public static (string RunId, long Seq)? ParseMessage(string msg)
    {
        var r = msg.IndexOf(" run=", StringComparison.Ordinal);
        if (r < 0) return null;
        var s = msg.IndexOf(" seq=", r + 5, StringComparison.Ordinal);
        if (s < 0 || s + 5 + SeqDigits > msg.Length) return null;
        if (!long.TryParse(msg.AsSpan(s + 5, SeqDigits), NumberStyles.None, CultureInfo.InvariantCulture, out var seq)) return null;
        return (msg[(r + 5)..s], seq);
    }

    /// <summary>Unique per sequence number within a run: multiplying by an odd constant is a bijection.</summary>
    private ulong ReqIdOf(long seq) => unchecked((ulong)seq * 0x9E3779B97F4A7C15UL) ^ _reqIdSalt;

    private static void WriteHex(Span<byte> digits, ulong value)
    {
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            digits[i] = (byte)"0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }

    private static void WriteDigits(Span<byte> digits, long value)
    {
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            digits[i] = (byte)('0' + (int)(value % 10));
            value /= 10;
        }
    }

    private Template Render(int index)
    {
        var random = new Random(unchecked(index * 7919 + 17));
        var hostIndex = index % Hosts;
        var kind = hostIndex % HostKinds.Length;
        var host = $"{HostKinds[kind]}-{hostIndex / HostKinds.Length + 1:D2}";
        var process = random.Next(10) == 0 ? SystemProcesses[random.Next(SystemProcesses.Length)] : ProcessOfKind[kind];
        var roll = random.Next(100);
        var level = roll < 5 ? "debug" : roll < 86 ? "info" : roll < 94 ? "warn" : "error";
        var head = MessageHead(process, level, random);

        var seqPlaceholder = new string('0', SeqDigits);
        string Build(string message) =>
            $"{{\"ts\":{new string('0', TsDigits)},\"host\":\"{host}\",\"process\":\"{process}\",\"level\":\"{level}\",\"type\":\"{Type}\",\"msg\":\"{message}\",\"req_id\":\"{new string('0', ReqIdDigits)}\"}}";
        string Core(string h) => $"{h} run={RunId} seq={seqPlaceholder}";

        var over = Build(Core(head)).Length - EventSize;
        if (over > 0 && head.Length > MinHeadLength)
        {
            var keep = Math.Max(MinHeadLength, head.Length - over);
            var space = head.LastIndexOf(' ', keep - 1);
            head = space >= MinHeadLength && space > keep / 2 ? head[..space] : head[..keep].TrimEnd();
        }
        var msgCore = Core(head);
        var messageSeqOffset = msgCore.Length - SeqDigits;
        var baseLine = Build(msgCore);
        var message = msgCore;
        if (baseLine.Length < EventSize)
        {
            var padLength = EventSize - baseLine.Length;
            var pad = new StringBuilder(padLength);
            var start = random.Next(Filler.Length);
            if (padLength < 12) pad.Append(padLength == 1 ? "." : " " + new string('.', padLength - 1)); // a few bytes: an ellipsis
            while (pad.Length < padLength)
            {
                var take = Math.Min(padLength - pad.Length, Filler.Length - start);
                pad.Append(Filler, start, take);
                start = 0;
            }
            if (pad[0] != ' ') pad[0] = ' ';
            if (pad[^1] == ' ') pad[^1] = '.';
            message = msgCore + pad;
        }
        var line = Build(message);
        var tsOffset = "{\"ts\":".Length;
        var msgStart = line.IndexOf("\"msg\":\"", StringComparison.Ordinal) + "\"msg\":\"".Length;
        return new Template(
            Encoding.ASCII.GetBytes(line),
            tsOffset,
            msgStart + messageSeqOffset,
            line.Length - 2 - ReqIdDigits,
            message,
            messageSeqOffset);
    }

    private static string MessageHead(string process, string level, Random r)
    {
        var n = r.Next(1000, 99999);
        var ms = level is "error" ? r.Next(900, 30000) : level is "warn" ? r.Next(250, 2000) : r.Next(1, 120);
        string Pick(params string[] options) => options[r.Next(options.Length)];
        return (process, level) switch
        {
            ("nginx", "error") => $"{Pick("GET", "POST")} /api/orders/{n} 502 {ms}ms upstream prematurely closed connection while reading response header",
            ("nginx", "warn") => $"GET /api/products/{n} 404 {ms}ms",
            ("nginx", _) => $"{Pick("GET", "GET", "POST", "PUT", "DELETE")} {Pick($"/api/orders/{n}", $"/api/users/{n}/cart", $"/static/app.{n:x}.js", "/healthz")} {Pick("200", "200", "201", "204", "304")} {ms}ms",
            ("orders-api", "error") => $"payment provider timeout for order {n} after {ms}ms, will retry",
            ("orders-api", "warn") => $"slow query orders_by_user took {ms}ms",
            ("orders-api", "debug") => $"cache miss key=order:{n}",
            ("orders-api", _) => $"order {n} placed by user {r.Next(1, 50000)} total={r.Next(5, 900)}.{r.Next(100):D2} EUR in {ms}ms",
            ("postgres", "error") => $"deadlock detected: process {r.Next(100, 65000)} waits for ShareLock on transaction {n}",
            ("postgres", "warn") => $"checkpoints are occurring too frequently ({r.Next(5, 30)} seconds apart)",
            ("postgres", _) => $"duration: {ms}.{r.Next(1000):D3} ms statement: SELECT id, status FROM orders WHERE id = {n}",
            ("billing-worker", "error") => $"job invoice-{n} failed: connection reset by peer (attempt {r.Next(1, 5)}/5)",
            ("billing-worker", "warn") => $"job invoice-{n} took {ms}ms, over the 200ms budget",
            ("billing-worker", _) => $"job invoice-{n} completed in {ms}ms",
            ("redis", "error") => "MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk",
            ("redis", "warn") => $"evicted {r.Next(10, 5000)} keys under memory pressure",
            ("redis", _) => $"{Pick("DB saved on disk", $"Background saving started by pid {r.Next(100, 65000)}", $"{r.Next(1, 100)} changes in 60 seconds. Saving...")}",
            ("sshd", "error" or "warn") => $"Failed password for invalid user admin from 203.0.113.{r.Next(1, 255)} port {r.Next(1024, 65535)} ssh2",
            ("sshd", _) => $"Accepted publickey for deploy from 10.0.{r.Next(256)}.{r.Next(256)} port {r.Next(1024, 65535)} ssh2",
            ("cron", _) => $"(root) CMD (/usr/local/bin/rotate-logs.sh --keep {r.Next(3, 30)})",
            ("kernel", "error") => $"Out of memory: Killed process {r.Next(100, 65000)} (java) total-vm:{n}kB",
            ("kernel", _) => "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
            _ => $"event {n}",
        };
    }

    private sealed record Template(byte[] Line, int TsOffset, int MsgSeqOffset, int ReqIdOffset, string Message, int MessageSeqOffset);
}
