# iproute2's `ip`: Integration/Discovery/MdnsDiscoverySpecs makes two network namespaces joined by a veth pair
# (as root) to test mDNS where multicast works without any leaving the machine. No server to start.
need_cmd ip iproute2
