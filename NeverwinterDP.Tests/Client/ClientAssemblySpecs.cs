using System.Reflection;
using NeverwinterDP.Client;
using Xunit;

namespace NeverwinterDP.Tests.Client;

/// <summary>A service that embeds the EmitterClient gets the contract and Akka, nothing of the node.</summary>
public sealed class ClientAssemblySpecs
{
    private static readonly string[] NodeOnly = ["NeverwinterDP.Actors", "NeverwinterDP.Host", "Npgsql", "MySqlConnector", "Parquet", "Polly", "Confluent.Kafka"];

    [Fact]
    public void The_client_assembly_references_nothing_of_the_node()
    {
        var referenced = typeof(EmitterClient).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("NeverwinterDP.Protocol", referenced);
        foreach (var name in referenced)
            Assert.DoesNotContain(NodeOnly, n => name == n || name.StartsWith(n + ".", StringComparison.Ordinal));
    }

    [Fact]
    public void The_node_assemblies_do_not_reference_the_client()
    {
        foreach (var assembly in new[] { Assembly.Load("NeverwinterDP.Actors"), Assembly.Load("nwdp") })
            Assert.DoesNotContain(assembly.GetReferencedAssemblies(), a => a.Name == typeof(EmitterClient).Assembly.GetName().Name);
    }
}
