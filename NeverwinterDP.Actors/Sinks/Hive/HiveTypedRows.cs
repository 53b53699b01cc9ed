using NeverwinterDP.Protocol;
using Parquet;
using Parquet.Schema;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>
/// The typed columns of one Parquet part file, buffered beside its <see cref="Formats.LogEventParquet"/> rows: one
/// optional column per <see cref="HiveColumn"/> (INT32, INT64, FLOAT, DOUBLE, BOOLEAN, UTF-8 BYTE_ARRAY), null in the
/// rows whose schema lacks the field, whose optional field is null, and in untyped rows. A value goes in as Avro
/// promotes it (an int into a BIGINT column, a float into a DOUBLE one).
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
            else BufferedBytes += _columns[i].Add(typed.Values[field], typed.Schema.Fields[field].Kind);
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

        public static Column For(HiveColumn column) => column.HiveType switch
        {
            // Both timestamp units as INT64 TIMESTAMP(MICROS, UTC): one Hive TIMESTAMP column may get either.
            "TIMESTAMP" => new Numbers<DateTime>(new DateTimeDataField(column.Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: true),
                static (v, k) => DateTime.UnixEpoch.AddTicks(v.Integer * (k == TypedKind.TimestampMicros ? 10 : TimeSpan.TicksPerMillisecond))),
            "DATE" => new Numbers<DateTime>(new DateTimeDataField(column.Name, DateTimeFormat.Date, isNullable: true), static (v, _) => DateTime.UnixEpoch.AddDays(v.Integer)),
            "BINARY" => new Blobs(column.Name),
            var t when t.StartsWith("DECIMAL(", StringComparison.Ordinal) => Decimals(column),
            "INT" => new Numbers<int>(column.Name, static (v, _) => (int)v.Integer),
            "BIGINT" => new Numbers<long>(column.Name, static (v, _) => v.Integer),
            "FLOAT" => new Numbers<float>(column.Name, static (v, k) => k is TypedKind.Int or TypedKind.Long ? v.Integer : (float)v.Real),
            "DOUBLE" => new Numbers<double>(column.Name, static (v, k) => k is TypedKind.Int or TypedKind.Long ? v.Integer : v.Real),
            "BOOLEAN" => new Numbers<bool>(column.Name, static (v, _) => v.Integer != 0),
            _ => new Texts(column.Name),
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
        var inside = column.HiveType["DECIMAL(".Length..^1].Split(',');
        var (precision, scale) = (int.Parse(inside[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(inside[1], System.Globalization.CultureInfo.InvariantCulture));
        return new Numbers<decimal>(new DecimalDataField(column.Name, precision, scale, forceByteArrayEncoding: true, isNullable: true),
            static (v, _) => decimal.Parse(v.Text!, System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture));
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
