using NeverwinterDP.Actors.Coverage;
using Xunit;

namespace NeverwinterDP.Tests.Coverage;

/// <summary>Which values of a key count as numbers (and so give its min and max): what parses as a finite invariant double.</summary>
public sealed class KeySketchTests
{
    [Fact]
    public void Finite_numbers_count_and_ids_infinities_and_text_do_not()
    {
        var key = new KeySketch(hllPrecision: 10, topValues: 20);
        foreach (var v in new[] { "12", "-3.5", "1e3", "+7", ".5", "12 ", "2E-2" }) key.Add(v, 1000);
        foreach (var v in new[] { "5f0c2b9e81d4a7c3", "0x1F", "-Infinity", "NaN", "1,000", "12ms", "", "1e", "9-9" }) key.Add(v, 1000);

        Assert.Equal(16, key.Present);
        Assert.Equal(7, key.Numeric);
        Assert.Equal(-3.5, key.Min);
        Assert.Equal(1000, key.Max);
    }
}
