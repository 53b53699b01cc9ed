using System.Diagnostics;
using NeverwinterDP.Actors.Ingress;
using NeverwinterDP.Actors.Schemas;
using NeverwinterDP.Protocol;
using NeverwinterDP.Tests.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace NeverwinterDP.Tests.TypedLogs;

/// <summary>
/// What a typed log type costs per event on the hot paths (ingress: validate, route and encode; the pump: decode),
/// beside the same events untyped. Printed, never asserted; the figures in docs/schemas.md come from here. Run:
/// <c>dotnet test -c Release --filter "FullyQualifiedName~TypedLogBenchmarks" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", TestCategories.Benchmark)]
public sealed class TypedLogBenchmarks(ITestOutputHelper output)
{
    private const int EventsPerBatch = 100;
    private const int Batches = 20_000;
    private const int Id = 1_500_000_301; // beyond any test registry's ids (the decoders' cache is process-wide)

    private const string Web = """
        {"type":"record","name":"Web","fields":[
          {"name":"status","type":"int"},{"name":"bytes","type":"long"},{"name":"latency_ms","type":"double"},
          {"name":"user","type":["null","string"],"default":null}]}
        """;

    [Fact]
    public void Cost_per_event_typed_and_untyped()
    {
        var store = new SchemaStore(CompatibilityLevel.Backward);
        var wrapped = TypedLogSchema.Wrap("web", Web);
        store.Apply(0, SchemaRecords.SchemaKey("nwdp.logs.web-value", 1), SchemaRecords.SchemaValue("nwdp.logs.web-value", 1, Id, SchemaStore.Canonical(wrapped), 0));
        var typed = new TypedLogTypes(store);
        using var lookup = TypedLogSchemas.AddLookup(id => id == Id ? wrapped : null);

        LogEvent[] Batch(string type) => Enumerable.Range(0, EventsPerBatch).Select(i => new LogEvent
        {
            Ts = 1_700_000_000_000 + i, SystemTs = 1_700_000_000_000 + i, Host = "web-" + i % 5, Ip = "10.0.0.1", Process = "nginx", Type = type,
            Message = "GET /index.html HTTP/1.1 200 " + i, Lineage = new Lineage("node-1", i),
            Attributes = new Dictionary<string, string>
            {
                ["status"] = "200", ["bytes"] = (1000 + i).ToString(), ["latency_ms"] = "12.5", ["user"] = "ann", ["path"] = "/index.html", ["agent"] = "curl/8",
            },
        }).ToArray();
        var web = Batch("web");
        var plain = Batch("plain");

        Step("validate (FirstInvalid), untyped type", () => typed.FirstInvalid(plain));
        Step("validate (FirstInvalid), typed type", () => typed.FirstInvalid(web));
        Step("route, key and encode, untyped type, no typed types", () => EventIngress.ToRecords(plain, null));
        Step("route, key and encode, untyped type, with typed types", () => EventIngress.ToRecords(plain, null, typed));
        Step("route, key and encode, typed type", () => EventIngress.ToRecords(web, null, typed));
        var plainFrames = EventIngress.ToRecords(plain, null, typed).Select(r => r.Message.Value).ToArray();
        var typedFrames = EventIngress.ToRecords(web, null, typed).Select(r => r.Message.Value).ToArray();
        Step("decode (DecodeFramed), LogEvent", () => { foreach (var f in plainFrames) LogEventAvro.DecodeFramed(f); });
        Step("decode (DecodeFramed), typed record", () => { foreach (var f in typedFrames) LogEventAvro.DecodeFramed(f); });
        output.WriteLine($"record size: LogEvent {plainFrames[0].Length} B, typed {typedFrames[0].Length} B");
    }

    private void Step(string name, Action step)
    {
        for (var i = 0; i < 2000; i++) step();
        GC.Collect();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Batches; i++) step();
        clock.Stop();
        var events = (double)Batches * EventsPerBatch;
        output.WriteLine($"{name,-60} {clock.Elapsed.TotalMicroseconds / events,6:F3} µs/event {(GC.GetAllocatedBytesForCurrentThread() - allocated) / events,7:F0} B/event");
    }
}
