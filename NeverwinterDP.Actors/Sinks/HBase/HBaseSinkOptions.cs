using System.Text.RegularExpressions;
using NeverwinterDP.Actors.Sinks.Framework;

namespace NeverwinterDP.Actors.Sinks.HBase;

/// <summary>
/// Settings of an HBase sink (through the HBase REST server, "Stargate"), HOCON <c>nwdp.sinks.&lt;name&gt;</c>:
/// <code>
/// nwdp.sinks.hbase {
///   kind = hbase
///   url = "http://hbase-rest:8080"    # required: the REST server
///   namespace = ""                    # optional HBase namespace (empty: the default namespace)
///   table = nwdp_logs                 # the table
///   column-family = e                 # the one column family every cell goes to
///   create-table = on                 # create the table (with the family) when it does not exist
///   row-key = "{type}|{reverse_ts}|{host}|{topic}|{partition}|{offset}"
///   max-rows-per-request = 1000       # rows in one batched PUT
///   request-timeout = 30s             # one HTTP request
///   max-cell-size = 10 MiB            # hbase.client.keyvalue.maxsize: larger cells are rejected here
/// }
/// </code>
/// </summary>
public sealed partial record HBaseSinkOptions
{
    /// <summary>HBase's default <c>hbase.client.keyvalue.maxsize</c>: 10 MiB.</summary>
    public const long DefaultMaxCellSize = 10L * 1024 * 1024;

    /// <summary><c>url</c>: the REST server, e.g. <c>http://host:8080</c>. Required.</summary>
    public required Uri Url { get; init; }

    /// <summary><c>namespace</c>: the HBase namespace of the table; empty for the <c>default</c> namespace.</summary>
    public string Namespace { get; init; } = "";

    /// <summary><c>table</c> (default <c>nwdp_logs</c>).</summary>
    public string Table { get; init; } = "nwdp_logs";

    /// <summary><c>column-family</c> (default <c>e</c>): short, because HBase stores it with every cell.</summary>
    public string ColumnFamily { get; init; } = "e";

    /// <summary><c>create-table</c> (default on): create the table when <c>GET /&lt;table&gt;/schema</c> answers 404.</summary>
    public bool CreateTable { get; init; } = true;

    /// <summary><c>row-key</c>: the row key template (<see cref="HBaseRowKeyTemplate"/>).</summary>
    public HBaseRowKeyTemplate RowKey { get; init; } = HBaseRowKeyTemplate.Parse(HBaseRowKeyTemplate.Default, "row-key");

    /// <summary><c>max-rows-per-request</c> (default 1000): a batch is sent as PUTs of at most this many rows.</summary>
    public int MaxRowsPerRequest { get; init; } = 1000;

    /// <summary><c>request-timeout</c> (default 30s): one HTTP request; a timeout is a transient error.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>max-cell-size</c> (default 10 MiB, HBase's <c>hbase.client.keyvalue.maxsize</c>): a record with a larger
    /// cell (as HBase measures it, key and value together) is rejected before it is sent. Set it to the cluster's value.
    /// </summary>
    public long MaxCellSize { get; init; } = DefaultMaxCellSize;

    /// <summary>The table as the REST server names it: <c>table</c> or <c>namespace:table</c>.</summary>
    public string QualifiedTable => Namespace.Length == 0 ? Table : $"{Namespace}:{Table}";

    /// <summary>Reads and checks an instance's section; every error names its key.</summary>
    public static HBaseSinkOptions FromSection(SinkSection s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var ns = s.GetString("namespace", "").Trim();
        if (ns.Length > 0 && !NamespacePattern().IsMatch(ns))
            throw new SinkConfigException(s.Key("namespace"), $"'{ns}' is not an HBase namespace (letters, digits and _ only)");
        var table = s.GetString("table", "nwdp_logs").Trim();
        if (!TablePattern().IsMatch(table))
            throw new SinkConfigException(s.Key("table"), $"'{table}' is not an HBase table name (letters, digits, _ - . and not starting with . or -)");
        var family = s.GetString("column-family", "e").Trim();
        if (!FamilyPattern().IsMatch(family))
            throw new SinkConfigException(s.Key("column-family"), $"'{family}' is not a usable column family (letters, digits, _ and -)");
        return new HBaseSinkOptions
        {
            Url = s.RequiredUri("url"),
            Namespace = ns,
            Table = table,
            ColumnFamily = family,
            CreateTable = s.GetBool("create-table", true),
            RowKey = HBaseRowKeyTemplate.Parse(s.GetString("row-key", HBaseRowKeyTemplate.Default), s.Key("row-key")),
            MaxRowsPerRequest = s.GetPositiveInt("max-rows-per-request", 1000),
            RequestTimeout = s.GetDuration("request-timeout", TimeSpan.FromSeconds(30)),
            MaxCellSize = s.GetBytes("max-cell-size", DefaultMaxCellSize),
        };
    }

    [GeneratedRegex("^[A-Za-z0-9_]+$")]
    private static partial Regex NamespacePattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]
    private static partial Regex TablePattern();

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex FamilyPattern();
}
