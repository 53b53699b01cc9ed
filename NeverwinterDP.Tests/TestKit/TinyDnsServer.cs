using System.Net;
using System.Net.Sockets;
using Makaretu.Dns;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// A DNS server for tests on 127.0.0.1 and a free UDP port: answers SRV questions for the names it was given
/// (Makaretu.Dns writes the messages), NXDOMAIN for any other name. Counts the questions it was asked.
/// </summary>
public sealed class TinyDnsServer : IAsyncDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly Dictionary<string, List<SRVRecord>> _srv = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _questions;

    public TinyDnsServer()
    {
        _loop = Task.Run(ServeAsync);
    }

    public IPEndPoint Endpoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

    public int Questions => Volatile.Read(ref _questions);

    /// <summary>Adds an SRV record <paramref name="name"/> → <paramref name="target"/>:<paramref name="port"/>.</summary>
    public TinyDnsServer Srv(string name, string target, int port, ushort priority = 0, ushort weight = 0)
    {
        lock (_srv)
        {
            if (!_srv.TryGetValue(name, out var records)) _srv[name] = records = [];
            records.Add(new SRVRecord { Name = name, Target = target, Port = (ushort)port, Priority = priority, Weight = weight, TTL = TimeSpan.FromSeconds(30) });
        }
        return this;
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _udp.ReceiveAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            Interlocked.Increment(ref _questions);
            var request = new Message();
            request.Read(received.Buffer, 0, received.Buffer.Length);
            var response = request.CreateResponse();
            response.AA = true;
            foreach (var question in request.Questions)
            {
                lock (_srv)
                {
                    if (question.Type == DnsType.SRV && _srv.TryGetValue(question.Name.ToString().TrimEnd('.'), out var records))
                        response.Answers.AddRange(records);
                }
            }
            if (response.Answers.Count == 0) response.Status = MessageStatus.NameError;
            await _udp.SendAsync(response.ToByteArray(), received.RemoteEndPoint);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        await _loop;
        _stop.Dispose();
    }
}
