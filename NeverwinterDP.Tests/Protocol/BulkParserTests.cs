using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

public sealed class BulkParserTests
{
    [Theory]
    [InlineData("logs-nginx.access-default", "nginx.access")]
    [InlineData("logs-app-prod", "app")]
    [InlineData("filebeat-8.17.0", "filebeat")]
    [InlineData("filebeat-8.17.0-2025.01.02-000001", "filebeat")]
    [InlineData("logstash-2025.01.02", "logstash")]
    [InlineData("app-2025-01", "app")]
    [InlineData("app-20250102", "app")]
    [InlineData("orders", "orders")]
    [InlineData("2025.01.02", "2025.01.02")]
    public void The_type_of_an_index_drops_data_stream_parts_dates_versions_and_rollover_numbers(string index, string type) =>
        Assert.Equal(type, BulkParser.TypeOfIndex(index));

    [Fact]
    public void A_source_keeps_its_own_type_over_the_indexs()
    {
        var context = new IngressContext(null, "h", "1.2.3.4", "node", 1_700_000_000_000);
        var body = "{\"create\":{\"_index\":\"logs-a-default\"}}\n{\"message\":\"m\",\"type\":\"own\"}\n{\"create\":{\"_index\":\"logs-a-default\"}}\n{\"message\":\"n\"}\n"u8;

        var result = BulkParser.Parse(body, null, context, () => "id");

        Assert.True(result.Parsed.IsSuccess);
        Assert.Equal(["own", "a"], result.Parsed.Events.Select(e => e.Type));
    }
}
