# Client network namespaces on veth pairs for the fwd tests, sourced after
# lib.sh: each is held by a sleeping child and entered with nsenter.
#
#   netns NAME HOST-ADDR CLIENT-ADDR PREFIX   make one (host side h_NAME)
#   in_ns NAME CMD...                         run CMD inside it
#   conn NAME HOST-ADDR PORT                  a TCP connect from it (nc -z)
#
declare -A NS
netns() {	# name host-addr client-addr prefix
	local name=$1 h=$2 c=$3 len=$4 pid
	unshare -n sleep 100000 &
	pid=$!
	T_DAEMONS="ns_$name $T_DAEMONS"
	echo "$pid" > "$T_DIR/ns_$name.pid"
	wait_for 5 test -e "/proc/$pid/ns/net" &&
	    wait_for 5 sh -c "[ \"\$(readlink /proc/$pid/ns/net)\" != \"\$(readlink /proc/$$/ns/net)\" ]"
	ip link add "h_$name" type veth peer name "c_$name"
	ip link set "c_$name" netns "$pid"
	ip addr add "$h/$len" dev "h_$name"
	ip link set "h_$name" up
	nsenter --net="/proc/$pid/ns/net" sh -c "ip link set lo up &&
	    ip addr add $c/$len dev c_$name && ip link set c_$name up &&
	    ip route add default via $h"
	NS[$name]=$pid
}
in_ns() { local n=$1; shift; nsenter --net="/proc/${NS[$n]}/ns/net" "$@"; }
conn() { in_ns "$1" nc -z -w 1 "$2" "$3"; }	# ns host-addr port
