# Ganglia's gmond for the Ganglia exporter's test (Integration/Monitoring/GangliaExporterSpecs): the test starts its
# own gmond with a private config on free ports and stops it; this only makes sure the package is installed.
need_cmd gmond ganglia-monitor
