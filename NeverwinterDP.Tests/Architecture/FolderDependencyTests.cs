using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.Architecture;

/// <summary>
/// Folders are concepts and their dependencies point one way: a folder's files may use lower folders, never a
/// sibling that uses them back. Read from the sources (the namespaces a file names in its usings and fully
/// qualified references), so the test needs no analyzer and says which files close a cycle.
/// </summary>
public sealed partial class FolderDependencyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("NeverwinterDP.Actors")]
    [InlineData("NeverwinterDP.Host")]
    [InlineData("NeverwinterDP.Protocol")]
    [InlineData("NeverwinterDP.Client")]
    public void No_folder_of_a_project_uses_a_folder_that_uses_it_back(string project)
    {
        var graph = Graph(project);
        foreach (var (from, tos) in graph.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            output.WriteLine($"{from} -> {string.Join(", ", tos.Keys.Order(StringComparer.Ordinal))}");
        var cycles = Cycles(graph.ToDictionary(kv => kv.Key, kv => (IReadOnlyCollection<string>)kv.Value.Keys));
        Assert.True(cycles.Count == 0, "folder cycles: " + string.Join("; ", cycles.Select(c =>
            string.Join(" <-> ", c) + " (" + string.Join(", ", c.SelectMany(a => c.Where(b => graph[a].ContainsKey(b)).Select(b => $"{a}->{b} in {graph[a][b]}"))) + ")")));
    }

    [Fact]
    public void A_cycle_is_found_and_named()
    {
        var cycles = Cycles(new Dictionary<string, IReadOnlyCollection<string>> { ["A"] = ["B"], ["B"] = ["C"], ["C"] = ["A"], ["D"] = ["A"] });
        var cycle = Assert.Single(cycles);
        Assert.Equal(["A", "B", "C"], cycle.Order());
    }

    /// <summary>
    /// The folder a namespace stands for: its first segment under the project, except inside Sinks (one folder per
    /// sink kind, plus Framework, Catalog, PartFiles, Formats) and Kafka (one library, its own subfolders).
    /// </summary>
    private static string FolderOf(string root, string project, string name)
    {
        if (name == project) return "(root)";
        var segments = name[(project.Length + 1)..].Split('.');
        if (!Directory.Exists(Path.Combine(root, segments[0]))) return "(root)"; // a type of the project's root namespace
        return segments[0] == "Sinks" && segments.Length > 1 && Directory.Exists(Path.Combine(root, "Sinks", segments[1])) ? "Sinks." + segments[1] : segments[0];
    }

    /// <summary>Folder -> folders it uses -> one file that does (for the message).</summary>
    private static Dictionary<string, Dictionary<string, string>> Graph(string project)
    {
        var root = Path.Combine(RepositoryRoot(), project);
        var graph = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            if (relative.StartsWith("obj" + Path.DirectorySeparatorChar) || relative.StartsWith("bin" + Path.DirectorySeparatorChar)) continue;
            var text = File.ReadAllText(file);
            if (NamespaceLine().Match(text) is not { Success: true } declared) continue;
            var from = FolderOf(root, project, declared.Groups[1].Value);
            if (!graph.TryGetValue(from, out var edges)) graph[from] = edges = new(StringComparer.Ordinal);
            foreach (Match used in Referenced().Matches(text))
            {
                var name = used.Value;
                if (!name.StartsWith(project + ".", StringComparison.Ordinal)) continue;
                var to = FolderOf(root, project, name);
                if (to != from && to != "(root)") edges.TryAdd(to, relative);
            }
        }
        return graph;
    }

    /// <summary>Every strongly connected component of more than one folder (Tarjan), each as its folders.</summary>
    private static List<List<string>> Cycles(IReadOnlyDictionary<string, IReadOnlyCollection<string>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<List<string>>();
        var next = 0;

        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph.TryGetValue(v, out var ws) ? ws : [])
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do
            {
                x = stack.Pop();
                onStack.Remove(x);
                component.Add(x);
            } while (x != v);
            if (component.Count > 1) result.Add(component.OrderBy(c => c, StringComparer.Ordinal).ToList());
        }

        foreach (var v in graph.Keys.Order(StringComparer.Ordinal))
            if (!index.ContainsKey(v)) Visit(v);
        return result;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NeverwinterDP.sln"))) return dir.FullName;
        throw new InvalidOperationException("NeverwinterDP.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    /// <summary>Names a file uses: <c>using X;</c>, <c>using A = X.Type;</c>, and fully qualified <c>NeverwinterDP.X.Y.Type</c> in code.</summary>
    [GeneratedRegex(@"\bNeverwinterDP(?:\.\w+)+")]
    private static partial Regex Referenced();
}
