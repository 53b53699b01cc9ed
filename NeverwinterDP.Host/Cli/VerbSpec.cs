using System.Text;

namespace NeverwinterDP.Host.Cli;

/// <summary>One flag of a verb, as shown by <c>--help</c>.</summary>
public sealed record OptionSpec(string Name, string Help, string ValueName = "VALUE", bool IsSwitch = false, bool Repeatable = false, string? Alias = null);

/// <summary>
/// A verb of the <c>nwdp</c> executable: its name (may be two words, <c>cluster show</c>), what it does,
/// its flags and the code that runs it. Every verb gets <c>--help</c>.
/// </summary>
public sealed record VerbSpec(string Name, string Summary, IReadOnlyList<OptionSpec> Options, Func<CliArgs, CancellationToken, Task<int>> Run, string? Positionals = null)
{
    public static readonly OptionSpec Help = new("--help", "show this help", IsSwitch: true, Alias: "-h");

    /// <summary>
    /// The verb writing to the streams <see cref="CliApp.RunAsync"/> was given (tests capture them); when set,
    /// <c>CliApp</c> calls it instead of <see cref="Run"/>.
    /// </summary>
    public Func<CliArgs, TextWriter, TextWriter, CancellationToken, Task<int>>? RunWith { get; init; }

    public OptionSpec? Find(string name) =>
        name is "--help" or "-h" ? Help : Options.FirstOrDefault(o => o.Name == name || o.Alias == name);

    public string Usage()
    {
        var sb = new StringBuilder();
        sb.Append("Usage: nwdp ").Append(Name);
        if (Options.Count > 0) sb.Append(" [options]");
        if (Positionals is not null) sb.Append(' ').Append(Positionals);
        sb.AppendLine().AppendLine().AppendLine(Summary).AppendLine().AppendLine("Options:");
        foreach (var o in Options.Append(Help))
        {
            var left = (o.Alias is null ? "" : o.Alias + ", ") + o.Name + (o.IsSwitch ? "" : " " + o.ValueName);
            sb.Append("  ").Append(left.PadRight(30)).Append(' ').AppendLine(o.Help);
        }
        return sb.ToString();
    }
}
