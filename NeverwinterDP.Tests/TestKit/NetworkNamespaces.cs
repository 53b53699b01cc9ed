using System.Diagnostics;
using Xunit;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// Two network namespaces joined by a veth pair (<c>ip netns add</c>, <c>ip link add ... type veth</c>), made for one
/// test and removed by its dispose: a link where multicast works and whose traffic never leaves the machine. Side A
/// is <see cref="AddressA"/> on <see cref="LinkA"/>, side B <see cref="AddressB"/> on <see cref="LinkB"/>; each has
/// its loopback up and the multicast range routed over the veth.
/// </summary>
public sealed class NetworkNamespaces : IDisposable
{
    public const string AddressA = "10.213.7.1", AddressB = "10.213.7.2";

    private NetworkNamespaces(string suffix)
    {
        A = "nwdp-test-" + suffix + "-a";
        B = "nwdp-test-" + suffix + "-b";
        LinkA = "nwa" + suffix;
        LinkB = "nwb" + suffix;
    }

    public string A { get; }
    public string B { get; }
    public string LinkA { get; }
    public string LinkB { get; }

    /// <summary>Why the namespaces cannot be made here (not root, no <c>ip</c>); null when they can.</summary>
    public static string? CannotCreate { get; } = Probe();

    public static NetworkNamespaces Create()
    {
        var made = new NetworkNamespaces(Guid.NewGuid().ToString("N")[..6]);
        try
        {
            Ip("netns", "add", made.A);
            Ip("netns", "add", made.B);
            Ip("link", "add", made.LinkA, "type", "veth", "peer", "name", made.LinkB);
            Ip("link", "set", made.LinkA, "netns", made.A);
            Ip("link", "set", made.LinkB, "netns", made.B);
            foreach (var (ns, link, address) in new[] { (made.A, made.LinkA, AddressA), (made.B, made.LinkB, AddressB) })
            {
                Ip("-n", ns, "addr", "add", address + "/24", "dev", link);
                Ip("-n", ns, "link", "set", link, "up");
                Ip("-n", ns, "link", "set", "lo", "up");
                Ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", link);
            }
            return made;
        }
        catch
        {
            made.Dispose();
            throw;
        }
    }

    /// <summary>The start of a command line that runs a program inside namespace <paramref name="ns"/>.</summary>
    public static ProcessStartInfo Exec(string ns, string file, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("ip") { WorkingDirectory = Path.GetTempPath() };
        foreach (var a in new[] { "netns", "exec", ns, file }.Concat(args)) info.ArgumentList.Add(a);
        foreach (var variable in new[] { "NWDP_DATA", "NWDP_HTTP", "NWDP_KAFKA", "NWDP_NODE_ID", "NWDP_NODE_PORT", "NWDP_SEEDS", "NWDP_ADMIN_TOKEN" }) info.Environment.Remove(variable);
        return info;
    }

    /// <summary><c>dotnet nwdp.dll ARGS</c> inside namespace <paramref name="ns"/>.</summary>
    public static ProcessStartInfo Nwdp(string ns, params string[] args) => Exec(ns, ChildProcess.DotnetHost(), [ChildProcess.NwdpDll, .. args]);

    public void Dispose()
    {
        // Deleting a namespace deletes the veth end in it, and with it its peer.
        Run("ip", "netns", "del", A);
        Run("ip", "netns", "del", B);
    }

    private static void Ip(params string[] args)
    {
        var (code, output) = Run("ip", args);
        if (code != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({code}): {output}");
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces are Linux only";
        if (Environment.UserName != "root" && Run("id", "-u").Output.Trim() != "0") return "not root (id -u is not 0): ip netns needs CAP_SYS_ADMIN";
        try
        {
            var (code, output) = Run("ip", "-V");
            return code == 0 ? null : "'ip -V' failed: " + output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "the 'ip' command (iproute2) is not installed";
        }
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output.Result + error);
    }
}

/// <summary>A fact that needs <see cref="NetworkNamespaces"/>: skipped, with the reason, where they cannot be made.</summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (NetworkNamespaces.CannotCreate is { } why) Skip = "cannot make network namespaces here: " + why;
    }
}
