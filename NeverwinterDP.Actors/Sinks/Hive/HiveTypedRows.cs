using NeverwinterDP.Protocol;
using Parquet;
using Parquet.Schema;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>
/// The typed columns of one Parquet part file, buffered beside its <see cref="Formats.LogEventParquet"/> rows: one
/// optional column per <see cref="HiveColumn"/> (INT32, INT64, FLOAT, DOUBLE, BOOLEAN, UTF-8 BYTE_ARRAY, ...; an array
/// a LIST and a map a MAP of those), null in the rows whose schema lacks the field, whose optional field is null, and
/// in untyped rows. A value goes in as Avro promotes it (an int into a BIGINT column, a float into a DOUBLE one).
/// </summary>
internal sealed class HiveTypedRows
{
    private readonly Column[] _columns;
    private readonly Dictionary<TypedLogSchema, int[]> _fieldOf = [];
    private TypedLogSchema? _lastSchema;
    private int[] _lastFieldOf = [];

    public HiveTypedRows(IReadOnlyList<HiveColumn> columns)
    {
        Columns = columns;
        _columns = columns.Select(Column.For).ToArray();
    }

    public IReadOnlyList<HiveColumn> Columns { get; }

    /// <summary>The Parquet fields, in column order (after the fixed ones).</summary>
    public IEnumerable<Field> Fields => _columns.Select(c => c.Field);

    /// <summary>About how many bytes the buffered values hold.</summary>
    public long BufferedBytes { get; private set; }

    /// <summary>Whether every field of <paramref name="plan"/> has a column here that holds its values.</summary>
    public bool Covers(HiveTypedPlan plan)
    {
        foreach (var field in plan.Fields)
        {
            if (!Columns.Any(c => c.Name == field.Name && HiveTypes.Holds(c.HiveType, field.HiveType))) return false;
        }
        return true;
    }

    /// <summary>Buffers the typed values of one row; null (an untyped event) buffers nulls.</summary>
    public void Add(TypedValues? typed)
    {
        if (typed is null)
        {
            foreach (var column in _columns) column.AddNull();
            return;
        }
        var fieldOf = FieldsOf(typed.Schema);
        for (var i = 0; i < _columns.Length; i++)
        {
            var field = fieldOf[i];
            if (field < 0) _columns[i].AddNull();
            else BufferedBytes += _columns[i].Add(typed.Values[field], typed.Schema.Fields[field].Leaf.Kind);
        }
        BufferedBytes += _columns.Length;
    }

    /// <summary>Writes the buffered columns into <paramref name="group"/> and empties the buffer.</summary>
    public async Task WriteAsync(ParquetRowGroupWriter group)
    {
        foreach (var column in _columns) await column.WriteAsync(group).ConfigureAwait(false);
        Clear();
    }

    public void Clear()
    {
        foreach (var column in _columns) column.Clear();
        BufferedBytes = 0;
    }

    // For each column, the schema's field that fills it (-1: none); one schema after another is the common case.
    private int[] FieldsOf(TypedLogSchema schema)
    {
        if (ReferenceEquals(schema, _lastSchema)) return _lastFieldOf;
        if (!_fieldOf.TryGetValue(schema, out var fieldOf))
        {
            fieldOf = Columns.Select(c =>
            {
                for (var f = 0; f < schema.Fields.Count; f++)
                {
                    if (schema.Fields[f].Name == c.Name) return f;
                }
                return -1;
            }).ToArray();
            _fieldOf.Add(schema, fieldOf);
        }
        (_lastSchema, _lastFieldOf) = (schema, fieldOf);
        return fieldOf;
    }

    private abstract class Column
    {
        public abstract Field Field { get; }

        public static Column For(HiveColumn column) => HiveTypes.Container(column.HiveType) is var (wrapper, items)
            ? Repeated(column.Name, items, wrapper == HiveTypes.MapOf)
            : column.HiveType switch
            {
                // Both timestamp units as INT64 TIMESTAMP(MICROS, UTC): one Hive TIMESTAMP column may get either.
                "TIMESTAMP" => new Numbers<DateTime>(new DateTimeDataField(column.Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: true), TimestampOf),
                "DATE" => new Numbers<DateTime>(new DateTimeDataField(column.Name, DateTimeFormat.Date, isNullable: true), DateOf),
                "BINARY" => new Blobs(column.Name),
                var t when t.StartsWith("DECIMAL(", StringComparison.Ordinal) => Decimals(column),
                "INT" => new Numbers<int>(column.Name, IntOf),
                "BIGINT" => new Numbers<long>(column.Name, LongOf),
                "FLOAT" => new Numbers<float>(column.Name, FloatOf),
                "DOUBLE" => new Numbers<double>(column.Name, DoubleOf),
                "BOOLEAN" => new Numbers<bool>(column.Name, BooleanOf),
                _ => new Texts(column.Name),
            };

        /// <summary>
        /// An array's LIST (<c>optional group (LIST) { repeated group list { required T element } }</c>) or a map's
        /// MAP (<c>repeated group key_value { required binary key (UTF8); required T value }</c>) of the items' type.
        /// </summary>
        private static Column Repeated(string name, string items, bool map) => items switch
        {
            "TIMESTAMP" => new Repeated<DateTime>(name, map, n => new DateTimeDataField(n, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false), TimestampOf),
            "DATE" => new Repeated<DateTime>(name, map, n => new DateTimeDataField(n, DateTimeFormat.Date, isNullable: false), DateOf),
            "BINARY" => new Repeated<ReadOnlyMemory<byte>>(name, map, n => new DataField(n, typeof(byte[]), isNullable: false), static (v, _) => v.Binary!),
            var t when t.StartsWith("DECIMAL(", StringComparison.Ordinal) => new Repeated<decimal>(name, map,
                n => new DecimalDataField(n, PrecisionOf(t).Precision, PrecisionOf(t).Scale, forceByteArrayEncoding: true, isNullable: false), DecimalOf),
            "INT" => new Repeated<int>(name, map, n => new DataField<int>(n), IntOf),
            "BIGINT" => new Repeated<long>(name, map, n => new DataField<long>(n), LongOf),
            "FLOAT" => new Repeated<float>(name, map, n => new DataField<float>(n), FloatOf),
            "DOUBLE" => new Repeated<double>(name, map, n => new DataField<double>(n), DoubleOf),
            "BOOLEAN" => new Repeated<bool>(name, map, n => new DataField<bool>(n), BooleanOf),
            _ => new Repeated<ReadOnlyMemory<char>>(name, map, n => new DataField(n, typeof(string), isNullable: false), static (v, _) => v.Text!.AsMemory()),
        };

        /// <summary>Buffers a value (null when it has none); answers its size estimate.</summary>
        public abstract long Add(TypedValue value, TypedKind kind);

        public abstract void AddNull();

        public abstract Task WriteAsync(ParquetRowGroupWriter group);

        public abstract void Clear();
    }

    // FIXED_LEN_BYTE_ARRAY DECIMAL (what Hive and Impala read); the exact text parses into .NET's decimal (28 digits).
    private static Numbers<decimal> Decimals(HiveColumn column)
    {
        var (precision, scale) = PrecisionOf(column.HiveType);
        return new Numbers<decimal>(new DecimalDataField(column.Name, precision, scale, forceByteArrayEncoding: true, isNullable: true), DecimalOf);
    }

    private static (int Precision, int Scale) PrecisionOf(string decimalType)
    {
        var inside = decimalType["DECIMAL(".Length..^1].Split(',');
        return (int.Parse(inside[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(inside[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    // A value as its column's type takes it (kind: the field's, or an array's or map's items'), promoted as Avro does.
    private static DateTime TimestampOf(TypedValue v, TypedKind k) => DateTime.UnixEpoch.AddTicks(v.Integer * (k == TypedKind.TimestampMicros ? 10 : TimeSpan.TicksPerMillisecond));

    private static DateTime DateOf(TypedValue v, TypedKind k) => DateTime.UnixEpoch.AddDays(v.Integer);

    private static decimal DecimalOf(TypedValue v, TypedKind k) =>
        decimal.Parse(v.Text!, System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture);

    private static int IntOf(TypedValue v, TypedKind k) => (int)v.Integer;

    private static long LongOf(TypedValue v, TypedKind k) => v.Integer;

    private static float FloatOf(TypedValue v, TypedKind k) => k is TypedKind.Int or TypedKind.Long ? v.Integer : (float)v.Real;

    private static double DoubleOf(TypedValue v, TypedKind k) => k is TypedKind.Int or TypedKind.Long ? v.Integer : v.Real;

    private static bool BooleanOf(TypedValue v, TypedKind k) => v.Integer != 0;

    /// <summary>
    /// An array's or map's column: its items (and a map's keys) with their definition levels (0: null, 1: empty, the
    /// leaf's maximum: an item) and repetition levels (0: a row's first item, 1: the next ones), as Parquet's nested
    /// encoding has them; written with Parquet.Net's level-explicit writer.
    /// </summary>
    private sealed class Repeated<T> : Column
        where T : struct // strings and bytes as ReadOnlyMemory<char> / <byte>: what the level-explicit writer takes
    {
        private readonly DataField _items;
        private readonly DataField? _keys;
        private readonly Func<TypedValue, TypedKind, T> _convert;
        private readonly List<T> _values = [];
        private readonly List<ReadOnlyMemory<char>> _keyValues = [];
        private readonly List<int> _definitions = [];
        private readonly List<int> _repetitions = [];

        public Repeated(string name, bool map, Func<string, DataField> leaf, Func<TypedValue, TypedKind, T> convert)
        {
            _convert = convert;
            if (map)
            {
                _keys = new DataField("key", typeof(string), isNullable: false);
                _items = leaf("value");
                Field = new MapField(name, _keys, _items);
            }
            else
            {
                _items = leaf("element");
                Field = new ListField(name, _items);
            }
        }

        public override Field Field { get; }

        public override long Add(TypedValue value, TypedKind kind)
        {
            if (!value.HasValue || value.Items!.Length == 0)
            {
                _definitions.Add(value.HasValue ? 1 : 0);
                _repetitions.Add(0);
                return 8;
            }
            var items = value.Items;
            long size = 0;
            for (var i = 0; i < items.Length; i++)
            {
                _definitions.Add(-1); // an item: the leaf's maximum level, known once the file's schema set it
                _repetitions.Add(i == 0 ? 0 : 1);
                _values.Add(_convert(items[i], kind));
                if (_keys is not null) _keyValues.Add(value.Keys![i].AsMemory());
                size += 16 + 2L * (items[i].Text?.Length ?? 0) + (items[i].Binary?.Length ?? 0) + (_keys is null ? 0 : 2L * value.Keys![i].Length);
            }
            return size;
        }

        public override void AddNull()
        {
            _definitions.Add(0);
            _repetitions.Add(0);
        }

        public override async Task WriteAsync(ParquetRowGroupWriter group)
        {
            var item = _items.MaxDefinitionLevel;
            var definitions = _definitions.Select(d => d < 0 ? item : d).ToArray();
            var repetitions = _repetitions.ToArray();
            if (_keys is not null)
            {
                var keyDefinitions = _definitions.Select(d => d < 0 ? _keys.MaxDefinitionLevel : d).ToArray();
                await group.WriteAllPartsAsync<ReadOnlyMemory<char>>(_keys, _keyValues.ToArray(), keyDefinitions, repetitions, CancellationToken.None).ConfigureAwait(false);
            }
            await group.WriteAllPartsAsync<T>(_items, _values.ToArray(), definitions, repetitions, CancellationToken.None).ConfigureAwait(false);
        }

        public override void Clear()
        {
            _values.Clear();
            _keyValues.Clear();
            _definitions.Clear();
            _repetitions.Clear();
        }
    }

    private sealed class Numbers<T>(DataField field, Func<TypedValue, TypedKind, T> convert) : Column
        where T : struct
    {
        public Numbers(string name, Func<TypedValue, TypedKind, T> convert)
            : this(new DataField<T?>(name), convert)
        {
        }

        private readonly DataField _field = field;
        private readonly List<T?> _values = [];

        public override Field Field => _field;

        public override long Add(TypedValue value, TypedKind kind)
        {
            _values.Add(value.HasValue ? convert(value, kind) : null);
            return 8;
        }

        public override void AddNull() => _values.Add(null);

        public override Task WriteAsync(ParquetRowGroupWriter group) =>
            group.WriteAsync<T>(_field, _values.ToArray(), null, null, CancellationToken.None);

        public override void Clear() => _values.Clear();
    }

    private sealed class Blobs(string name) : Column
    {
        private readonly DataField _field = new(name, typeof(byte[]), isNullable: true);
        private readonly List<byte[]?> _values = [];

        public override Field Field => _field;

        public override long Add(TypedValue value, TypedKind kind)
        {
            var bytes = value.HasValue ? value.Binary : null;
            _values.Add(bytes);
            return bytes?.Length ?? 0;
        }

        public override void AddNull() => _values.Add(null);

        public override Task WriteAsync(ParquetRowGroupWriter group) => group.WriteAsync(_field, _values!);

        public override void Clear() => _values.Clear();
    }

    private sealed class Texts(string name) : Column
    {
        private readonly DataField _field = new(name, typeof(string), isNullable: true);
        private readonly List<string?> _values = [];

        public override Field Field => _field;

        public override long Add(TypedValue value, TypedKind kind)
        {
            var text = value.HasValue ? value.Text : null;
            _values.Add(text);
            return 2L * (text?.Length ?? 0);
        }

        public override void AddNull() => _values.Add(null);

        public override Task WriteAsync(ParquetRowGroupWriter group) => group.WriteAsync(_field, _values);

        public override void Clear() => _values.Clear();
    }
}
