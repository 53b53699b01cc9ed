using System.Text;

namespace NeverwinterDP.Protocol;

/// <summary>Strict UTF-8 decoding: a body with invalid UTF-8 is not JSON, and we do not guess.</summary>
internal static class Utf8Text
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <exception cref="DecoderFallbackException">The bytes are not valid UTF-8.</exception>
    public static string Decode(ReadOnlySpan<byte> utf8) => utf8.IsEmpty ? "" : Strict.GetString(utf8);
}
