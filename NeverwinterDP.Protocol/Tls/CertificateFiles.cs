using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NeverwinterDP.Protocol.Tls;

/// <summary>The settings a certificate is read from, by the names an error message gives them (keys, flags or properties).</summary>
public sealed record CertificateSettings(string Certificate, string Key, string Password);

/// <summary>
/// Certificates and CA bundles from files, for every TLS this project speaks (ingress and admin listeners, the CLI's
/// client certificate, Akka remoting): one way to read them, and errors that name the setting at fault.
/// </summary>
public static class CertificateFiles
{
    /// <summary>
    /// A certificate with its private key: a PKCS#12 file (<c>.p12</c>, <c>.pfx</c>; no key file), or a PEM certificate
    /// (chain) with its PEM key (encrypted when <paramref name="password"/> is given).
    /// </summary>
    /// <param name="pkcs12Flags">How a PKCS#12 file's key is kept (remoting exports it again: <see cref="X509KeyStorageFlags.Exportable"/>).</param>
    /// <exception cref="ArgumentException">A file is missing, unreadable, or does not hold a certificate with its key.</exception>
    public static X509Certificate2 Load(string certFile, string? keyFile, string? password, CertificateSettings settings,
        X509KeyStorageFlags pkcs12Flags = X509KeyStorageFlags.DefaultKeySet)
    {
        if (!File.Exists(certFile)) throw new ArgumentException($"{settings.Certificate}: {certFile} does not exist");
        X509Certificate2 certificate;
        if (Path.GetExtension(certFile).ToLowerInvariant() is ".pfx" or ".p12")
        {
            try
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(certFile, password, pkcs12Flags);
            }
            catch (CryptographicException e)
            {
                throw new ArgumentException($"{settings.Certificate}: {certFile} cannot be opened: the password ({settings.Password}) is wrong or the file is not PKCS#12 ({e.Message})", e);
            }
        }
        else
        {
            var key = keyFile ?? throw new ArgumentException($"{settings.Key} must be set with a PEM certificate ({settings.Certificate}: {certFile}); or give a PKCS#12 file (.p12, .pfx)");
            if (!File.Exists(key)) throw new ArgumentException($"{settings.Key}: {key} does not exist");
            try
            {
                using var pem = password is null
                    ? X509Certificate2.CreateFromPemFile(certFile, key)
                    : X509Certificate2.CreateFromEncryptedPemFile(certFile, password, key);
                // A PEM key is ephemeral; SslStream wants a certificate whose key it can use on every platform.
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null, pkcs12Flags);
            }
            catch (CryptographicException e)
            {
                var why = password is null ? "" : $" or the password ({settings.Password}) is wrong";
                throw new ArgumentException($"{settings.Key}: {key} is not the PEM private key of {certFile}{why} ({e.Message})", e);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{settings.Certificate}: {certFile} with {key} does not load ({e.Message})", e);
            }
        }
        if (!certificate.HasPrivateKey) throw new ArgumentException($"{settings.Certificate}: {certFile} has no private key");
        return certificate;
    }

    /// <summary>The CA certificates of a PEM bundle.</summary>
    /// <param name="setting">Names the setting in messages.</param>
    /// <exception cref="ArgumentException">The file is missing, unreadable or holds no PEM certificate.</exception>
    public static X509Certificate2Collection LoadCaBundle(string file, string setting)
    {
        if (!File.Exists(file)) throw new ArgumentException($"{setting}: {file} does not exist");
        var cas = new X509Certificate2Collection();
        try
        {
            cas.ImportFromPemFile(file);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"{setting}: {file} is not a PEM bundle of certificates ({e.Message})", e);
        }
        return cas.Count > 0 ? cas : throw new ArgumentException($"{setting}: {file} holds no PEM certificate");
    }
}
