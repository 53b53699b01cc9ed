using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NeverwinterDP.Actors.Sinks.ClickHouse;
using NeverwinterDP.Actors.Sinks.Elasticsearch;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.Framework;
using NeverwinterDP.Actors.Sinks.HBase;
using NeverwinterDP.Actors.Sinks.Hdfs;
using NeverwinterDP.Actors.Sinks.Hive;
using NeverwinterDP.Actors.Sinks.Sql;

namespace NeverwinterDP.Actors.Sinks.Catalog;

/// <summary>
/// The sink kinds this build knows: one registration line each. Instances are configured under
/// <c>nwdp.sinks.&lt;name&gt;</c> (<c>kind</c> defaults to the name); each kind's options come from
/// <c>FromSection</c> of its options record. A kind registered here needs a compliance test class
/// (<c>[SinkKind("...")]</c> on a <c>SinkComplianceSuite</c>), or a test fails.
/// </summary>
public static class SinkKinds
{
    public static IServiceCollection AddSinkKinds(this IServiceCollection services) => services
        .AddSinkKind("files", s => new FilesSink(FilesSinkOptions.FromSection(s), s.Name))
        .AddSinkKind("postgresql", s => new PostgreSqlSink(SqlSinkOptions.FromSection(s), s.Name))
        .AddSinkKind("mysql", s => new MySqlSink(SqlSinkOptions.FromSection(s), s.Name))
        .AddSinkKind("mariadb", s => new MySqlSink(SqlSinkOptions.FromSection(s), s.Name))
        .AddSinkKind("elasticsearch", s => new ElasticsearchSink(ElasticsearchSinkOptions.FromSection(s), s.Name))
        .AddSinkKind("hbase", s => new HBaseSink(HBaseSinkOptions.FromSection(s), s.Name))
        .AddSinkKind("hive", s => new HiveSink(HiveSinkOptions.FromSection(s), s.Name))
        .AddSinkKind("hdfs", s => new HdfsSink(HdfsSinkOptions.FromSection(s), s.Name))
        .AddSinkKind("clickhouse", s => new ClickHouseSink(ClickHouseSinkOptions.FromSection(s), s.Name));

    /// <summary>
    /// The sinks of a node: every kind above, the <see cref="SinkCatalog"/> of the instances configured in
    /// <paramref name="sinks"/> (<c>nwdp.sinks</c>), and their cached health checks for <c>/healthz</c>.
    /// </summary>
    /// <param name="completions">Whether hour completions are announced (<c>nwdp.watermarks.enabled</c>).</param>
    public static IServiceCollection AddSinks(this IServiceCollection services, Config? sinks, string dataDir, bool completions = true) => services
        .AddSinkKinds()
        .AddSingleton(new SinkCatalogSettings(sinks, dataDir, completions))
        .AddSingleton<SinkCatalog>()
        .AddSingleton(sp => new SinkHealthChecks(sp.GetRequiredService<SinkCatalog>(), sp.GetService<TimeProvider>() ?? TimeProvider.System));

    /// <summary>Registers a sink kind: one line per sink class. Instances come from <c>nwdp.sinks.&lt;name&gt;</c> with this <c>kind</c>.</summary>
    public static IServiceCollection AddSinkKind(this IServiceCollection services, string kind, Func<SinkSection, ISink> create) =>
        services.AddSingleton(new SinkKind(kind, create));
}
