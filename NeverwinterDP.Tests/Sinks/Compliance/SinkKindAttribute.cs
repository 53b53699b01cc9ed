namespace NeverwinterDP.Tests.Sinks.Compliance;

/// <summary>
/// The registered sink kinds (<c>AddSinkKind("files", ...)</c>) a <see cref="SinkComplianceSuite"/> subclass covers;
/// <see cref="SinkComplianceCoverageTests"/> fails for a registered kind no suite names.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SinkKindAttribute(params string[] kinds) : Attribute
{
    public IReadOnlyList<string> Kinds { get; } = kinds;
}
