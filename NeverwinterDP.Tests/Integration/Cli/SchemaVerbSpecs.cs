using System.Text.Json;
using NeverwinterDP.Host.Node;
using NeverwinterDP.Tests.TestKit;
using Xunit;

namespace NeverwinterDP.Tests.Integration.Cli;

/// <summary><c>nwdp schema list|get|set</c> against the registry of an in-process node.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SchemaVerbSpecs
{
    [Fact]
    public async Task Set_registers_a_log_types_schema_get_and_list_show_it_and_an_incompatible_one_is_refused()
    {
        using var dir = new TempDir();
        await using var node = await InProcessNode.StartAsync(dir.Path);
        var registry = node.App.SchemaRegistryAddress()!.ToString();
        var v1 = Path.Combine(dir.Path, "web-v1.avsc");
        var v2 = Path.Combine(dir.Path, "web-v2.avsc");
        var bad = Path.Combine(dir.Path, "web-bad.avsc");
        await File.WriteAllTextAsync(v1, """{"type":"record","name":"Web","fields":[{"name":"status","type":"int"}]}""");
        await File.WriteAllTextAsync(v2, """{"type":"record","name":"Web","fields":[{"name":"status","type":"long"},{"name":"bytes","type":"long","default":0}]}""");
        await File.WriteAllTextAsync(bad, """{"type":"record","name":"Web","fields":[{"name":"status","type":"string"}]}""");

        var set1 = await Nwdp.RunAsync("schema", "set", "--type", "web", v1, "--registry", registry);
        Assert.True(set1.ExitCode == 0, set1.ToString());
        Assert.StartsWith("nwdp.logs.web-value: version 1, id ", set1.Stdout);
        var set2 = await Nwdp.RunAsync("schema", "set", "--type", "web", v2, "--registry", registry, "--json");
        Assert.True(set2.ExitCode == 0, set2.ToString());
        Assert.Equal(2, JsonDocument.Parse(set2.Stdout).RootElement.GetProperty("version").GetInt32());

        var refused = await Nwdp.RunAsync("schema", "set", "--type", "web", bad, "--registry", registry);
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("409 (error 409)", refused.Stderr);
        Assert.Contains("/status", refused.Stderr);

        var get = await Nwdp.RunAsync("schema", "get", "--type", "web", "--version", "1", "--registry", registry);
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.StartsWith("nwdp.logs.web-value version 1 id ", get.Stdout);
        Assert.Contains("\"int\"", get.Stdout);

        var list = await Nwdp.RunAsync("schema", "list", "--registry", registry);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(list.Lines, l => l.StartsWith("nwdp.logs.web-value ", StringComparison.Ordinal) && l.Contains(" 1,2 "));
        Assert.Contains(list.Lines, l => l.StartsWith("neverwinterdp.LogEvent ", StringComparison.Ordinal) && l.Contains(" 1,2 ") && l.EndsWith(" 1000000002"));

        var usage = await Nwdp.RunAsync("schema", "get", "--registry", registry);
        Assert.True(usage.ExitCode == 2, usage.ToString());
    }
}
