using System.Security.Cryptography;
using Akka.Configuration;
using NeverwinterDP.Host.Configuration;

namespace NeverwinterDP.Host.Security;

/// <summary>
/// The admin API's token when the operator set none (<c>nwdp.admin.token</c>, env <c>NWDP_ADMIN_TOKEN</c>): a random
/// one, made on first start and kept in <c>&lt;data-dir&gt;/admin.token</c> (mode 0600), where the CLI on the same
/// machine reads it. So the admin API always needs a token and the operator on the machine types none.
/// </summary>
public static class AdminToken
{
    public const string FileName = "admin.token";

    /// <summary>The token the admin API requires: the configured one, else the data directory's (made if missing).</summary>
    public static string Ensure(string dataDir, string? configured)
    {
        if (!string.IsNullOrEmpty(configured)) return configured;
        var path = Path.Combine(dataDir, FileName);
        if (Read(dataDir) is { } existing)
        {
            // Readable by others (copied, restored from a backup): only the node's user may read it.
            OwnerOnlyFile.RestrictToOwner(path);
            return existing;
        }
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        OwnerOnlyFile.WriteAtomically(path, token + "\n");
        return token;
    }

    /// <summary>The token kept in <paramref name="dataDir"/>; null when there is none (or it cannot be read).</summary>
    public static string? Read(string dataDir)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(dataDir, FileName)).Trim();
            return text.Length > 0 ? text : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The data directory the CLI looks in for the token: <paramref name="flag"/> (<c>--data</c>), else env
    /// <c>NWDP_DATA</c>, else <c>nwdp.node.data-dir</c> of the configuration file <c>nwdp run</c> reads by default:
    /// the directory a node started here with the same settings uses.
    /// </summary>
    public static string CliDataDir(string? flag)
    {
        if (!string.IsNullOrEmpty(flag)) return Path.GetFullPath(flag);
        if (Environment.GetEnvironmentVariable("NWDP_DATA") is { Length: > 0 } env) return Path.GetFullPath(env);
        var config = NodeConfig.Reference;
        try
        {
            if (File.Exists(NodeConfig.DefaultFile)) config = ConfigurationFactory.ParseString(File.ReadAllText(NodeConfig.DefaultFile)).WithFallback(config);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ConfigurationException)
        {
            // An unreadable file: the default directory, as if there were none.
        }
        return Path.GetFullPath(config.GetString("nwdp.node.data-dir"));
    }
}
