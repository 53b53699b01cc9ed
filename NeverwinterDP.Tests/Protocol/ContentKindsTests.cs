using NeverwinterDP.Protocol;
using Xunit;

namespace NeverwinterDP.Tests.Protocol;

public class ContentKindsTests
{
    [Theory]
    [InlineData(null, ContentKind.Ndjson)]
    [InlineData("application/x-ndjson", ContentKind.Ndjson)]
    [InlineData("application/x-ndjson; charset=utf-8", ContentKind.Ndjson)]
    [InlineData("application/jsonlines", ContentKind.Ndjson)]
    [InlineData("text/plain", ContentKind.Ndjson)]
    [InlineData("application/json", ContentKind.Json)]
    [InlineData("Application/JSON; charset=UTF-8", ContentKind.Json)]
    [InlineData("application/vnd.api+json", ContentKind.Json)]
    [InlineData("application/msgpack", ContentKind.MessagePack)]
    [InlineData("application/x-msgpack", ContentKind.MessagePack)]
    public void A_content_type_names_the_body_kind(string? contentType, ContentKind kind)
    {
        Assert.Equal(kind, ContentKinds.FromContentType(contentType));
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData("multipart/form-data")]
    public void Other_content_types_are_not_supported(string contentType)
    {
        Assert.Null(ContentKinds.FromContentType(contentType));
    }

    [Theory]
    [InlineData("application/json", ContentKind.JsonSequence)]
    [InlineData("application/x-ndjson", ContentKind.Ndjson)]
    [InlineData("application/msgpack", ContentKind.MessagePack)]
    public void Fluent_Bit_json_is_a_sequence_of_values_and_the_rest_is_as_on_v1_events(string contentType, ContentKind kind)
    {
        Assert.Equal(kind, ContentKinds.FromFluentBitContentType(contentType));
    }
}
