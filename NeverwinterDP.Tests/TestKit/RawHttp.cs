using System.Net.Sockets;
using System.Text;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// HTTP/1.1 over a bare socket, for what HttpClient will not send: pipelined requests, hand-made chunked bodies,
/// bodies trickled or abandoned half way, header values HttpClient refuses.
/// </summary>
public sealed class RawHttp : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawHttp(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

    public static async Task<RawHttp> ConnectAsync(Uri http)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(http.Host, http.Port);
        return new RawHttp(client);
    }

    /// <summary>The head of a POST to <paramref name="target"/> with the given headers (each "Name: value").</summary>
    public static byte[] Head(string target, params string[] headers) =>
        Encoding.Latin1.GetBytes($"POST {target} HTTP/1.1\r\nHost: localhost\r\n{string.Concat(headers.Select(h => h + "\r\n"))}\r\n");

    /// <summary>A whole request with a Content-Length body.</summary>
    public static byte[] Post(string target, byte[] body, params string[] headers) => [.. Head(target, [.. headers, $"Content-Length: {body.Length}"]), .. body];

    /// <summary><paramref name="body"/> as chunks of the given sizes (the last chunk takes the rest), then the terminator.</summary>
    public static byte[] Chunked(byte[] body, Random random)
    {
        var ms = new MemoryStream();
        var at = 0;
        while (at < body.Length)
        {
            var n = Math.Min(body.Length - at, 1 + random.Next(Math.Max(1, body.Length / 3 + 1)));
            var size = random.Next(4) == 0 ? n.ToString("X") : n.ToString("x");
            ms.Write(Encoding.ASCII.GetBytes(size + (random.Next(5) == 0 ? ";ext=1" : "") + "\r\n"));
            ms.Write(body, at, n);
            ms.Write("\r\n"u8);
            at += n;
        }
        ms.Write("0\r\n\r\n"u8);
        return ms.ToArray();
    }

    public async Task SendAsync(byte[] bytes, CancellationToken cancellation = default)
    {
        await _stream.WriteAsync(bytes, cancellation);
        await _stream.FlushAsync(cancellation);
    }

    /// <summary>Sends <paramref name="bytes"/> in pieces of <paramref name="piece"/> bytes, <paramref name="pause"/> apart.</summary>
    public async Task TrickleAsync(byte[] bytes, int piece, TimeSpan pause, CancellationToken cancellation = default)
    {
        for (var at = 0; at < bytes.Length; at += piece)
        {
            await SendAsync(bytes[at..Math.Min(bytes.Length, at + piece)], cancellation);
            if (at + piece < bytes.Length) await Task.Delay(pause, cancellation);
        }
    }

    /// <summary>The next response, or null when the server closed the connection before one started.</summary>
    public async Task<Response?> ReadAsync(CancellationToken cancellation = default)
    {
        var statusLine = await ReadLineAsync(cancellation);
        if (statusLine is null) return null;
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal)) throw new InvalidDataException($"not a status line: '{statusLine}'");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (await ReadLineAsync(cancellation) is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':');
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        var body = new MemoryStream();
        if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (true)
            {
                var sizeLine = await ReadLineAsync(cancellation) ?? throw new EndOfStreamException("connection closed inside a chunked response");
                var size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    while (await ReadLineAsync(cancellation) is { Length: > 0 }) { }
                    break;
                }
                await ReadExactlyAsync(body, size, cancellation);
                await ReadLineAsync(cancellation);
            }
        }
        else if (headers.TryGetValue("Content-Length", out var cl))
        {
            await ReadExactlyAsync(body, int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture), cancellation);
        }
        return new Response(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), headers, Encoding.UTF8.GetString(body.ToArray()));
    }

    /// <summary>True once the server closed its side (reads 0 bytes), waiting at most <paramref name="timeout"/>.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan timeout)
    {
        if (_end > _start) return false;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _stream.ReadAsync(_buffer, cts.Token) == 0;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<bool> FillAsync(CancellationToken cancellation)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int read;
        try
        {
            read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellation);
        }
        catch (IOException)
        {
            read = 0; // reset by the server: as a close
        }
        _end += read;
        return read > 0;
    }

    private async Task<string?> ReadLineAsync(CancellationToken cancellation)
    {
        while (true)
        {
            var at = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (at >= 0)
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, at - _start).TrimEnd('\r');
                _start = at + 1;
                return line;
            }
            if (!await FillAsync(cancellation)) return _end > _start ? throw new EndOfStreamException("connection closed inside a line") : null;
        }
    }

    private async Task ReadExactlyAsync(Stream into, int count, CancellationToken cancellation)
    {
        while (count > 0)
        {
            if (_end == _start && !await FillAsync(cancellation)) throw new EndOfStreamException($"connection closed with {count} bytes of the body missing");
            var n = Math.Min(count, _end - _start);
            into.Write(_buffer, _start, n);
            _start += n;
            count -= n;
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
