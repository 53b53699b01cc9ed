using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Sql;

/// <summary>One column a typed attribute fills: its name (the field's), its Avro kind, and the field's place in <see cref="TypedValues.Values"/>.</summary>
public sealed record SqlTypedColumn(string Name, TypedKind Kind, int Field);

/// <summary>
/// How one SQL sink writes the records of one typed log type's schema (<see cref="TypedLogSchema"/>, one per
/// registry id): the table's columns plus one nullable column per typed field, made when missing. Or why its
/// records cannot be stored (<see cref="Refusal"/>: a field whose name or type the table cannot take); they are
/// rejected (dead-lettered) with that reason. Kept by the sink until its connection is dropped.
/// </summary>
public sealed class SqlTypedLayout
{
    private SqlTypedLayout(TypedLogSchema schema, IReadOnlyList<SqlTypedColumn> columns, string? refusal)
    {
        Schema = schema;
        Columns = columns;
        Refusal = refusal;
    }

    public TypedLogSchema Schema { get; }

    /// <summary>The typed columns, after <see cref="SqlColumns.All"/> in every statement.</summary>
    public IReadOnlyList<SqlTypedColumn> Columns { get; }

    public string? Refusal { get; }

    /// <summary>The server subclass's statement text for this layout, built once.</summary>
    internal string? Statement { get; set; }

    public static SqlTypedLayout Writable(TypedLogSchema schema, IReadOnlyList<SqlTypedColumn> columns) => new(schema, columns, null);

    public static SqlTypedLayout Refused(TypedLogSchema schema, string reason) => new(schema, [], reason);

    /// <summary>The longest column name PostgreSQL keeps (MySQL allows 64); a longer field name is refused, not truncated.</summary>
    public const int MaxColumnName = 63;

    /// <summary>Why a typed field cannot be a column of its own (its name is a column every row has, or too long), or null.</summary>
    public static string? NameProblem(TypedLogSchema schema, string name)
    {
        if (SqlColumns.All.Any(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)))
            return $"typed field '{name}' (schema id {schema.Id}) has the name of a column every row has; rename the field in the log type's schema";
        if (name.Length > MaxColumnName)
            return $"typed field '{name[..20]}...' (schema id {schema.Id}) has a name longer than {MaxColumnName} characters, more than a column name may have";
        return null;
    }
}
