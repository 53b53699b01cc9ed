using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Configuration;

namespace NeverwinterDP.Actors.Sinks.Framework;

/// <summary>A sink's configuration is wrong: the message names the HOCON key.</summary>
public sealed class SinkConfigException(string key, string problem) : Exception($"{key}: {problem}")
{
    public string Key { get; } = key;
}

/// <summary>
/// The configuration of one sink instance, HOCON <c>nwdp.sinks.&lt;name&gt;</c>. Several instances of one kind
/// may exist (<c>kind = postgresql</c> under two names). Typed getters fail with a <see cref="SinkConfigException"/>
/// that names the full key, so a bad value stops the node at start with a message an operator can act on.
/// </summary>
public sealed class SinkSection
{
    public SinkSection(string name, Config? config, string dataDir)
    {
        Name = name;
        Config = config ?? ConfigurationFactory.Empty;
        DataDir = dataDir;
        Kind = Config.GetString("kind", name);
        Enabled = GetBool("enabled", true);
        var topics = GetString("topics", @"^nwdp\.logs\..*");
        try
        {
            _ = new Regex(topics);
        }
        catch (ArgumentException e)
        {
            throw new SinkConfigException(Key("topics"), $"not a regular expression: {e.Message}");
        }
        Topics = topics;
    }

    /// <summary>The instance's name (the key under <c>nwdp.sinks</c>): metrics, consumer group and dead-letter topic use it.</summary>
    public string Name { get; }

    /// <summary><c>kind</c>: which sink class (defaults to the name, so <c>nwdp.sinks.files {}</c> is a files sink).</summary>
    public string Kind { get; }

    /// <summary><c>enabled</c> (default on).</summary>
    public bool Enabled { get; }

    /// <summary><c>topics</c>: a regular expression of the topics this instance reads (default all log topics).</summary>
    public string Topics { get; }

    public Config Config { get; }

    /// <summary>The node's data directory (sinks that keep local files put them under <c>&lt;data&gt;/sinks/&lt;name&gt;</c>).</summary>
    public string DataDir { get; }

    public string Key(string key) => $"nwdp.sinks.{Name}.{key}";

    public bool Has(string key) => Config.HasPath(key);

    public string GetString(string key, string fallback) => Config.GetString(key, fallback) ?? fallback;

    public string RequiredString(string key)
    {
        var v = Config.GetString(key, "");
        return string.IsNullOrWhiteSpace(v) ? throw new SinkConfigException(Key(key), "is required") : v;
    }

    public Uri RequiredUri(string key)
    {
        var v = RequiredString(key);
        return Uri.TryCreate(v, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new SinkConfigException(Key(key), $"must be an http(s) URL, got '{v}'");
    }

    public bool GetBool(string key, bool fallback)
    {
        try
        {
            return Config.GetBoolean(key, fallback);
        }
        catch (Exception e) when (e is not SinkConfigException)
        {
            throw new SinkConfigException(Key(key), $"must be on or off, got '{Config.GetString(key)}'");
        }
    }

    public int GetPositiveInt(string key, int fallback)
    {
        if (!Config.HasPath(key)) return fallback;
        var text = Config.GetString(key);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : throw new SinkConfigException(Key(key), $"must be a positive whole number, got '{text}'");
    }

    public TimeSpan GetDuration(string key, TimeSpan fallback)
    {
        if (!Config.HasPath(key)) return fallback;
        try
        {
            var v = Config.GetTimeSpan(key, fallback);
            return v > TimeSpan.Zero ? v : throw new SinkConfigException(Key(key), $"must be a positive duration, got '{Config.GetString(key)}'");
        }
        catch (Exception e) when (e is not SinkConfigException)
        {
            throw new SinkConfigException(Key(key), $"must be a duration such as 5s or 200ms, got '{Config.GetString(key)}'");
        }
    }

    public long GetBytes(string key, long fallback)
    {
        if (!Config.HasPath(key)) return fallback;
        try
        {
            var v = Config.GetByteSize(key) ?? fallback;
            return v > 0 ? v : throw new SinkConfigException(Key(key), $"must be a positive size, got '{Config.GetString(key)}'");
        }
        catch (Exception e) when (e is not SinkConfigException)
        {
            throw new SinkConfigException(Key(key), $"must be a size such as 16MiB, got '{Config.GetString(key)}'");
        }
    }

    /// <summary>One of <paramref name="allowed"/> (case-insensitive), lower-cased.</summary>
    public string GetChoice(string key, string fallback, params string[] allowed)
    {
        var v = GetString(key, fallback).Trim().ToLowerInvariant();
        return allowed.Contains(v) ? v : throw new SinkConfigException(Key(key), $"must be one of {string.Join(", ", allowed)}, got '{v}'");
    }

    /// <summary>Builds a section from HOCON text (tests, examples).</summary>
    public static SinkSection Parse(string name, string hocon, string? dataDir = null) =>
        new(name, ConfigurationFactory.ParseString(hocon), dataDir ?? Path.GetTempPath());
}
