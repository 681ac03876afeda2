#!/usr/bin/env bats
# Rootful bridge networks: the default network, user networks, names through /etc/hosts,
# --ip, -p DNAT with nftables, --internal, connect/disconnect, rm refused/forced, cleanup of
# veths and rules; network ls/inspect/exists/prune. Rootless user networks: see 278.

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

function teardown() {
	skiff rm -fa >/dev/null 2>&1 || true
	skiff network prune -f >/dev/null 2>&1 || true
	skiff_teardown
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
	run_skiff network inspect --format '{{.Subnets}}' net276a
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

@test "-p: DNAT reaches busybox httpd from 127.0.0.1 and the host's address" {
	skip_if_rootless "bridge networks need root"
	port=$(free_port)
	run_skiff run -d --name c276p -p "$port:80" "$IMAGE" sh -c "$HTTPD"
	wait_for curl -sf -m 2 "http://127.0.0.1:$port/"
	run curl -sf -m 5 "http://127.0.0.1:$port/"
	assert_output --partial "hello from"
	hostip=$(ip -4 -o addr show scope global | awk '$2 != "skiff0" && $2 !~ /^(podman|skiff)/ {split($4,a,"/"); print a[1]; exit}')
	run curl -sf -m 5 "http://$hostip:$port/"
	assert_output --partial "hello from"
	run nft list table inet skiff
	assert_output --partial "dport $port dnat"
	run_skiff rm -f c276p
	run nft list table inet skiff
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
	run_skiff network rm -f net276u
	run_skiff 1 container exists web276
	run_skiff 1 container exists cli276b
	run ip link show skiff1
	refute_output --partial "10.231.8"
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
	run_skiff rm -f ns$TESTNUM
}
