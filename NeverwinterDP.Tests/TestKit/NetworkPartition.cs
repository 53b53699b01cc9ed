using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// Cuts one node's Akka remoting off from the other nodes on this machine with iptables rules, and removes them on
/// <see cref="Heal"/> / dispose. A node's remoting listener has a known port, but the connections it opens to the
/// others leave from ephemeral ports; so each node a test may cut runs under its own group id
/// (<c>setpriv --regid GID</c>, uid stays 0: <see cref="Prefix"/>), and the rules mark every connection a socket of the
/// cut node's group opens (<c>-m owner --gid-owner</c>, <c>CONNMARK</c>) and drop the packets, both ways, of the marked
/// connections to the other nodes' remoting ports and of every connection to or from the cut node's own remoting port.
/// Its other traffic (the Kafka broker, ingress, the admin API) still flows: the node is cut from the cluster, not
/// from the bus. The rules live in a chain of their own jumped to from OUTPUT (on loopback every packet passes OUTPUT
/// once, sent by one side or the other).
/// </summary>
public sealed class NetworkPartition : IDisposable
{
    private readonly string _chain = "nwdp-cut-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _mark = "0x" + Random.Shared.Next(0x1000, 0xffff).ToString("x", CultureInfo.InvariantCulture);
    private readonly Lock _gate = new();
    private bool _cut;

    /// <summary>The group id of member <paramref name="index"/> (its sockets are what <see cref="Cut"/> recognises).</summary>
    public int Gid(int index) => _gidBase + index;

    private readonly int _gidBase = Random.Shared.Next(40_000, 59_000);

    /// <summary>The command-line prefix that runs member <paramref name="index"/> under its group id.</summary>
    public IReadOnlyList<string> Prefix(int index) => ["setpriv", "--regid", Gid(index).ToString(CultureInfo.InvariantCulture), "--clear-groups", "--"];

    /// <summary>Why the rules cannot be made here (not root, no iptables or setpriv, no netfilter); null when they can.</summary>
    public static string? CannotCreate { get; } = Probe();

    /// <summary>
    /// Cuts member <paramref name="index"/>, whose remoting listens on <paramref name="port"/>, off from the remoting
    /// ports <paramref name="others"/>.
    /// </summary>
    public void Cut(int index, int port, IReadOnlyList<int> others)
    {
        lock (_gate)
        {
            if (_cut) throw new InvalidOperationException("already cut: one partition at a time");
            _cut = true;
            try
            {
                Iptables("-N", _chain);
                Iptables("-A", _chain, "-m", "owner", "--gid-owner", Gid(index).ToString(CultureInfo.InvariantCulture), "-j", "CONNMARK", "--set-mark", _mark);
                Iptables("-A", _chain, "-p", "tcp", "-m", "connmark", "--mark", _mark, "-m", "multiport", "--ports", string.Join(',', others), "-j", "DROP");
                Iptables("-A", _chain, "-p", "tcp", "-m", "multiport", "--ports", port.ToString(CultureInfo.InvariantCulture), "-j", "DROP");
                Iptables("-I", "OUTPUT", "1", "-j", _chain);
            }
            catch
            {
                Heal();
                throw;
            }
        }
    }

    /// <summary>Removes the rules (idempotent; what is not there is skipped).</summary>
    public void Heal()
    {
        lock (_gate)
        {
            if (!_cut) return;
            // Every jump to the chain, then the chain: a failed half-made cut leaves any subset.
            while (Run("iptables", "-D", "OUTPUT", "-j", _chain).Code == 0) { }
            Run("iptables", "-F", _chain);
            Run("iptables", "-X", _chain);
            _cut = Run("iptables", "-S", _chain).Code == 0;
            if (_cut) throw new InvalidOperationException($"iptables chain {_chain} could not be removed: {Run("iptables", "-S", _chain).Output}");
        }
    }

    public void Dispose() => Heal();

    private static void Iptables(params string[] args)
    {
        var (code, output) = Run("iptables", args);
        if (code != 0) throw new InvalidOperationException($"iptables {string.Join(' ', args)} failed ({code}): {output}");
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "iptables is Linux only";
        if (Run("id", "-u").Output.Trim() != "0") return "not root (id -u is not 0): iptables needs CAP_NET_ADMIN";
        try
        {
            if (Run("setpriv", "--version").Code != 0) return "'setpriv --version' failed (util-linux)";
            var chain = "nwdp-probe-" + Guid.NewGuid().ToString("N")[..8];
            var (code, output) = Run("iptables", "-N", chain);
            if (code != 0) return $"'iptables -N' failed ({code}): {output.Trim()}";
            // The matches and target the cut uses must exist in this kernel.
            var rule = Run("iptables", "-A", chain, "-m", "owner", "--gid-owner", "1", "-m", "connmark", "--mark", "0x1", "-j", "CONNMARK", "--set-mark", "0x1");
            Run("iptables", "-F", chain);
            Run("iptables", "-X", chain);
            return rule.Code == 0 ? null : $"iptables has no owner/connmark match or CONNMARK target here: {rule.Output.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"a command is missing ({e.Message}): install iptables and util-linux (scripts/services/netfilter.sh)";
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

/// <summary>A fact that needs <see cref="NetworkPartition"/>: skipped, with the reason, where its rules cannot be made.</summary>
public sealed class PartitionFactAttribute : FactAttribute
{
    public PartitionFactAttribute()
    {
        if (NetworkPartition.CannotCreate is { } why) Skip = "cannot cut a node off with iptables here: " + why;
    }
}
