using System.Collections.Concurrent;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace NeverwinterDP.Actors.Configuration;

/// <summary>
/// An Akka <see cref="Config"/> that logs the full key of every read (getters and <see cref="HasPath"/>), for code
/// that reads a section through Akka's API itself (the sinks' options, through <c>SinkSection</c>). Values and
/// fallbacks are those of the wrapped config.
/// </summary>
internal sealed class RecordingConfig : Config
{
    private readonly Config _inner;
    private readonly string _path;
    private readonly ConcurrentDictionary<string, byte> _keysRead;

    public RecordingConfig(Config inner, string path, ConcurrentDictionary<string, byte> keysRead) : base(inner, inner.Fallback)
    {
        _inner = inner;
        _path = path;
        _keysRead = keysRead;
    }

    private T Log<T>(string key, T value)
    {
        _keysRead.TryAdd($"{_path}.{key}", 0);
        return value;
    }

    public override bool IsEmpty => _inner.IsEmpty;
    public override HoconValue Root => _inner.Root;
    public override bool HasPath(string path) => Log(path, _inner.HasPath(path));
    public override bool GetBoolean(string path, bool @default = false) => Log(path, _inner.GetBoolean(path, @default));
    public override long? GetByteSize(string path) => Log(path, _inner.GetByteSize(path));
    public override long? GetByteSize(string path, long? @default = null) => Log(path, _inner.GetByteSize(path, @default));
    public override int GetInt(string path, int @default = 0) => Log(path, _inner.GetInt(path, @default));
    public override long GetLong(string path, long @default = 0) => Log(path, _inner.GetLong(path, @default));
    public override string GetString(string path, string? @default = null) => Log(path, _inner.GetString(path, @default));
    public override float GetFloat(string path, float @default = 0) => Log(path, _inner.GetFloat(path, @default));
    public override decimal GetDecimal(string path, decimal @default = 0) => Log(path, _inner.GetDecimal(path, @default));
    public override double GetDouble(string path, double @default = 0) => Log(path, _inner.GetDouble(path, @default));
    public override IList<string> GetStringList(string path) => Log(path, _inner.GetStringList(path));
    public override IList<string> GetStringList(string path, string[] @default) => Log(path, _inner.GetStringList(path, @default));
    public override IList<int> GetIntList(string path) => Log(path, _inner.GetIntList(path));
    public override IList<long> GetLongList(string path) => Log(path, _inner.GetLongList(path));
    public override IList<bool> GetBooleanList(string path) => Log(path, _inner.GetBooleanList(path));
    public override IList<double> GetDoubleList(string path) => Log(path, _inner.GetDoubleList(path));
    public override IList<float> GetFloatList(string path) => Log(path, _inner.GetFloatList(path));
    public override IList<decimal> GetDecimalList(string path) => Log(path, _inner.GetDecimalList(path));
    public override IList<byte> GetByteList(string path) => Log(path, _inner.GetByteList(path));

    public override TimeSpan GetTimeSpan(string path, TimeSpan? @default = null, bool allowInfinite = true) =>
        Log(path, _inner.GetTimeSpan(path, @default, allowInfinite));

    public override Config GetConfig(string path)
    {
        var section = _inner.GetConfig(path);
        return section is null ? null! : new RecordingConfig(section, $"{_path}.{path}", _keysRead);
    }

    public override IEnumerable<KeyValuePair<string, HoconValue>> AsEnumerable() => _inner.AsEnumerable();
    public override Config WithFallback(Config fallback) => _inner.WithFallback(fallback);
    public override string ToString() => _inner.ToString();
}
