using NeverwinterDP.Actors.Schemas;
using NeverwinterDP.Host.Configuration;
using NeverwinterDP.Host.Schemas;

namespace NeverwinterDP.Host.Node;

public static class SchemaHosting
{
    /// <summary>
    /// The schema registry: this node's (store, topic, operations) when it serves one, or the registration of
    /// NeverwinterDP's schemas in the external registry <c>nwdp.schemas.url</c> names.
    /// </summary>
    public static IServiceCollection AddSchemaRegistry(this IServiceCollection services, NodeConfig config)
    {
        var options = config.Schemas;
        if (options.Url is not null) return services.AddSingleton(options).AddHostedService<ExternalSchemaRegistration>();
        if (!options.Serves) return services.AddSingleton(options);
        return services
            .AddSingleton(options)
            .AddSingleton(new SchemaStore(options.Compatibility))
            .AddSingleton(sp =>
            {
                var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("schemas");
                var bus = sp.GetRequiredService<KafkaBus>();
                return new SchemaLog(bus.Clients, options.Topic, sp.GetRequiredService<SchemaStore>(), bus.Topics, m => log.LogWarning("{Message}", m));
            })
            .AddSingleton(sp => new SchemaRegistry(sp.GetRequiredService<SchemaStore>(), sp.GetRequiredService<SchemaLog>(), options.Timeout))
            .AddSingleton(sp =>
            {
                var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("schemas");
                return new TypedLogTypes(sp.GetRequiredService<SchemaStore>(), m => log.LogWarning("{Message}", m));
            })
            .AddHostedService<SchemaRegistryService>();
    }

    /// <summary>The registry's URL on this node (what a client's <c>schema.registry.url</c> is); null when it serves none.</summary>
    public static Uri? SchemaRegistryAddress(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<SchemaOptions>();
        if (options.Url is not null) return options.Url;
        return options.Serves ? new Uri(app.HttpAddress(), options.Path.Length == 0 ? "/" : options.Path) : null;
    }
}

