#!/usr/bin/env bats
# A user namespace of its own (--userns=keep-id, --userns=auto) together with a network
# namespace the engine made: pasta, slirp4netns, -p, and (root) the bridge network. The
# runtime joins the network namespace before it creates the user namespace.

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

# httpd on PORT inside the container, as whoever the container runs as
function httpd_cmd() { # port
	echo "mkdir -p /tmp/www && echo \"hello \$(id -u) from \$HOSTNAME\" > /tmp/www/index.html && exec busybox httpd -f -p $1 -h /tmp/www"
}

# as root, the container's root is another user: let it through the test's private directories
function open_test_dirs() {
	is_rootless && return 0
	local d=$SKIFF_TEST_ROOT
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
}

# the interfaces of the container's network namespace besides lo
function ifaces() { # output of cat /proc/net/dev
	echo "$1" | awk -F: 'NR > 2 { gsub(/ /, "", $1); if ($1 != "lo") print $1 }'
}

function fetch() { # URL
	curl -sf -m 5 "$1"
}

@test "--userns=keep-id -p: httpd reached with curl, runs as the caller" {
	skip_if_root "--userns=keep-id is rootless only"
	local port
	port=$(free_port)
	run_skiff run -d --userns=keep-id --name k$TESTNUM --hostname k$TESTNUM -p 127.0.0.1:$port:8080 "$IMAGE" \
		sh -c "$(httpd_cmd 8080)"
	wait_for fetch "http://127.0.0.1:$port/"
	run curl -sf -m 5 "http://127.0.0.1:$port/"
	is "$output" "hello $(id -u) from k$TESTNUM" "served by the caller's uid through the published port"
	run_skiff inspect --format '{{.HostConfig.UsernsMode}} {{.HostConfig.NetworkMode}}' k$TESTNUM
	is "$output" "keep-id pasta" "keep-id, and pasta picked by default"
	# the container has its own user namespace, and the network namespace the helper serves
	run_skiff exec k$TESTNUM readlink /proc/self/ns/user
	assert "$output" != "$(readlink /proc/self/ns/user)" "a user namespace of its own"
	run_skiff exec k$TESTNUM cat /proc/net/dev
	assert "$(ifaces "$output")" != "" "an interface besides lo: $output"
	run_skiff exec k$TESTNUM cat /proc/sys/net/ipv4/ping_group_range
	assert "$output" =~ "^0[[:space:]]+0$" "ping_group_range reads 0 0 from inside: $output"
	run_skiff rm -f -t 0 k$TESTNUM
}

@test "--userns=auto -p: container root serves on port 80" {
	local port
	port=$(free_port)
	open_test_dirs
	run_skiff run -d --userns=auto --name a$TESTNUM --hostname a$TESTNUM -p 127.0.0.1:$port:80 "$IMAGE" \
		sh -c "$(httpd_cmd 80)"
	wait_for fetch "http://127.0.0.1:$port/"
	run curl -sf -m 5 "http://127.0.0.1:$port/"
	is "$output" "hello 0 from a$TESTNUM" "served by the container's root"
	run_skiff exec a$TESTNUM cat /proc/sys/net/ipv4/ip_unprivileged_port_start
	is "$output" "0" "low ports open to the container's root"
	run_skiff exec a$TESTNUM cat /proc/self/uid_map
	assert "$output" !~ "^[[:space:]]*0[[:space:]]+0[[:space:]]" "root is not the engine's root: $output"
	run_skiff rm -f -t 0 a$TESTNUM
}

@test "--userns=keep-id --network slirp4netns -p" {
	skip_if_root "--userns=keep-id is rootless only"
	command -v slirp4netns >/dev/null || skip "no slirp4netns"
	local port
	port=$(free_port)
	run_skiff run -d --userns=keep-id --network slirp4netns --name s$TESTNUM --hostname s$TESTNUM \
		-p 127.0.0.1:$port:8080 "$IMAGE" sh -c "$(httpd_cmd 8080)"
	wait_for fetch "http://127.0.0.1:$port/"
	run curl -sf -m 5 "http://127.0.0.1:$port/"
	is "$output" "hello $(id -u) from s$TESTNUM" "served through slirp4netns"
	run_skiff rm -f -t 0 s$TESTNUM
}

@test "--userns=auto without --network: the default network, not lo only" {
	open_test_dirs
	run_skiff run --rm --userns=auto "$IMAGE" cat /proc/net/dev
	assert "$(ifaces "$output")" != "" "an interface besides lo: $output"
}

@test "--userns=auto with the bridge network (root)" {
	skip_if_rootless "bridge networks are root only"
	local port
	port=$(free_port)
	open_test_dirs
	run_skiff network create un$TESTNUM
	run_skiff run -d --userns=auto --network un$TESTNUM --name b$TESTNUM --hostname b$TESTNUM \
		-p 127.0.0.1:$port:80 "$IMAGE" sh -c "$(httpd_cmd 80)"
	wait_for fetch "http://127.0.0.1:$port/"
	run curl -sf -m 5 "http://127.0.0.1:$port/"
	is "$output" "hello 0 from b$TESTNUM" "served from the bridge network"
	run_skiff exec b$TESTNUM cat /proc/net/dev
	assert "$(ifaces "$output")" =~ "eth0" "eth0 is there: $output"
	run_skiff rm -f -t 0 b$TESTNUM
	run_skiff network rm un$TESTNUM
}
