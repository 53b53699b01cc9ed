using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TopicNames = NeverwinterDP.Protocol.TopicNames;
using TypedLogSchema = NeverwinterDP.Protocol.TypedLogSchema;
using TypedSchemaException = NeverwinterDP.Protocol.TypedSchemaException;

namespace NeverwinterDP.Host.Cli.Ops;

/// <summary>
/// <c>nwdp schema list|get|set</c>: the schema registry, through its Confluent REST API (a node's, at
/// <c>http://HOST:PORT/schemas</c>, or any Confluent-compatible one). A log type's subject is
/// <c>nwdp.logs.&lt;type&gt;-value</c> (Confluent's TopicNameStrategy for its topic).
/// Exit 0, 1 when the registry cannot be reached or refuses (e.g. 409: incompatible), 2 for usage errors.
/// </summary>
public static class SchemaVerbs
{
    /// <summary>Where the verbs look when given no <c>--registry</c> nor <c>NWDP_SCHEMA_REGISTRY</c>: a node on its default HTTP endpoint.</summary>
    public const string DefaultRegistry = "http://127.0.0.1:8080/schemas";

    private const string ContentType = "application/vnd.schemaregistry.v1+json";

    private static readonly Option<string?> Registry = Flags.Text("--registry",
        $"schema registry URL (default: env NWDP_SCHEMA_REGISTRY, else {DefaultRegistry}; a node prints it as schemas=URL)", "URL");
    private static readonly Option<string?> Type = Flags.Text("--type", "log type: subject nwdp.logs.<type>-value", "T");
    private static readonly Option<string?> Subject = Flags.Text("--subject", "the subject itself (instead of --type)", "SUBJECT");
    private static readonly Option<string?> Version = Flags.Text("--version", "version number or latest (default latest)", "V");
    private static readonly Option<bool> Json = Flags.Switch("--json", "print the registry's JSON answer as it is");

    public static IEnumerable<Command> Commands =>
    [
        Create("list", "Every subject of the registry with its versions and the id of its latest.", ListAsync, []),
        Create("get", "One version of a subject (the latest by default): its id and schema.", GetAsync, [Type, Subject, Version]),
        Create("set", "Register FILE.avsc as the next version of a log type's subject (or --subject); refused with the registry's\n" +
            "error when it is not compatible with the subject's earlier versions (409). With --type, FILE.avsc is the record of the\n" +
            "type's typed attributes (int, long, float, double, boolean, string, or a union with null): ingress then validates\n" +
            "and writes them typed.", SetAsync, [Type, Subject], "FILE.avsc"),
    ];

    private sealed record Call(ParseResult Args, HttpClient Http, TextWriter Out, bool Json, string? File, CancellationToken Cancellation);

    private sealed class RegistryException(string message) : Exception(message);

    private static Command Create(string name, string summary, Func<Call, Task<int>> body, Option[] options, string? file = null)
    {
        var command = new Command(name, summary);
        foreach (var option in options.Append(Registry).Append(Json)) command.Options.Add(option);
        Argument<string?>? argument = null;
        if (file is not null)
        {
            argument = new Argument<string?>("file") { HelpName = file, Arity = ArgumentArity.ExactlyOne };
            command.Arguments.Add(argument);
        }
        command.SetAction(async (args, cancellation) =>
        {
            var verb = CliApp.NameOf(args.CommandResult.Command);
            var url = args.GetValue(Registry) ?? Environment.GetEnvironmentVariable("NWDP_SCHEMA_REGISTRY") ?? DefaultRegistry;
            if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
                throw new CliUsageException($"flag '--registry' must be an http(s) URL, got '{url}'");
            using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue(ContentType));
            try
            {
                return await body(new Call(args, http, args.InvocationConfiguration.Output, args.GetValue(Json), argument is null ? null : args.GetValue(argument), cancellation));
            }
            catch (RegistryException e)
            {
                await args.InvocationConfiguration.Error.WriteLineAsync($"nwdp {verb}: {e.Message}");
                return 1;
            }
            catch (HttpRequestException e)
            {
                await args.InvocationConfiguration.Error.WriteLineAsync($"nwdp {verb}: the schema registry {baseAddress} cannot be reached: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> ListAsync(Call call)
    {
        var subjects = (await RequestAsync(call, HttpMethod.Get, "subjects")).AsArray().Select(s => (string)s!).ToList();
        var rows = new JsonArray();
        foreach (var subject in subjects)
        {
            var latest = await RequestAsync(call, HttpMethod.Get, $"subjects/{Uri.EscapeDataString(subject)}/versions/latest");
            var versions = await RequestAsync(call, HttpMethod.Get, $"subjects/{Uri.EscapeDataString(subject)}/versions");
            rows.Add(new JsonObject { ["subject"] = subject, ["versions"] = versions.DeepClone(), ["latest_id"] = latest["id"]!.DeepClone() });
        }
        if (call.Json)
        {
            await call.Out.WriteLineAsync(rows.ToJsonString());
            return 0;
        }
        if (rows.Count == 0)
        {
            await call.Out.WriteLineAsync("no subjects");
            return 0;
        }
        var width = Math.Max("SUBJECT".Length, subjects.Max(s => s.Length));
        var text = new StringBuilder($"{"SUBJECT".PadRight(width)}  {"VERSIONS",-12}  LATEST ID\n");
        foreach (var row in rows)
            text.Append($"{((string)row!["subject"]!).PadRight(width)}  {string.Join(",", row["versions"]!.AsArray().Select(v => (int)v!)),-12}  {(int)row["latest_id"]!}\n");
        await call.Out.WriteAsync(text.ToString());
        return 0;
    }

    private static async Task<int> GetAsync(Call call)
    {
        var subject = SubjectOf(call);
        var version = call.Args.GetValue(Version) ?? "latest";
        var answer = await RequestAsync(call, HttpMethod.Get, $"subjects/{Uri.EscapeDataString(subject)}/versions/{Uri.EscapeDataString(version)}");
        if (call.Json)
        {
            await call.Out.WriteLineAsync(answer.ToJsonString());
            return 0;
        }
        var schema = JsonNode.Parse((string)answer["schema"]!)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        await call.Out.WriteLineAsync($"{answer["subject"]} version {answer["version"]} id {answer["id"]}\n{schema}");
        return 0;
    }

    private static async Task<int> SetAsync(Call call)
    {
        var subject = SubjectOf(call);
        string schema;
        try
        {
            schema = await File.ReadAllTextAsync(call.File!, call.Cancellation);
        }
        catch (IOException e)
        {
            throw new CliUsageException($"cannot read '{call.File}': {e.Message}");
        }
        // A log type's file is the record of its attributes: registered wrapped in the LogEvent envelope, which is what
        // ingress writes and what the type's records carry the id of (docs/schemas.md, typed log types).
        if (call.Args.GetValue(Type) is { Length: > 0 } type)
        {
            try
            {
                schema = TypedLogSchema.Wrap(type, schema);
            }
            catch (TypedSchemaException e)
            {
                throw new CliUsageException($"'{call.File}' is not a schema log type '{type}' (flag '--type') can have: {e.Message}");
            }
        }
        var answer = await RequestAsync(call, HttpMethod.Post, $"subjects/{Uri.EscapeDataString(subject)}/versions", new JsonObject { ["schema"] = schema });
        var found = await RequestAsync(call, HttpMethod.Post, $"subjects/{Uri.EscapeDataString(subject)}", new JsonObject { ["schema"] = schema });
        if (call.Json)
        {
            await call.Out.WriteLineAsync(found.ToJsonString());
            return 0;
        }
        await call.Out.WriteLineAsync($"{subject}: version {found["version"]}, id {answer["id"]}");
        return 0;
    }

    private static string SubjectOf(Call call) => (call.Args.GetValue(Type), call.Args.GetValue(Subject)) switch
    {
        ({ } type, null) => TopicNames.ForType(type) + "-value",
        (null, { } subject) => subject,
        (null, null) => throw new CliUsageException("give the log type (--type T) or the subject (--subject S)"),
        _ => throw new CliUsageException("give --type or --subject, not both"),
    };

    private static async Task<JsonNode> RequestAsync(Call call, HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, ContentType);
        using var response = await call.Http.SendAsync(request, call.Cancellation);
        var text = await response.Content.ReadAsStringAsync(call.Cancellation);
        JsonNode? json = null;
        try
        {
            json = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
        }
        if (!response.IsSuccessStatusCode)
            throw new RegistryException(json?["message"] is { } message
                ? $"{(int)response.StatusCode} (error {json["error_code"]}): {message}"
                : $"{(int)response.StatusCode} from {call.Http.BaseAddress}{path}: {text}");
        return json ?? throw new RegistryException($"{call.Http.BaseAddress}{path} did not answer JSON: {text}");
    }
}
