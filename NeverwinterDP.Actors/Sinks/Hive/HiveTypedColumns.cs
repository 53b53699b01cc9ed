using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Hive;

/// <summary>A typed column of a Hive table: the field's name and its Hive type (<c>INT</c>, <c>BIGINT</c>, ...).</summary>
internal sealed record HiveColumn(string Name, string HiveType);

/// <summary>One typed field of a schema as a table's column: the field's place in <see cref="TypedValues.Values"/>, name and kind.</summary>
internal readonly record struct HiveTypedField(int Field, string Name, TypedKind Kind, string HiveType);

/// <summary>
/// What the Hive sink does with the records of one typed schema in one table: write its fields as columns
/// (<see cref="Fields"/>), or refuse them all (<see cref="Refusal"/>, dead-lettered): a field named as a fixed or
/// partition column, two fields or a field and a column whose names differ only in case (Hive does not tell them
/// apart), or a column another schema of the table made with a type that neither holds the field nor widens to it.
/// </summary>
internal sealed class HiveTypedPlan
{
    private HiveTypedPlan(IReadOnlyList<HiveTypedField> fields, string? refusal)
    {
        Fields = fields;
        Refusal = refusal;
    }

    public IReadOnlyList<HiveTypedField> Fields { get; }

    public string? Refusal { get; }

    public static HiveTypedPlan Writable(IReadOnlyList<HiveTypedField> fields) => new(fields, null);

    public static HiveTypedPlan Refused(string reason) => new([], reason);
}

/// <summary>The mapping of typed fields to Hive and Parquet types (docs/schemas.md, "Type mappings to the stores").</summary>
internal static class HiveTypes
{
    public static string Of(TypedKind kind) => kind switch
    {
        TypedKind.Int => "INT",
        TypedKind.Long => "BIGINT",
        TypedKind.Float => "FLOAT",
        TypedKind.Double => "DOUBLE",
        TypedKind.Boolean => "BOOLEAN",
        TypedKind.Bytes => "BINARY",
        TypedKind.TimestampMillis or TypedKind.TimestampMicros => "TIMESTAMP",
        TypedKind.Date => "DATE",
        TypedKind.Decimal => "DECIMAL",
        _ => "STRING", // string, enum, uuid (Hive has no UUID type)
    };

    /// <summary>
    /// A field's Hive type: <see cref="Of(TypedKind)"/>, a decimal with its precision and scale (<c>DECIMAL(10,2)</c>),
    /// an array <c>ARRAY&lt;T&gt;</c> and a map <c>MAP&lt;STRING,T&gt;</c> of its items' type.
    /// </summary>
    public static string Of(TypedField field) => field.Kind switch
    {
        TypedKind.Decimal => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"DECIMAL({field.Precision},{field.Scale})"),
        TypedKind.Array => $"{ArrayOf}{Of(field.Item!)}>",
        TypedKind.Map => $"{MapOf}{Of(field.Item!)}>",
        _ => Of(field.Kind),
    };

    public const string ArrayOf = "ARRAY<", MapOf = "MAP<STRING,";

    /// <summary>A container type's wrapper (<see cref="ArrayOf"/>, <see cref="MapOf"/>) and its items' type; null for other types.</summary>
    public static (string Wrapper, string Item)? Container(string hiveType) =>
        !hiveType.EndsWith('>') ? null
        : hiveType.StartsWith(ArrayOf, StringComparison.Ordinal) ? (ArrayOf, hiveType[ArrayOf.Length..^1])
        : hiveType.StartsWith(MapOf, StringComparison.Ordinal) ? (MapOf, hiveType[MapOf.Length..^1])
        : null;

    /// <summary>The widest decimal the Parquet writer takes (.NET's decimal: 28 digits).</summary>
    public const int MaxDecimalPrecision = 28;

    /// <summary>Whether a column of <paramref name="hiveType"/> takes a value of Hive type <paramref name="wanted"/> unchanged in meaning: its own type, or a narrower number (Avro's promotions int → long → float → double). An array or map holds one whose items its items hold.</summary>
    public static bool Holds(string hiveType, string wanted) =>
        hiveType == wanted || (Rank(hiveType) is { } column && Rank(wanted) is { } field && field < column)
        || (Container(hiveType) is var (wrapper, items) && Container(wanted) is var (wantedWrapper, wantedItems) && wrapper == wantedWrapper && Holds(items, wantedItems));

    /// <summary>Whether a column of <paramref name="hiveType"/> can be widened to <paramref name="wanted"/> (Hive takes numeric widening in <c>CHANGE COLUMN</c>; not an array's or map's items).</summary>
    public static bool WidensTo(string hiveType, string wanted) =>
        Rank(hiveType) is { } column && Rank(wanted) is { } field && field > column;

    private static int? Rank(string hiveType) => hiveType switch
    {
        "INT" => 0,
        "BIGINT" => 1,
        "FLOAT" => 2,
        "DOUBLE" => 3,
        _ => null,
    };
}
