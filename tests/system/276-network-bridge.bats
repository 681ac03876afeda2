#!/usr/bin/env bats
# Rootful bridge networks: the default network, user networks, names through /etc/hosts,
# --ip, -p DNAT with nftables, --internal, connect/disconnect, rm refused/forced, cleanup of
# veths and rules; network ls/inspect/exists/prune; IPv6 (--ipv6, IPv6 --subnet); two stores
# with their own bridges and tables. Rootless user networks: see 278.

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

# skiff ARGS: the binary on this test's store, outside run_skiff (teardown, wait_for)
function skiff() {
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "$@"
}

# skiff2 ARGS: a second store beside this test's
function skiff2() {
	"$SKIFF" --root "$SKIFF_TEST_ROOT/b/root" --runroot "$SKIFF_TEST_ROOT/b/runroot" "$@"
}

function teardown() {
	skiff rm -fa >/dev/null 2>&1 || true
	skiff network prune -f >/dev/null 2>&1 || true
	if [ -d "$SKIFF_TEST_ROOT/b" ]; then
		skiff2 rm -fa >/dev/null 2>&1 || true
		skiff2 network prune -f >/dev/null 2>&1 || true
	fi
	skiff_teardown
}

# bridge_of SKIFF-FUNCTION NETWORK: the network's bridge in that store
function bridge_of() {
	"$1" network ls --format '{{.Name}} {{.NetworkInterface}}' | awk -v n="$2" '$1 == n { print $2 }'
}

# table_of SKIFF-FUNCTION: the store's nftables table, named as its bridges (bridge.h):
# skTAG-N and skiff_TAG, TAG from sha256(graphroot); the test stores are never the default
function table_of() {
	local br
	br=$(bridge_of "$1" podman)
	[[ $br =~ ^sk([0-9a-f]{6})-0$ ]] || die "the default network's bridge is $br, not skTAG-0"
	echo "skiff_${BASH_REMATCH[1]}"
}

function free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

HTTPD='mkdir -p /www && echo "hello from $HOSTNAME" > /www/index.html && exec busybox httpd -f -p 80 -h /www'

@test "network create/ls/inspect/exists/rm/prune as metadata (root and rootless)" {
	run_skiff network create --subnet 10.231.7.0/24 --label team=a net276a
	assert_output net276a
	run_skiff network ls --format '{{.Name}} {{.Driver}}'
	assert_line "podman bridge"
	assert_line "net276a bridge"
	run_skiff network ls
	assert_line --index 0 --regexp '^NETWORK ID +NAME +DRIVER$'
	run_skiff network inspect --format '{{.Name}} {{.Driver}} {{.Internal}} {{.Labels}} {{.Options}} {{.name}}' net276a
	assert_output "net276a bridge false map[team:a] map[] net276a"
	run_skiff network inspect net276a
	assert_output --partial '"subnet": "10.231.7.0/24"'
	assert_output --partial '"gateway": "10.231.7.1"'
	assert_output --partial '"team": "a"'
	run_skiff network exists net276a
	run_skiff 1 network exists nosuch276
	run_skiff 125 network create net276a
	assert_output --partial "already used"
	run_skiff 125 network create --subnet 10.0.0.300/24 bad276
	assert_output --partial "invalid --subnet"
	run_skiff network create net276b
	run_skiff network prune -f
	assert_line net276a
	assert_line net276b
	run_skiff 1 network exists net276a
	run_skiff 2 network rm podman
}

@test "default bridge: an address, a route out via the gateway, veth and rules gone after rm" {
	skip_if_rootless "bridge networks need root (veth, nftables)"
	run_skiff run -d --name c276d "$IMAGE" sleep 100
	id=$output
	run_skiff exec c276d busybox ip -4 addr show eth0
	assert_output --regexp 'inet 10\.[0-9.]+/'
	run_skiff exec c276d busybox ip route
	assert_line --regexp '^default via 10\.[0-9.]+ dev eth0'
	gw=$(skiff exec c276d busybox ip route | awk '/^default/ {print $3}')
	# the gateway (the host's bridge) answers: the host's listening port is reachable through it
	run ip -br link show "sk${id:0:10}0"
	assert_success
	run_skiff rm -f c276d
	run ip link show "sk${id:0:10}0"
	assert_failure
}

@test "MTU: 65520 links with the uplink's MTU on the default route; -o mtu=N; bad options refused" {
	skip_if_rootless "bridge networks need root"
	# the host's uplink: the device of its default route (1500 when there is none)
	up=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
	upmtu=1500
	[ -z "$up" ] || upmtu=$(cat "/sys/class/net/$up/mtu")
	run_skiff run -d --name c276m "$IMAGE" sleep 100
	id=$output
	run_skiff exec c276m cat /sys/class/net/eth0/mtu
	assert_output 65520
	run cat "/sys/class/net/sk${id:0:10}0/mtu"
	assert_output 65520
	pid=$(skiff inspect --format '{{.State.Pid}}' c276m)
	run nsenter -t "$pid" -n ip -4 route show default
	if [ "$upmtu" -lt 65520 ]; then
		assert_output --regexp "^default via [0-9.]+ dev eth0 .*mtu $upmtu"
	else
		refute_output --partial mtu
	fi
	# the bridge's MTU is the least of its ports': 65520, so the host sends 64 KiB frames
	br=$(bridge_of skiff podman)
	run cat "/sys/class/net/$br/mtu"
	assert_output 65520
	# a port with a smaller MTU on the bridge (an older container's): a new link takes it
	ip link add t276a mtu 1500 type veth peer name t276b
	ip link set t276a master "$br"
	run_skiff run --rm "$IMAGE" cat /sys/class/net/eth0/mtu
	ip link del t276a
	assert_output 1500
	# -o mtu=N: that MTU on the bridge and the links, no route metric (podman's)
	run_skiff network create -o mtu=9000 --subnet 10.231.9.0/24 net276m
	run_skiff network inspect --format '{{.Options}}' net276m
	assert_output --partial "mtu:9000"
	run_skiff run --rm --network net276m "$IMAGE" cat /sys/class/net/eth0/mtu
	assert_output 9000
	run cat "/sys/class/net/$(bridge_of skiff net276m)/mtu"
	assert_output 9000
	run_skiff run -d --name c276m2 --network net276m "$IMAGE" sleep 100
	pid=$(skiff inspect --format '{{.State.Pid}}' c276m2)
	run nsenter -t "$pid" -n ip -4 route show default
	refute_output --partial mtu
	run_skiff network create -o com.docker.network.driver.mtu=1280 net276m3
	run_skiff network inspect --format '{{.Options}}' net276m3
	assert_output --partial "mtu:1280"
	# hostile options: a clear error naming the option, nothing made
	for bad in mtu=67 mtu=65536 mtu=abc mtu= mtu=-1 mtu=+1500 "mtu= 1500" mtu=99999999999999999999 mtu; do
		run_skiff 125 network create -o "$bad" net276bad
		assert_output --partial "-o $bad: the MTU must be a number from 68 to 65535"
	done
	run_skiff 125 network create -o isolate=true net276bad
	assert_output --partial 'unsupported bridge network option "isolate"'
	run_skiff 1 network exists net276bad
	# a config edited by hand with a bad MTU is named when read
	cfg=$SKIFF_TEST_ROOT/root/networks/net276m3.json
	sed -i 's/"1280"/"12x"/' "$cfg"
	run_skiff 125 network inspect net276m3
	assert_output --partial 'bad options.mtu "12x"'
}

@test "a crash between creating a veth and recording it: the next setup, start and rm clean it up" {
	skip_if_rootless "bridge networks need root"
	run_skiff network create --subnet 10.231.10.0/24 net276c
	_SKIFF_TEST_CRASH_AT=net-veth-created run_skiff 137 run -d --name c276c --network net276c --ip 10.231.10.9 \
		"$IMAGE" sleep 100
	id=$(skiff inspect --format '{{.Id}}' c276c)
	# left behind: the veth and the address, which no state file records
	run ip link show "sk${id:0:10}0"
	assert_success
	run ls "$SKIFF_TEST_ROOT/runroot/ipam/net276c"
	assert_output 10.231.10.9
	# the next container's setup takes the address back and removes the veth
	run_skiff run -d --name c276o --network net276c --ip 10.231.10.9 "$IMAGE" sleep 100
	run ip link show "sk${id:0:10}0"
	assert_failure
	run cat "$SKIFF_TEST_ROOT/runroot/ipam/net276c/10.231.10.9"
	assert_output "$(skiff inspect --format '{{.Id}}' c276o)"
	run_skiff rm -f c276o
	# the crashed container itself starts (its namespace made anew) and is removed cleanly
	run_skiff start c276c
	run_skiff exec c276c busybox ip -4 addr show eth0
	assert_output --partial "inet 10.231.10.9/24"
	run_skiff rm -f c276c
	run ip link show "sk${id:0:10}0"
	assert_failure
	run ls "$SKIFF_TEST_ROOT/runroot/ipam/net276c"
	assert_output ""
	run ls "$SKIFF_TEST_ROOT/runroot/networks"
	refute_output --partial "$id"
}

@test "-p: DNAT reaches busybox httpd from 127.0.0.1 and the host's address" {
	skip_if_rootless "bridge networks need root"
	port=$(free_port)
	run_skiff run -d --name c276p -p "$port:80" "$IMAGE" sh -c "$HTTPD"
	wait_for curl -sf -m 2 "http://127.0.0.1:$port/"
	run curl -sf -m 5 "http://127.0.0.1:$port/"
	assert_output --partial "hello from"
	hostip=$(ip -4 -o addr show scope global | awk '$2 !~ /^(podman|skiff|sk[0-9a-f]+-)/ {split($4,a,"/"); print a[1]; exit}')
	run curl -sf -m 5 "http://$hostip:$port/"
	assert_output --partial "hello from"
	table=$(table_of skiff)
	run nft list table inet "$table"
	assert_output --partial "dport $port dnat"
	run_skiff rm -f c276p
	run nft list table inet "$table"
	refute_output --partial "dport $port dnat"
}

@test "user network: names, --network-alias, --ip, rm refused in use, rm -f removes containers" {
	skip_if_rootless "bridge networks need root"
	run_skiff network create --subnet 10.231.8.0/24 net276u
	run_skiff run -d --name web276 --network net276u --network-alias site --ip 10.231.8.50 "$IMAGE" sh -c "$HTTPD"
	run_skiff run -d --name cli276 --network net276u "$IMAGE" sleep 100
	run_skiff exec web276 busybox ip -4 addr show eth0
	assert_output --partial "inet 10.231.8.50/24"
	wait_for skiff exec cli276 busybox wget -q -O - http://web276/
	run_skiff exec cli276 busybox wget -q -O - http://web276/
	assert_output --partial "hello from"
	run_skiff exec cli276 busybox wget -q -O - http://site/
	assert_output --partial "hello from"
	# names follow containers: a stopped one leaves the others' hosts files
	run_skiff rm -f cli276
	run_skiff run -d --name cli276b --network net276u "$IMAGE" sleep 100
	run_skiff exec web276 cat /etc/hosts
	assert_output --partial "cli276b"
	refute_output --regexp "[[:space:]]cli276( |$)"
	run_skiff 125 run --rm --network net276u --ip 10.231.8.50 "$IMAGE" true
	assert_output --partial "already in use"
	run_skiff 2 network rm net276u
	assert_output --partial "is being used"
	br=$(bridge_of skiff net276u)
	run ip -4 addr show "$br"
	assert_output --partial "10.231.8.1/24"
	run_skiff network rm -f net276u
	run_skiff 1 container exists web276
	run_skiff 1 container exists cli276b
	run ip link show "$br"
	assert_failure
	# the store's last bridge went: so did its table
	run nft list table inet "skiff_${br:2:6}"
	assert_failure
}

@test "--internal: no route out; connect and disconnect a running container" {
	skip_if_rootless "bridge networks need root"
	run_skiff network create --internal --subnet 10.231.9.0/24 net276i
	run_skiff network create --subnet 10.231.10.0/24 net276o
	run_skiff run -d --name in276 --network net276i "$IMAGE" sleep 100
	run_skiff exec in276 busybox ip route
	refute_output --partial default
	run_skiff network connect net276o in276
	run_skiff exec in276 busybox ip -4 addr show eth1
	assert_output --partial "10.231.10."
	run_skiff network disconnect net276o in276
	run_skiff 1 exec in276 busybox ip addr show eth1
	run_skiff 125 run --rm --network nosuch276 "$IMAGE" true
	assert_output --partial "nosuch276"
}

@test "rootless: --network NAME joins a bridge in the rootless network namespace (more in 278)" {
	skip_if_root "rootless user networks"
	run_skiff network create --subnet 10.231.11.0/24 net276r
	run_skiff run --rm --network net276r "$IMAGE" busybox ip -4 addr show eth0
	assert_output --partial "inet 10.231.11."
}

@test "bridge: inspect's NetworkSettings shows the container's address" {
	skip_if_rootless "bridge networks need root"
	run_skiff run -d --name ns$TESTNUM "$IMAGE" sleep 1000
	run_skiff inspect --format '{{.NetworkSettings.IPAddress}}' ns$TESTNUM
	local ip=$output
	assert "$ip" =~ '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "an IPv4 address"
	run_skiff exec ns$TESTNUM sh -c 'ip -4 -o addr show eth0'
	assert "$output" =~ "inet $ip/" "the address eth0 has"
	run_skiff inspect --format '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}}{{end}}' ns$TESTNUM
	is "$output" "podman $ip" "per network"
	# docker's MAC for the address (02:42 + its four bytes): the same address, the same MAC
	local mac
	mac=$(printf '02:42:%02x:%02x:%02x:%02x' ${ip//./ })
	run_skiff exec ns$TESTNUM cat /sys/class/net/eth0/address
	is "$output" "$mac" "eth0's MAC"
	run_skiff inspect --format '{{.NetworkSettings.MacAddress}}' ns$TESTNUM
	is "$output" "$mac" "inspect's MacAddress"
	run_skiff rm -f ns$TESTNUM
}

@test "--ipv6: dual-stack addresses and routes, ping6 and wget over IPv6, -p to IPv6, inspect" {
	skip_if_rootless "bridge networks need root"
	run_skiff network create --ipv6 --subnet 10.231.11.0/24 net276v6
	run_skiff network inspect net276v6
	assert_output --partial '"ipv6_enabled": true'
	assert_output --regexp '"subnet": "fd[0-9a-f]{2}:[0-9a-f:]+::/64"'
	gw6=$(skiff network inspect net276v6 | awk -F'"' '/"gateway": "fd/ { print $4 }')
	[[ $gw6 =~ ^fd[0-9a-f:]+::1$ ]] || die "the IPv6 gateway is '$gw6'"
	run_skiff network ls --format '{{.Name}} {{.IPv6Enabled}}'
	assert_line "net276v6 true"

	port=$(free_port)
	run_skiff run -d --name web276v6 --network net276v6 -p "$port:80" "$IMAGE" sh -c "$HTTPD"
	run_skiff run -d --name cli276v6 --network net276v6 --cap-add NET_RAW "$IMAGE" sleep 100
	web6=$(skiff inspect --format '{{range $k, $v := .NetworkSettings.Networks}}{{$v.GlobalIPv6Address}}{{end}}' web276v6)
	[[ $web6 =~ ^fd[0-9a-f:]+$ ]] || die "web276v6 has no IPv6 address in inspect: '$web6'"
	run_skiff inspect --format '{{range $k, $v := .NetworkSettings.Networks}}{{$v.GlobalIPv6PrefixLen}} {{$v.IPv6Gateway}}{{end}}' web276v6
	is "$output" "64 $gw6" "inspect: the IPv6 prefix and gateway"
	run_skiff exec web276v6 busybox ip -6 addr show eth0
	assert_output --partial "inet6 $web6/64"
	run_skiff exec web276v6 busybox ip -4 addr show eth0
	assert_output --partial "inet 10.231.11."
	run_skiff exec cli276v6 busybox ip -6 route
	assert_line --regexp "^default via $gw6 dev eth0"
	# by name over IPv6 (the hosts file has a line per family), and by address
	run_skiff exec cli276v6 busybox ping6 -c 1 -W 5 web276v6
	assert_output --partial "($web6)"
	assert_output --partial "1 packets received"
	wait_for skiff exec cli276v6 busybox wget -q -O - "http://[$web6]/"
	run_skiff exec cli276v6 busybox wget -q -O - "http://[$web6]/"
	assert_output --partial "hello from"
	# -p over IPv6: the host's own IPv6 address (the bridge's gateway) reaches the container.
	# [::1] cannot: Linux drops the reply to ::1 arriving from a bridge (podman 4.3: the same).
	run curl -sf -m 5 -g "http://[$gw6]:$port/"
	assert_output --partial "hello from"
	run nft list table inet "$(table_of skiff)"
	assert_output --partial "dnat ip6 to [$web6]:80"
	assert_output --regexp "ip6 saddr fd[0-9a-f:]+::/64 ip6 daddr != fd[0-9a-f:]+::/64 masquerade"

	# an IPv6 --subnet alone: IPv6 only, as podman
	run_skiff network create --subnet fd27:6::/64 net276only6
	run_skiff network inspect net276only6
	assert_output --partial '"subnet": "fd27:6::/64"'
	assert_output --partial '"gateway": "fd27:6::1"'
	refute_output --partial '"subnet": "10.'
	run_skiff run --rm --network net276only6 "$IMAGE" sh -c 'busybox ip -4 addr show eth0; busybox ip -6 addr show eth0; busybox ip -6 route'
	refute_output --partial "inet "
	assert_output --partial "inet6 fd27:6::2/64"
	assert_output --partial "default via fd27:6::1"
	# --ip6: a static IPv6 address
	run_skiff run --rm --network net276only6 --ip6 fd27:6::77 "$IMAGE" busybox ip -6 addr show eth0
	assert_output --partial "inet6 fd27:6::77/64"
	run_skiff 125 run --rm --network none --ip6 fd27:6::78 "$IMAGE" true
	assert_output --partial "--ip6 and --network-alias need a bridge network"
	run_skiff 125 network create --subnet fd27:7::/130 bad276
	assert_output --partial 'invalid --subnet "fd27:7::/130"'
	run_skiff 125 network create --subnet fd27:8::/64 --subnet fd27:9::/64 bad276
	assert_output --partial "only one IPv6 subnet"
}

@test "two stores: their own bridges and tables; one's network rm and reset leave the other working" {
	skip_if_rootless "bridge networks need root"
	mkdir -p "$SKIFF_TEST_ROOT/b"
	skiff2 load -q -i "$FIXTURES/busybox.docker.tar" >/dev/null
	run_skiff network create --subnet 10.231.15.0/24 net276s
	run skiff2 network create --subnet 10.231.16.0/24 net276s
	assert_success
	pa=$(free_port)
	pb=$(free_port)
	run_skiff run -d --name a276 --network net276s -p "$pa:80" "$IMAGE" sh -c "$HTTPD"
	run skiff2 run -d --name b276 --network net276s -p "$pb:80" "$IMAGE" sh -c "$HTTPD"
	assert_success
	bra=$(bridge_of skiff net276s) brb=$(bridge_of skiff2 net276s)
	ta=$(table_of skiff) tb=$(table_of skiff2)
	assert "$bra" != "$brb" "each store has its own bridge"
	assert "$ta" != "$tb" "each store has its own table"
	run cat "/sys/class/net/$brb/ifalias"
	assert_output "skiff:$SKIFF_TEST_ROOT/b/runroot"
	wait_for curl -sf -m 2 "http://127.0.0.1:$pa/"
	wait_for curl -sf -m 2 "http://127.0.0.1:$pb/"
	run nft list table inet "$ta"
	assert_output --partial "dport $pa dnat"
	refute_output --partial "dport $pb dnat"
	run nft list table inet "$tb"
	assert_output --partial "dport $pb dnat"

	# the first store's network goes: the second's bridge, rules and container stay
	run_skiff network rm -f net276s
	run ip link show "$bra"
	assert_failure
	run nft list table inet "$tb"
	assert_output --partial "dport $pb dnat"
	run curl -sf -m 5 "http://127.0.0.1:$pb/"
	assert_output --partial "hello from"
	# a container's start and stop in the first store leave the second's table alone
	run_skiff run --rm "$IMAGE" true
	run_skiff system reset -f
	run nft list table inet "$tb"
	assert_output --partial "dport $pb dnat"
	run curl -sf -m 5 "http://127.0.0.1:$pb/"
	assert_output --partial "hello from"

	# a store deleted outright: the next setup on the host sweeps its bridges and table
	skiff2 rm -fa >/dev/null
	rm -rf "$SKIFF_TEST_ROOT/b"
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff run --rm "$IMAGE" true
	run ip link show "$brb"
	assert_failure
	run nft list table inet "$tb"
	assert_failure
}
