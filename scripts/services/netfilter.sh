# iptables (and setpriv, util-linux): Integration/Processes/PartitionProcessSpecs cuts one node off from the others
# with rules it adds and removes itself (as root). No server to start.
need_cmd iptables iptables
need_cmd setpriv util-linux
