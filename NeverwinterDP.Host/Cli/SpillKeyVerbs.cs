using System.CommandLine;
using System.Text.Json;
using NeverwinterDP.Host.Security;
using NeverwinterDP.Protocol.AtRest;

namespace NeverwinterDP.Host.Cli;

/// <summary>
/// <c>nwdp spill-key new|id</c>: the keys that seal spilled batches at rest (<c>nwdp.spill.encryption</c>, the
/// EmitterClient's <c>SpillEncryption</c>). A key file holds 32 random bytes in base64; its id (derived from the key)
/// is what every sealed batch names, so <c>id</c> tells which file a log line's key id is.
/// </summary>
public static class SpillKeyVerbs
{
    /// <summary>Exit code when the file is there already (new) or is not a key (id).</summary>
    public const int NotDone = 1;

    private static readonly Option<string?> Out = Flags.Text("--out", "the key file to create (required; never overwritten), mode 0600", "PATH");
    private static readonly Option<bool> Json = Flags.Switch("--json", "print JSON");

    public static IReadOnlyList<Command> Commands { get; } = [New(), Id()];

    private static Command New()
    {
        var command = new Command("new", "Write a new random spill key (32 bytes, base64) to a file only its owner may read, and print its id.\n" +
                                         "Exit 0, 1 when the file exists, 2 for usage errors.") { Out, Json };
        command.SetAction(async (parsed, _) =>
        {
            var file = Path.GetFullPath(parsed.GetValue(Out) ?? throw new CliUsageException("flag '--out' is required (the key file to write)"));
            if (File.Exists(file))
            {
                await parsed.InvocationConfiguration.Error.WriteLineAsync($"nwdp spill-key new: {file} exists; a key file is never overwritten (batches sealed with it would be lost)");
                return NotDone;
            }
            OwnerOnlyFile.WriteAtomically(file, SpillKey.NewText());
            var key = SpillKey.FromFile(file);
            await Print(parsed, file, key, $"nwdp spill-key new: wrote {file} (mode 0600), key id {key.IdText}");
            return 0;
        });
        return command;
    }

    private static Command Id()
    {
        var path = new Argument<string>("file") { HelpName = "FILE", Arity = ArgumentArity.ExactlyOne };
        var command = new Command("id", "Print the id of the key in a spill key file (the id sealed batches and log lines name).\n" +
                                        "Exit 0, 1 when the file cannot be read or holds no key, 2 for usage errors.") { Json };
        command.Arguments.Add(path);
        command.SetAction(async (parsed, _) =>
        {
            var file = Path.GetFullPath(parsed.GetValue(path)!);
            SpillKey key;
            try
            {
                key = SpillKey.FromFile(file);
            }
            catch (SpillKeyException e)
            {
                await parsed.InvocationConfiguration.Error.WriteLineAsync("nwdp spill-key id: " + e.Message);
                return NotDone;
            }
            await Print(parsed, file, key, key.IdText);
            return 0;
        });
        return command;
    }

    private static Task Print(ParseResult parsed, string file, SpillKey key, string text) =>
        parsed.GetValue(Json)
            ? parsed.InvocationConfiguration.Output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object?> { ["file"] = file, ["key_id"] = key.IdText }))
            : parsed.InvocationConfiguration.Output.WriteLineAsync(text);
}
