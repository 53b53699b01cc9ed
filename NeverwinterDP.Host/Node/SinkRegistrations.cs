using NeverwinterDP.Actors.Sinks.Elasticsearch;
using NeverwinterDP.Actors.Sinks.Files;
using NeverwinterDP.Actors.Sinks.Hdfs;
using NeverwinterDP.Actors.Sinks.Sql;
using NeverwinterDP.Actors.Sinks.HBase;
using NeverwinterDP.Actors.Sinks.ClickHouse;
using NeverwinterDP.Actors.Sinks.Hive;

namespace NeverwinterDP.Host.Node;

/// <summary>
/// The sink kinds this build knows: one registration line each. Instances are configured under
/// <c>nwdp.sinks.&lt;name&gt;</c> (<c>kind</c> defaults to the name); see README "Writing a sink".
/// </summary>
public static class SinkRegistrations
{
    public static IServiceCollection AddSinks(this IServiceCollection services) => services
        .AddSinkKind("files", s => new FilesSink(FilesSinkOptions.FromConfig(s.Config, Path.Combine(s.DataDir, "sinks", s.Name)), s.Name))
        .AddSinkKind("postgresql", s => new PostgreSqlSink(SqlSinkOptions.FromConfig(s), s.Name))
        .AddSinkKind("mysql", s => new MySqlSink(SqlSinkOptions.FromConfig(s), s.Name))
        .AddSinkKind("mariadb", s => new MySqlSink(SqlSinkOptions.FromConfig(s), s.Name))
        .AddSinkKind("elasticsearch", s => new ElasticsearchSink(ElasticsearchSinkOptions.FromConfig(s), s.Name))
        .AddSinkKind("hbase", s => new HBaseSink(HBaseSinkOptions.FromConfig(s), s.Name))
        .AddSinkKind("hive", s => new HiveSink(HiveSinkOptions.FromConfig(s), s.Name))
        .AddSinkKind("hdfs", s => new HdfsSink(HdfsSinkOptions.FromConfig(s), s.Name))
        .AddSinkKind("clickhouse", s => new ClickHouseSink(ClickHouseSinkOptions.FromConfig(s), s.Name));

    /// <summary>Registers a sink kind: one line per sink class. Instances come from <c>nwdp.sinks.&lt;name&gt;</c> with this <c>kind</c>.</summary>
    public static IServiceCollection AddSinkKind(this IServiceCollection services, string kind, Func<NeverwinterDP.Actors.Sinks.Framework.SinkSection, NeverwinterDP.Actors.Sinks.ISink> create) =>
        services.AddSingleton(new SinkKind(kind, create));
}
