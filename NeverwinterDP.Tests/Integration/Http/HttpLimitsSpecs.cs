using System.Net;
using System.Text;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Http;

/// <summary><c>nwdp.http.limits</c>: Kestrel's limits as the node sets them, seen from a client.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class HttpLimitsSpecs
{
    private static byte[] Get(string extraHeader = "") => Encoding.ASCII.GetBytes($"GET /healthz HTTP/1.1\r\nHost: nwdp\r\n{extraHeader}\r\n");

    [Fact]
    public async Task Headers_past_max_header_bytes_get_431_and_a_connection_past_max_connections_is_closed_until_one_goes()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path, overrides: new()
        {
            ["nwdp.pump.enabled"] = "off",
            ["nwdp.http.limits.max-header-bytes"] = "4KiB",
            ["nwdp.http.limits.max-connections"] = "3",
        });

        // Headers of 5 KiB: 431, the connection closed.
        await using (var big = await RawHttp.ConnectAsync(node.Http))
        {
            await big.SendAsync(Get($"X-Padding: {new string('p', 5 * 1024)}\r\n"));
            var answer = await big.ReadAsync();
            Assert.NotNull(answer);
            Assert.Equal(431, answer.Status);
        }

        // Three connections are served (each answers a request and stays open); a fourth is closed unanswered.
        var open = new List<RawHttp>();
        try
        {
            await Wait.UntilAsync(async () =>
            {
                // The 431 connection may still count for a moment after it closed: retry until three are served.
                foreach (var c in open) await c.DisposeAsync();
                open.Clear();
                for (var i = 0; i < 3; i++)
                {
                    var c = await RawHttp.ConnectAsync(node.Http);
                    open.Add(c);
                    await c.SendAsync(Get());
                    try
                    {
                        if ((await c.ReadAsync())?.Status != 200) return false;
                    }
                    catch (IOException)
                    {
                        return false;
                    }
                }
                return true;
            }, TimeSpan.FromSeconds(20), () => "three connections were not served");
            await using (var fourth = await RawHttp.ConnectAsync(node.Http))
                Assert.True(await fourth.ClosedByServerAsync(TimeSpan.FromSeconds(10)), "a fourth connection was kept open past max-connections = 3");

            // One goes: a new one is served again.
            await open[0].DisposeAsync();
            open.RemoveAt(0);
            await Wait.UntilAsync(async () =>
            {
                await using var again = await RawHttp.ConnectAsync(node.Http);
                await again.SendAsync(Get());
                try
                {
                    return (await again.ReadAsync())?.Status == 200;
                }
                catch (IOException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(20), () => "no connection was served after one of three closed");
        }
        finally
        {
            foreach (var c in open) await c.DisposeAsync();
        }
    }
}
