using System.Diagnostics;

namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// A certificate authority made with Debian's <c>openssl</c> at test time in a directory of the test (never committed):
/// EC P-256 keys, leaves for <c>127.0.0.1</c>/<c>localhost</c> that may serve and connect (nodes do both).
/// </summary>
public sealed class OpenSslCa
{
    private readonly string _dir;
    private readonly string _key;

    /// <param name="dir">Where the files go (the test's <see cref="TempDir"/>).</param>
    public OpenSslCa(string dir, string name)
    {
        _dir = dir;
        Name = name;
        var stem = FileStem(name);
        _key = Path.Combine(dir, stem + "-ca.key");
        CertificateFile = Path.Combine(dir, stem + "-ca.crt");
        Run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", _key, "-out", CertificateFile,
            "-days", "30", "-subj", $"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    }

    public string Name { get; }

    /// <summary>The CA's PEM certificate: what <c>ca</c> settings take.</summary>
    public string CertificateFile { get; }

    /// <summary>A leaf signed by this CA: its PEM certificate and PKCS#8 key (unencrypted).</summary>
    public (string Certificate, string Key) Issue(string name)
    {
        var stem = Path.Combine(_dir, FileStem(Name) + "-" + FileStem(name));
        var (key, csr, cert, ext) = (stem + ".key", stem + ".csr", stem + ".crt", stem + ".ext");
        File.WriteAllText(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
        Run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr, "-subj", $"/CN={name}");
        Run("x509", "-req", "-in", csr, "-CA", CertificateFile, "-CAkey", _key, "-CAcreateserial", "-out", cert, "-days", "10", "-extfile", ext);
        return (cert, key);
    }

    /// <summary>A leaf signed by this CA in a PKCS#12 file protected by <paramref name="password"/>.</summary>
    public string IssuePkcs12(string name, string password)
    {
        var (cert, key) = Issue(name);
        var p12 = Path.ChangeExtension(cert, ".p12");
        Run("pkcs12", "-export", "-in", cert, "-inkey", key, "-out", p12, "-passout", "pass:" + password);
        return p12;
    }

    private static string FileStem(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) ? c : '-'));

    private static void Run(params string[] args)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"openssl {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
    }
}
