using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace NeverwinterDP.Actors.Mirror;

/// <summary>
/// The headers a mirror adds to each record it copies. <c>nwdp.mirror.path</c> lists the sites the record passed
/// through, its origin first (<c>dc1,dc2</c>): a mirror never copies a record into a site on its path, so two sites
/// mirroring each other do not send records back and forth. <c>nwdp.mirror.source</c> is the last hop's lineage:
/// <c>site/topic/partition/offset</c>.
/// </summary>
public static class MirrorHeaders
{
    public const string Path = "nwdp.mirror.path";

    public const string Source = "nwdp.mirror.source";

    /// <summary>The sites the record passed through (empty for a record produced at its source).</summary>
    public static IReadOnlyList<string> PathOf(Headers? headers)
    {
        if (headers is null || !headers.TryGetLastBytes(Path, out var bytes) || bytes is null) return [];
        return Encoding.UTF8.GetString(bytes).Split(',', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Whether copying the record to <paramref name="targetSite"/> would send it where it already was.</summary>
    public static bool HasVisited(Headers? headers, string targetSite) => PathOf(headers).Contains(targetSite, StringComparer.Ordinal);

    /// <summary>
    /// The headers of the copy: the source's own, in order, without earlier mirror headers, then the path with the
    /// source site appended and this hop's lineage.
    /// </summary>
    public static Headers ForCopy(Headers? source, string sourceSite, string topic, int partition, long offset)
    {
        var copy = new Headers();
        var path = PathOf(source);
        if (source is not null)
        {
            foreach (var header in source)
            {
                if (header.Key is Path or Source) continue;
                copy.Add(header.Key, header.GetValueBytes());
            }
        }
        var newPath = path.Count > 0 && path[^1] == sourceSite ? path : [.. path, sourceSite];
        copy.Add(Path, Encoding.UTF8.GetBytes(string.Join(',', newPath)));
        copy.Add(Source, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{sourceSite}/{topic}/{partition}/{offset}")));
        return copy;
    }
}
