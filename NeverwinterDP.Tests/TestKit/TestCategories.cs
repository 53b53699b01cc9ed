namespace NeverwinterDP.Tests.TestKit;

/// <summary>
/// The <c>Category</c> trait values ./test.sh filters on. A test class that starts an in-process node, a cluster of
/// actor systems, the embedded Kafka broker, a process (nwdp, kcat) or a real server (PostgreSQL, MariaDB,
/// ClickHouse) is <see cref="Integration"/>: those run one class at a time. Everything else is a unit test and runs
/// in parallel with the others.
/// </summary>
public static class TestCategories
{
    public const string Integration = "Integration";

    /// <summary>Measures rather than checks; left out of ./test.sh, run on demand.</summary>
    public const string Benchmark = "Benchmark";
}
