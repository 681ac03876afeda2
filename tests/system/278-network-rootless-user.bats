#!/usr/bin/env bats
# Rootless user networks: bridges inside one rootless network namespace per runroot, with
# slirp4netns attached for the way out (runroot/networks/rootless-netns: netns pin,
# helper.pid, slirp.sock). Names and aliases between containers, -p through slirp4netns's
# port forwarder and DNAT inside, rm refused while in use, the namespace and its helper gone
# with the last container. Root: bridge networks on the host, see 276.

load helpers

function setup() {
	skip_if_root "root: see 276"
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

# skiff ARGS: the binary on this test's store, outside run_skiff (teardown, wait_for)
function skiff() {
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "$@"
}

function teardown() {
	if is_rootless; then
		skiff rm -fa >/dev/null 2>&1 || true
		skiff network prune -f >/dev/null 2>&1 || true
		skiff_teardown
	fi
}

function free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

RLDIR() { echo "$SKIFF_TEST_ROOT/runroot/networks/rootless-netns"; }

# the pid of the rootless namespace's slirp4netns, from its pid file
function rl_helper_pid() {
	cut -d' ' -f1 "$(RLDIR)/helper.pid"
}

# gone PID: no such process, or a zombie (an exited one that no ancestor reaped yet)
function gone() {
	[ ! -e /proc/$1/status ] || grep -q '^State:[[:space:]]*Z' /proc/$1/status
}

function fetch() { # URL
	curl -sf -m 5 "$1"
}

HTTPD='mkdir -p /www && echo "hello from $HOSTNAME" > /www/index.html && exec busybox httpd -f -p 80 -h /www'

@test "two containers on a user network reach each other by name and alias" {
	run_skiff network create --subnet 10.232.1.0/24 n$TESTNUM
	assert_output n$TESTNUM
	run_skiff run -d --name web$TESTNUM --hostname web$TESTNUM --network n$TESTNUM --network-alias site$TESTNUM \
		"$IMAGE" sh -c "$HTTPD"
	run_skiff run -d --name cli$TESTNUM --network n$TESTNUM "$IMAGE" sleep 100
	run_skiff exec web$TESTNUM busybox ip -4 addr show eth0
	assert_output --partial "inet 10.232.1."
	run_skiff exec cli$TESTNUM busybox ip route
	assert_line --regexp '^default via 10\.232\.1\.1 dev eth0'
	wait_for skiff exec cli$TESTNUM busybox wget -q -O - http://web$TESTNUM/
	run_skiff exec cli$TESTNUM busybox wget -q -O - http://web$TESTNUM/
	is "$output" "hello from web$TESTNUM" "wget by name"
	run_skiff exec cli$TESTNUM busybox wget -q -O - http://site$TESTNUM/
	is "$output" "hello from web$TESTNUM" "wget by alias"
	# busybox ping needs a raw socket (it does not fall back to ICMP datagram sockets)
	run_skiff run --rm --cap-add NET_RAW --network n$TESTNUM "$IMAGE" busybox ping -c 1 -W 5 site$TESTNUM
	assert_output --partial "1 packets received"
	# 64 KiB links here too (the namespace's uplink, slirp4netns's tap, is 65520: no route MTU)
	run_skiff exec cli$TESTNUM busybox ip link show eth0
	assert_output --regexp 'eth0@.* mtu 65520 '
	run_skiff inspect --format '{{.NetworkSettings.Networks}}' cli$TESTNUM
	assert_output --partial "n$TESTNUM"
	# the namespace is pinned and its helper recorded and alive
	local pid
	pid=$(rl_helper_pid)
	assert "$pid" -gt 0 "helper pid recorded"
	run cat /proc/$pid/comm
	is "$output" "slirp4netns" "the rootless namespace's helper"
	# nothing on the host: the bridge is in the rootless namespace
	run ip -o addr show
	refute_output --partial "10.232.1.1"
}

@test "--network none is still lo only beside a user network" {
	run_skiff network create n$TESTNUM
	run_skiff run -d --name a$TESTNUM --network n$TESTNUM "$IMAGE" sleep 100
	run_skiff run --rm --network none "$IMAGE" busybox ip -o link show
	assert_output --regexp '^1: lo'
	is "${#lines[@]}" 1 "one link: $output"
}

@test "-p 127.0.0.1:PORT:80 on a user network: curl from the host" {
	local port
	port=$(free_port)
	run_skiff network create n$TESTNUM
	run_skiff run -d --name web$TESTNUM --hostname web$TESTNUM --network n$TESTNUM -p 127.0.0.1:$port:80 \
		"$IMAGE" sh -c "$HTTPD"
	wait_for fetch "http://127.0.0.1:$port/"
	run curl -sf -m 5 "http://127.0.0.1:$port/"
	is "$output" "hello from web$TESTNUM" "page through the published port"
	run_skiff port web$TESTNUM
	is "$output" "80/tcp -> 127.0.0.1:$port" "port"
	# tcp goes through the container's port proxy
	local id proxy
	id=$(skiff inspect --format '{{.Id}}' web$TESTNUM)
	proxy=$(cut -d' ' -f1 "$SKIFF_TEST_ROOT/runroot/networks/$id/proxy.pid")
	assert "$(cat /proc/$proxy/comm)" == "skiff-portproxy" "tcp ports go through the proxy"
	# which listens on IPv6 host addresses too
	if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
		local port6
		port6=$(free_port)
		run_skiff run -d --name six$TESTNUM --hostname six$TESTNUM --network n$TESTNUM -p "[::1]:$port6:80" \
			"$IMAGE" sh -c "$HTTPD"
		wait_for fetch "http://[::1]:$port6/"
		run curl -sf -m 5 "http://[::1]:$port6/"
		is "$output" "hello from six$TESTNUM" "page through [::1]"
		run_skiff rm -f six$TESTNUM
	fi
	# one host port on two host addresses, to two container ports
	local hostip
	hostip=$(ip -4 -o addr show scope global | awk '$2 !~ /^(podman|skiff|sk|veth)/ {split($4, a, "/"); print a[1]; exit}')
	if [ -n "$hostip" ]; then
		local p2
		p2=$(free_port)
		run_skiff run -d --name two$TESTNUM --network n$TESTNUM -p 127.0.0.1:$p2:80 -p "$hostip:$p2:81" "$IMAGE" \
			sh -c 'mkdir -p /a /b && echo eighty >/a/index.html && echo eightyone >/b/index.html &&
				busybox httpd -p 81 -h /b && exec busybox httpd -f -p 80 -h /a'
		wait_for fetch "http://127.0.0.1:$p2/"
		run curl -sf -m 5 "http://127.0.0.1:$p2/"
		is "$output" "eighty" "127.0.0.1:$p2 -> 80"
		run curl -sf -m 5 "http://$hostip:$p2/"
		is "$output" "eightyone" "$hostip:$p2 -> 81"
		run_skiff rm -f two$TESTNUM
	fi
	# a user's PATH without /usr/sbin (Debian's) still finds nft for the rules
	local port3
	port3=$(free_port)
	PATH=/usr/bin:/bin run_skiff run -d --name path$TESTNUM --network n$TESTNUM -p 127.0.0.1:$port3:80 "$IMAGE" \
		sh -c "$HTTPD"
	wait_for fetch "http://127.0.0.1:$port3/"
	run_skiff rm -f path$TESTNUM
	# the port is given back with the container, and the proxy is gone
	run_skiff rm -f web$TESTNUM
	wait_for gone "$proxy"
	# (SO_REUSEADDR: curl's connection may leave the port in TIME_WAIT)
	run python3 -c "import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',$port)); s.listen()"
	assert_success "nothing listens on $port any more: $output"
}

@test "network rm refused while in use; no stray processes after the last container" {
	run_skiff network create n$TESTNUM
	run_skiff run -d --name a$TESTNUM --network n$TESTNUM "$IMAGE" sleep 100
	local pid
	pid=$(rl_helper_pid)
	assert "$pid" -gt 0 "helper pid recorded"
	run_skiff 2 network rm n$TESTNUM
	assert_output --partial "is being used"
	run_skiff rm -f a$TESTNUM
	# the last user left: the helper is gone with its pid file and the pin
	run test -e "$(RLDIR)/helper.pid"
	assert_failure
	run gone "$pid"
	assert_success "helper $pid exited"
	run_skiff network rm n$TESTNUM
	# and a new container makes it again
	run_skiff network create n$TESTNUM
	run_skiff run --rm --network n$TESTNUM "$IMAGE" busybox ip -4 addr show eth0
	assert_output --partial "inet 10."
	run test -e "$(RLDIR)/helper.pid"
	assert_failure
}

@test "network connect and disconnect a running container" {
	run_skiff network create --subnet 10.232.2.0/24 a$TESTNUM
	run_skiff network create --subnet 10.232.3.0/24 b$TESTNUM
	run_skiff run -d --name c$TESTNUM --network a$TESTNUM "$IMAGE" sleep 100
	run_skiff network connect b$TESTNUM c$TESTNUM
	run_skiff exec c$TESTNUM busybox ip -4 addr show eth1
	assert_output --partial "inet 10.232.3."
	run_skiff network disconnect b$TESTNUM c$TESTNUM
	run_skiff 1 exec c$TESTNUM busybox ip addr show eth1
	run_skiff exec c$TESTNUM busybox ip -4 addr show eth0
	assert_output --partial "inet 10.232.2."
}

@test "a killed helper is replaced: the bridges stay, published ports come back" {
	local port pid
	port=$(free_port)
	run_skiff network create n$TESTNUM
	run_skiff run -d --name web$TESTNUM --hostname web$TESTNUM --network n$TESTNUM -p 127.0.0.1:$port:80 \
		"$IMAGE" sh -c "$HTTPD"
	wait_for fetch "http://127.0.0.1:$port/"
	pid=$(rl_helper_pid)
	kill -9 "$pid"
	wait_for gone "$pid"
	run_skiff run -d --name cli$TESTNUM --network n$TESTNUM "$IMAGE" sleep 100
	local npid
	npid=$(rl_helper_pid)
	assert "$npid" != "$pid" "a new helper"
	run cat /proc/$npid/comm
	is "$output" "slirp4netns" "the new helper"
	wait_for skiff exec cli$TESTNUM busybox wget -q -O - http://web$TESTNUM/
	run_skiff exec cli$TESTNUM busybox wget -q -O - http://web$TESTNUM/
	is "$output" "hello from web$TESTNUM" "the first container is still on the bridge"
	wait_for fetch "http://127.0.0.1:$port/"
	run curl -sf -m 5 "http://127.0.0.1:$port/"
	is "$output" "hello from web$TESTNUM" "its published port is back"
}
