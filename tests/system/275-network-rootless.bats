#!/usr/bin/env bats
# Networks through pasta and slirp4netns: -p/-P published ports reachable on 127.0.0.1,
# `port`, ps PORTS, inspect NetworkSettings.Ports, --network none, the helper's end with
# the container, ports in use, bad -p specs. Root and rootless (root uses pasta too).

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

# A free TCP port on 127.0.0.1 from the kernel.
function free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

HTTPD='mkdir -p /www && echo "hello from $HOSTNAME" > /www/index.html && exec busybox httpd -f -p 80 -h /www'

# helper_pid: the pid of the (only) container's network helper
function helper_pid() {
	cut -d' ' -f1 "$SKIFF_TEST_ROOT"/runroot/networks/*/helper.pid
}

# listening81 CTR: whether something in CTR listens on tcp port 81 (0x51), IPv4 or IPv6
function listening81() {
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" exec "$1" cat /proc/net/tcp /proc/net/tcp6 |
		awk '$2 ~ /:0051$/ && $4 == "0A" { f = 1 } END { exit !f }'
}

function fetch() { # URL
	curl -sf -m 5 "$1"
}

@test "-p: busybox httpd reached with curl on 127.0.0.1; port, ps, inspect" {
	local port
	port=$(free_port)
	run_skiff run -d --network pasta --name web$TESTNUM --hostname web$TESTNUM -p 127.0.0.1:$port:80 "$IMAGE" sh -c "$HTTPD"
	wait_for fetch "http://127.0.0.1:$port/"
	run curl -sf -m 5 "http://127.0.0.1:$port/"
	is "$output" "hello from web$TESTNUM" "page served through the published port"
	run_skiff port web$TESTNUM
	is "$output" "80/tcp -> 127.0.0.1:$port" "port"
	run_skiff port web$TESTNUM 80
	is "$output" "127.0.0.1:$port" "port CTR 80"
	run_skiff 125 port web$TESTNUM 81/udp
	assert "$output" =~ "failed to find published port \"81/udp\"" "port of an unpublished port: $output"
	run_skiff ps --format '{{.Ports}}'
	is "$output" "127.0.0.1:$port->80/tcp" "ps PORTS"
	run_skiff inspect --format '{{json .NetworkSettings.Ports}}' web$TESTNUM
	assert "$output" == "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}]}" "inspect NetworkSettings.Ports"
	run_skiff exec web$TESTNUM cat /etc/resolv.conf
	assert "${lines[0]}" == "nameserver 169.254.1.1" "pasta's DNS forwarder first: $output"
	run_skiff exec web$TESTNUM grep host.containers.internal /etc/hosts
	assert "$output" =~ "host.containers.internal" "hosts has host.containers.internal"
}

@test "the helper is gone after stop and rm; the port is free again" {
	local port pid
	port=$(free_port)
	run_skiff run -d --network pasta --name h$TESTNUM -p 127.0.0.1:$port:80 "$IMAGE" sh -c "$HTTPD"
	wait_for fetch "http://127.0.0.1:$port/"
	pid=$(helper_pid)
	assert "$pid" -gt 0 "helper pid recorded"
	run_skiff stop -t 1 h$TESTNUM
	wait_for sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
	run curl -s -m 2 "http://127.0.0.1:$port/"
	assert "$status" -ne 0 "nothing listens after stop"
	run_skiff start h$TESTNUM
	wait_for fetch "http://127.0.0.1:$port/"
	pid=$(helper_pid)
	run_skiff rm -f h$TESTNUM
	wait_for sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
	run sh -c "find '$SKIFF_TEST_ROOT/runroot/networks' -mindepth 1 2>/dev/null"
	is "$output" "" "no network directory left"
}

@test "-P publishes EXPOSEd ports on random host ports" {
	# an image with EXPOSE 80 through commit --change
	run_skiff run --name base$TESTNUM "$IMAGE" true
	run_skiff commit -q --change 'EXPOSE 80' base$TESTNUM localhost/expose$TESTNUM
	run_skiff run -d --name pa$TESTNUM -P localhost/expose$TESTNUM sh -c "$HTTPD"
	run_skiff port pa$TESTNUM 80/tcp
	assert "$output" =~ "^0\.0\.0\.0:[0-9]+$" "random port: $output"
	local port=${output##*:}
	wait_for fetch "http://127.0.0.1:$port/"
	run_skiff rm -f pa$TESTNUM
}

@test "-p with a range and udp" {
	local port
	port=$(free_port)
	run_skiff run -d --network pasta --name u$TESTNUM -p 127.0.0.1:$port:9999/udp "$IMAGE" sleep 1000
	run_skiff port u$TESTNUM
	is "$output" "9999/udp -> 127.0.0.1:$port" "udp port"
	run_skiff create --name r$TESTNUM -p 127.0.0.1::8000-8002 "$IMAGE" true
	run_skiff port r$TESTNUM
	assert "${#lines[@]}" -eq 3 "a range of three: $output"
	assert "${lines[1]}" =~ "^8001/tcp -> 127\.0\.0\.1:[0-9]+$" "range: $output"
	# the helper holds the udp port on the host (busybox has no udp listener to send to)
	run ss -Hlun "src 127.0.0.1:$port"
	assert "$output" =~ "127.0.0.1:$port" "udp port bound on the host: $output"
	run_skiff rm -f u$TESTNUM r$TESTNUM
}

@test "--network slirp4netns: tcp ports through skiff's port proxy; port_handler=slirp4netns through its API" {
	local port up
	port=$(free_port)
	up=$(free_port)
	run_skiff run -d --name s$TESTNUM --network slirp4netns:allow_host_loopback=false -p 127.0.0.1:$port:80 \
		-p 127.0.0.1:$up:81 "$IMAGE" sh -c "head -c 8388608 /dev/urandom >/big; $HTTPD"
	wait_for fetch "http://127.0.0.1:$port/"
	run_skiff exec s$TESTNUM cat /etc/resolv.conf
	assert "${lines[0]}" == "nameserver 10.0.2.3" "slirp4netns DNS: $output"
	run_skiff exec s$TESTNUM grep -c tap0 /proc/net/dev
	is "$output" "1" "tap0 inside"
	local pid proxy
	pid=$(helper_pid)
	assert "$(cat /proc/$pid/comm)" == "slirp4netns" "the helper is slirp4netns"
	proxy=$(cut -d' ' -f1 "$SKIFF_TEST_ROOT"/runroot/networks/*/proxy.pid)
	assert "$(cat /proc/$proxy/comm)" == "skiff-portproxy" "tcp ports go through the proxy"
	# 8 MiB down, intact
	run_skiff exec s$TESTNUM sh -c 'cp /big /www/big && sha256sum /big'
	local want=${output%% *}
	run sh -c "curl -sf -m 30 http://127.0.0.1:$port/big | sha256sum"
	is "${output%% *}" "$want" "the download through the proxy"
	# 8 MiB up, then a half-close: the container's sha256sum sees EOF and answers on the same connection
	run_skiff exec -d s$TESTNUM sh -c 'busybox nc -l -p 81 -e sha256sum'
	wait_for listening81 s$TESTNUM
	run python3 -c '
import hashlib, os, socket, sys
data = os.urandom(8 << 20)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
r = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    r += d
print(hashlib.sha256(data).hexdigest(), r.decode().split()[0])' "$up"
	assert_success
	local sums=($output)
	is "${sums[1]}" "${sums[0]}" "the upload through the proxy, half-closed"
	run_skiff rm -f s$TESTNUM
	wait_for sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
	wait_for sh -c "! kill -0 $proxy 2>/dev/null || grep -q '^State:.*Z' /proc/$proxy/status"
	# port_handler=slirp4netns: slirp4netns's own forwarding (the client's address kept), no proxy
	port=$(free_port)
	run_skiff run -d --name k$TESTNUM --network slirp4netns:port_handler=slirp4netns -p 127.0.0.1:$port:80 \
		"$IMAGE" sh -c "$HTTPD"
	wait_for fetch "http://127.0.0.1:$port/"
	run sh -c "ls '$SKIFF_TEST_ROOT'/runroot/networks/*/proxy.pid 2>/dev/null"
	is "$output" "" "no proxy with port_handler=slirp4netns"
	run_skiff rm -f k$TESTNUM
	run_skiff 125 run --rm --network slirp4netns:port_handler=nope "$IMAGE" true
	assert "$output" =~ "invalid option \"port_handler=nope\"" "$output"
	run_skiff 125 run --rm --network slirp4netns:bogus=1 "$IMAGE" true
	assert "$output" =~ "invalid option \"bogus=1\"" "$output"
}

@test "--network none has only lo" {
	run_skiff run --rm --network none "$IMAGE" sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
	is "$output" "lo" "only lo"
	run_skiff 125 run --rm --network none -p 8080:80 "$IMAGE" true
	assert "$output" =~ "cannot publish ports with --network none" "$output"
}

@test "a port in use is a clear error, and nothing is left behind" {
	local port
	port=$(free_port)
	python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',$port)); s.listen(); time.sleep(30)" &
	local holder=$!
	wait_for sh -c "ss -ltn | grep -q 127.0.0.1:$port"
	run_skiff 125 run -d --name busy$TESTNUM -p 127.0.0.1:$port:80 "$IMAGE" sleep 100
	assert "$output" =~ "publish 127.0.0.1:$port/tcp: Address already in use" "$output"
	# and where the port proxy would listen
	run_skiff 125 run -d --name busyslirp$TESTNUM --network slirp4netns -p 127.0.0.1:$port:80 "$IMAGE" sleep 100
	assert "$output" =~ "publish 127.0.0.1:$port/tcp: Address already in use" "$output"
	kill $holder
	run sh -c "find '$SKIFF_TEST_ROOT/runroot/networks' -mindepth 1 2>/dev/null"
	is "$output" "" "no network directory left"
}

@test "bad -p specs are rejected" {
	local spec
	for spec in abc 80:abc 70000 0 1.2.3:80:80 8080-8081:80 80/sctpx ::: '[::1:80:80' 1:2:3:4; do
		run_skiff 125 create -p "$spec" "$IMAGE" true
		assert "$output" =~ "invalid port format|unknown protocol|sctp|bad IP" "-p $spec: $output"
	done
}
