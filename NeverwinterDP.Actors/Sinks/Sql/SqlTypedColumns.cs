using NeverwinterDP.Protocol;

namespace NeverwinterDP.Actors.Sinks.Sql;

/// <summary>One column a typed attribute fills: its name (the field's), its Avro kind, and the field's place in <see cref="TypedValues.Values"/>.</summary>
public sealed record SqlTypedColumn(string Name, TypedKind Kind, int Field)
{
    /// <summary>An array's items' or a map's values' kind (<see cref="TypedField.Item"/>); null for other kinds.</summary>
    public TypedKind? Item { get; init; }

    /// <summary>The kind of one value: <see cref="Item"/> for an array or map, else <see cref="Kind"/>.</summary>
    public TypedKind LeafKind => Item ?? Kind;

    /// <summary>ClickHouse: a timestamp column is <c>DateTime64</c> (written as a time), not <c>Int64</c> (epoch units).</summary>
    public bool DateTime64 { get; init; }
}

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

    /// <summary>
    /// The typed schemas among <paramref name="records"/> a sink has no layout for yet (null when none), and whether any
    /// record is typed. The untyped path costs one null check per record.
    /// </summary>
    public static List<TypedLogSchema>? Unseen<TLayout>(IReadOnlyList<SinkRecord> records, IReadOnlyDictionary<TypedLogSchema, TLayout> known, out bool typed)
    {
        List<TypedLogSchema>? fresh = null;
        typed = false;
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Event?.Typed is not { } values) continue;
            typed = true;
            if (!known.ContainsKey(values.Schema) && !(fresh?.Contains(values.Schema) ?? false)) (fresh ??= []).Add(values.Schema);
        }
        return fresh;
    }

    /// <summary>
    /// The decision every sink with typed columns makes for a schema it meets first (the SQL sinks and ClickHouse):
    /// one column per typed field, named as the field. A name the store refuses (<see cref="TypedColumnStore.NameProblem"/>)
    /// or two names the store does not tell apart refuse the schema. A missing column is added (<c>create-table = on</c>;
    /// off: refused, the reason being the statement to run); another writer of the table may add it at the same moment,
    /// so a failed add is fine when the column is there afterwards. A column already there must take the field's values
    /// (<see cref="TypedColumnStore.Accepts"/>): another log type may have made it with another type.
    /// <paramref name="present"/> (the table's columns and their types) is updated with what a re-read found.
    /// </summary>
    public static async Task<SqlTypedLayout> DecideAsync(TypedLogSchema schema, Dictionary<string, string> present, TypedColumnStore store, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(present);
        ArgumentNullException.ThrowIfNull(store);
        var columns = new List<SqlTypedColumn>(schema.Fields.Count);
        var names = new HashSet<string>(store.ColumnNames);
        for (var i = 0; i < schema.Fields.Count; i++)
        {
            var field = schema.Fields[i];
            if (store.NameProblem(schema, field.Name) is { } problem) return Refused(schema, problem);
            if (!names.Add(field.Name)) return Refused(schema, $"typed fields of schema id {schema.Id} differ only in case ('{field.Name}'), and so do not have columns of their own");
            if (!present.ContainsKey(field.Name))
            {
                var alter = store.AddColumnSql(field);
                if (!store.CreateTable)
                    return Refused(schema, $"table {store.Table} has no column for typed field '{field.Name}' ({field.Expected}, schema id {schema.Id}) and create-table = off: {alter}");
                if (await store.TryRunAsync(alter, cancellation).ConfigureAwait(false) is not { } failure)
                {
                    columns.Add(new SqlTypedColumn(field.Name, field.Kind, i) { Item = field.Item?.Kind }); // made for this field: its type
                    continue;
                }
                var now = await store.ColumnTypesAsync(cancellation).ConfigureAwait(false);
                if (!now.ContainsKey(field.Name)) throw new InvalidOperationException($"table {store.Table}: {alter} failed: {failure}");
                foreach (var (name, type) in now) present[name] = type; // another writer made it: check its type below
            }
            var dataType = present[field.Name];
            if (!store.Accepts(field, dataType))
                return Refused(schema, $"column {field.Name} of table {store.Table} is {dataType}, which cannot hold typed field '{field.Name}' ({field.Expected}, schema id {schema.Id})");
            columns.Add(new SqlTypedColumn(field.Name, field.Kind, i) { Item = field.Item?.Kind });
        }
        return Writable(schema, columns);
    }

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

/// <summary>
/// What <see cref="SqlTypedLayout.DecideAsync"/> needs of a store: the table's name (for messages), whether it may add
/// columns, how it compares column names, which field names it refuses, the statement adding a field's column, which
/// existing column types take a field's values, how to read the columns again, and how to run a statement (null when
/// it ran, else the server's message; a connection failure may throw).
/// </summary>
public sealed record TypedColumnStore(
    string Table,
    bool CreateTable,
    StringComparer ColumnNames,
    Func<TypedLogSchema, string, string?> NameProblem,
    Func<TypedField, string> AddColumnSql,
    Func<TypedField, string, bool> Accepts,
    Func<CancellationToken, Task<Dictionary<string, string>>> ColumnTypesAsync,
    Func<string, CancellationToken, Task<string?>> TryRunAsync);
