# rsyslog and its RELP output: the syslog input's tests start their own rsyslogd (private config, -n, in a temp
# dir) that forwards to the node over RELP (omrelp) and TCP (omfwd); no system daemon is started. logger
# (util-linux) sends to the node directly.
need_cmd /usr/sbin/rsyslogd rsyslog
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so ] || [ -e /usr/lib/rsyslog/omrelp.so ] || need+=(rsyslog-relp)
need_cmd logger bsdutils
