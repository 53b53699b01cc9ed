namespace NeverwinterDP.Tests.TestKit;

/// <summary>A node id that is what the test says.</summary>
public sealed record FixedNodeIdentity(string Id) : NeverwinterDP.Actors.Ingress.INodeIdentity;
