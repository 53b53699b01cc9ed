using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using NeverwinterDP.Host.Security;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp keys add|list|revoke</c>: the senders' API keys file (<c>nwdp.security.api-keys-file</c>), edited on the
/// machine that holds it. The node reads the file again within a second of a change, so no restart is needed. A new
/// key is printed once and never stored: the file holds its SHA-256.
/// </summary>
public static class KeysVerbs
{
    /// <summary>Exit code when the file or the key named is not there, or the name is taken.</summary>
    public const int NotDone = 1;

    private static readonly Option<string?> File = Flags.Text("--file", "the keys file: the node's nwdp.security.api-keys-file (required)", "PATH");
    private static readonly Option<string?> Types = Flags.Text("--types", "log types the key may write: globs with * and ?, comma-separated (default *)", "GLOBS");
    private static readonly Option<long?> EventsPerSecond = Flags.Long("--events-per-second", "rate limit of the key: events per second (default none)", "N", min: 1);
    private static readonly Option<string?> BytesPerSecond = Flags.Text("--bytes-per-second", "rate limit of the key: body bytes per second, e.g. 10MiB (default none)", "SIZE");
    private static readonly Option<bool> Json = Flags.Switch("--json", "print JSON");

    public static IReadOnlyList<Command> Commands { get; } =
    [
        Verb("add", "Add a sender's key: prints the new key once (only its SHA-256 is written to the file).\n" +
                    "Exit 0, 1 when the name is taken, 2 for usage errors.", true, [File, Types, EventsPerSecond, BytesPerSecond, Json], AddAsync),
        Verb("list", "List the keys: name, log types and rate limits (never the keys).\nExit 0, 1 when the file cannot be read, 2 for usage errors.",
            false, [File, Json], ListAsync),
        Verb("revoke", "Remove a sender's key: the node refuses it (401) within a second.\nExit 0, 1 when no key has that name, 2 for usage errors.",
            true, [File, Json], RevokeAsync),
    ];

    private static Command Verb(string name, string description, bool takesName, Option[] options, Func<ParseResult, string?, string, Task<int>> body)
    {
        var command = new Command(name, description);
        foreach (var option in options) command.Options.Add(option);
        Argument<string?>? argument = null;
        if (takesName)
        {
            argument = new Argument<string?>("name") { HelpName = "NAME", Arity = ArgumentArity.ExactlyOne };
            command.Arguments.Add(argument);
        }
        command.SetAction(async (parsed, _) =>
        {
            var file = parsed.GetValue(File) ?? throw new CliUsageException("flag '--file' is required (the node's nwdp.security.api-keys-file)");
            var keyName = argument is null ? null : parsed.GetValue(argument);
            if (keyName is not null && !ValidName(keyName))
                throw new CliUsageException($"NAME must be 1-64 letters, digits, '.', '_' or '-', got '{keyName}'");
            return await body(parsed, keyName, Path.GetFullPath(file));
        });
        return command;
    }

    private static bool ValidName(string name) => name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static async Task<int> AddAsync(ParseResult args, string? name, string file)
    {
        var types = (args.GetValue(Types) ?? "*").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (types.Length == 0 || types.Any(t => t.Any(char.IsWhiteSpace)))
            throw new CliUsageException("flag '--types' must be globs separated by commas, without spaces");
        long? bytes = null;
        if (args.GetValue(BytesPerSecond) is { } size)
            bytes = SenderKeys.ParseSize(size) ?? throw new CliUsageException($"flag '--bytes-per-second' must be a positive size (digits, optionally KiB, MiB or GiB), got '{size}'");
        var lines = ReadLines(file, mayBeMissing: true);
        if (lines.Any(l => l.Parsed?.Name == name))
        {
            args.InvocationConfiguration.Error.WriteLine($"nwdp keys add: a key named '{name}' is already in {file}; revoke it first");
            return NotDone;
        }
        var key = "nwdp_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var line = new SenderKeys.Line(name!, SenderKeys.Hash(key), types, new SenderRates(args.GetValue(EventsPerSecond), bytes));
        Write(file, lines.Select(l => l.Raw).Append(line.ToString()));
        var output = args.InvocationConfiguration.Output;
        if (args.GetValue(Json))
            await output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["name"] = name, ["key"] = key, ["types"] = types, ["events_per_second"] = line.Rates.EventsPerSecond, ["bytes_per_second"] = bytes,
            }));
        else
        {
            await output.WriteLineAsync(key);
            await args.InvocationConfiguration.Error.WriteLineAsync(
                $"nwdp keys add: key '{name}' added to {file} (types {string.Join(',', types)}{(line.Rates == default ? "" : ", " + line.Rates)}). " +
                "This is the only time the key is shown: give it to the sender ('Authorization: Bearer KEY' or 'X-Api-Key: KEY').");
        }
        return 0;
    }

    private static async Task<int> ListAsync(ParseResult args, string? _, string file)
    {
        if (!System.IO.File.Exists(file))
        {
            await args.InvocationConfiguration.Error.WriteLineAsync($"nwdp keys list: {file} does not exist");
            return NotDone;
        }
        var keys = ReadLines(file, mayBeMissing: false).Select(l => l.Parsed).OfType<SenderKeys.Line>().ToList();
        var output = args.InvocationConfiguration.Output;
        if (args.GetValue(Json))
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(keys.Select(k => new Dictionary<string, object?>
            {
                ["name"] = k.Name, ["types"] = k.Types, ["events_per_second"] = k.Rates.EventsPerSecond, ["bytes_per_second"] = k.Rates.BytesPerSecond,
            })));
            return 0;
        }
        if (keys.Count == 0)
        {
            await output.WriteLineAsync($"no keys in {file}");
            return 0;
        }
        var width = Math.Max(4, keys.Max(k => k.Name.Length));
        await output.WriteLineAsync($"{"NAME".PadRight(width)}  {"TYPES",-24}  {"EVENTS/S",-10}  BYTES/S");
        foreach (var k in keys)
            await output.WriteLineAsync($"{k.Name.PadRight(width)}  {string.Join(',', k.Types),-24}  {k.Rates.EventsPerSecond?.ToString() ?? "-",-10}  {k.Rates.BytesPerSecond?.ToString() ?? "-"}");
        return 0;
    }

    private static async Task<int> RevokeAsync(ParseResult args, string? name, string file)
    {
        var lines = ReadLines(file, mayBeMissing: false);
        if (!lines.Any(l => l.Parsed?.Name == name))
        {
            await args.InvocationConfiguration.Error.WriteLineAsync($"nwdp keys revoke: no key named '{name}' in {file}");
            return NotDone;
        }
        Write(file, lines.Where(l => l.Parsed?.Name != name).Select(l => l.Raw));
        if (args.GetValue(Json))
            await args.InvocationConfiguration.Output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object?> { ["name"] = name, ["revoked"] = true }));
        else await args.InvocationConfiguration.Error.WriteLineAsync($"nwdp keys revoke: key '{name}' removed from {file}; the node refuses it within a second");
        return 0;
    }

    /// <summary>The file's lines as they are (comments kept), each with what it says; a line that does not parse is an error naming it.</summary>
    private static List<(string Raw, SenderKeys.Line? Parsed)> ReadLines(string file, bool mayBeMissing)
    {
        if (!System.IO.File.Exists(file))
            return mayBeMissing ? [] : throw new CliUsageException($"flag '--file': {file} does not exist");
        var raw = System.IO.File.ReadAllLines(file);
        try
        {
            return raw.Select((l, i) => (l, SenderKeys.ParseLine(l, $"{file}:{i + 1}"))).ToList();
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"flag '--file': {e.Message}");
        }
    }

    /// <summary>Writes the file whole, readable by its owner only, renamed over the old one: the node never sees half a file.</summary>
    private static void Write(string file, IEnumerable<string> lines) =>
        OwnerOnlyFile.WriteAtomically(file, string.Concat(lines.Select(l => l + Environment.NewLine)));
}
