using System.Security.Cryptography;
using NeverwinterDP.Protocol;
using NeverwinterDP.Protocol.AtRest;
using Xunit;
using NeverwinterDP.Tests.TestKit;

namespace NeverwinterDP.Tests.Protocol;

/// <summary>The spill key ring on its own: key files, ids, sealing and what opening a record can say.</summary>
public sealed class SpillKeyRingTests
{
    internal static SpillKey NewKey(string name) => SpillKey.Parse(SpillKey.NewText(), "test " + name);

    [Fact]
    public void A_sealed_record_opens_with_its_key_and_hides_its_plaintext()
    {
        var key = NewKey("a");
        var ring = new SpillKeyRing(key, [], seals: true);
        var plaintext = "the plaintext of a spilled event"u8.ToArray();
        var first = ring.Seal(7, plaintext);
        var second = ring.Seal(7, plaintext);
        Assert.Equal(plaintext.Length + SpillKeyRing.Overhead, first.Length);
        Assert.NotEqual(first, second); // a random nonce per record
        Assert.Equal(-1, first.AsSpan().IndexOf("plaintext"u8));
        Assert.Equal((key.Id, (byte)7), (SpillKeyRing.KeyIdOf(first), SpillKeyRing.KindOf(first)));
        Assert.Equal(plaintext, ring.Open(first));
    }

    [Theory]
    [InlineData(1)]  // the kind (associated data)
    [InlineData(SpillKeyRing.HeaderBytes + 3)]  // the nonce
    [InlineData(SpillKeyRing.Overhead - 1)]  // the tag
    [InlineData(SpillKeyRing.Overhead + 5)]  // the ciphertext
    public void A_record_changed_anywhere_fails_authentication_under_its_own_key(int at)
    {
        var ring = new SpillKeyRing(NewKey("a"), [], seals: true);
        var sealedBytes = ring.Seal(2, new byte[40]);
        sealedBytes[at] ^= 0x01;
        var e = Assert.Throws<MalformedRecordException>(() => ring.Open(sealedBytes));
        Assert.Contains("fails authentication", e.Message);
    }

    [Fact]
    public void A_record_of_a_key_not_in_the_ring_is_a_key_problem_that_names_the_key_and_the_configured_ones()
    {
        var a = NewKey("a");
        var b = NewKey("b");
        var sealedBytes = new SpillKeyRing(a, [], seals: true).Seal(2, new byte[8]);
        var e = Assert.Throws<SpillKeyException>(() => new SpillKeyRing(b, [], seals: true).Open(sealedBytes));
        Assert.Contains(a.IdText, e.Message);
        Assert.Contains(b.IdText + " (test b)", e.Message);
        // Kept as an old key, it still opens what it sealed.
        Assert.Equal(new byte[8], new SpillKeyRing(b, [a], seals: true).Open(sealedBytes));
        Assert.Equal(new byte[8], new SpillKeyRing(a, [], seals: false).Open(sealedBytes));
    }

    [Fact]
    public void The_key_id_is_derived_from_the_key()
    {
        var text = SpillKey.NewText();
        Assert.Equal(SpillKey.Parse(text, "x").Id, SpillKey.Parse(" " + text.Trim() + "\r\n", "y").Id);
        Assert.NotEqual(SpillKey.Parse(text, "x").Id, NewKey("other").Id);
    }

    [Fact]
    public void Key_files_and_variables_that_are_missing_or_hold_no_key_are_errors_naming_them()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "missing.key");
        var e = Assert.Throws<SpillKeyException>(() => SpillKeyRing.Load(new SpillEncryptionOptions { Enabled = true, KeyFile = missing }, ("K", "V")));
        Assert.Contains(missing, e.Message);
        Assert.Contains("nwdp spill-key new", e.Message);

        var shortKey = Path.Combine(dir.Path, "short.key");
        File.WriteAllText(shortKey, Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        e = Assert.Throws<SpillKeyException>(() => SpillKeyRing.Load(new SpillEncryptionOptions { KeyFile = shortKey }, ("K", "V")));
        Assert.Contains(shortKey, e.Message);
        Assert.Contains("32 random bytes in base64", e.Message);

        e = Assert.Throws<SpillKeyException>(() => SpillKeyRing.Load(new SpillEncryptionOptions { OldKeyFiles = [missing] }, ("K", "V")));
        Assert.Contains(missing, e.Message);

        var variable = "NWDP_TEST_SPILL_KEY_" + Guid.NewGuid().ToString("N")[..8];
        e = Assert.Throws<SpillKeyException>(() => SpillKeyRing.Load(new SpillEncryptionOptions { Enabled = true, KeyVariable = variable }, ("K", "V")));
        Assert.Contains(variable, e.Message);
        e = Assert.Throws<SpillKeyException>(() => SpillKeyRing.Load(new SpillEncryptionOptions { Enabled = true }, ("the.key-file", "the.key-variable")));
        Assert.Contains("the.key-file", e.Message);

        Environment.SetEnvironmentVariable(variable, SpillKey.NewText());
        try
        {
            var ring = SpillKeyRing.Load(new SpillEncryptionOptions { Enabled = true, KeyVariable = variable }, ("K", "V"));
            Assert.True(ring.Seals);
            Assert.Equal("variable " + variable, ring.Current!.Source);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void A_key_file_others_may_read_is_told()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "spill.key");
        File.WriteAllText(file, SpillKey.NewText());
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.True(SpillKey.FromFile(file).FileReadableByOthers);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var key = SpillKey.FromFile(file);
        Assert.False(key.FileReadableByOthers);
        Assert.Equal(file, key.FilePath);
    }
}
