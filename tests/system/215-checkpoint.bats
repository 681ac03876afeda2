#!/usr/bin/env bats
# container checkpoint / restore with CRIU ($SKIFF_CRIU, else criu in PATH). Root only, as
# podman: rootless gets a clear refusal. When `criu check` fails (Debian's CRIU 3.17 on a
# recent kernel), the commands fail cleanly and the container runs on untouched; when it
# passes, a counter loop is checkpointed and restored and goes on counting.

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

function criu_works() {
	"${SKIFF_CRIU:-criu}" check >/dev/null 2>&1
}

# a container counting on stdout, 5 lines a second
function run_counter() { # name [run options]
	local name=$1
	shift
	run_skiff run -d --name "$name" --network none "$@" "$IMAGE" \
		sh -c 'i=0; while true; do echo $i; i=$((i+1)); sleep 0.2; done'
	cid=$output
	wait_for sh -c "'$SKIFF' --root '$SKIFF_TEST_ROOT/root' --runroot '$SKIFF_TEST_ROOT/runroot' logs $name | grep -qx 3"
}

# last NAME: the last number the counter logged
function last() {
	run_skiff logs "$1"
	last_n=${lines[-1]}
}

function logs_past() { # name n
	local out
	out=$("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" logs "$1" | tail -1)
	[ "${out:-0}" -gt "$2" ]
}

@test "checkpoint rootless: a clear refusal, the container runs on" {
	skip_if_root "rootless refusal; root runs the CRIU tests"
	run_counter c$TESTNUM
	run_skiff 125 container checkpoint c$TESTNUM
	assert "$output" =~ "need root" "rootless refusal: $output"
	run_skiff inspect --format '{{.State.Status}}' c$TESTNUM
	is "$output" "running" "still running"
}

@test "checkpoint without a working CRIU: exit 125, the container runs on untouched" {
	skip_if_rootless "checkpoint needs root (CRIU)"
	if criu_works; then
		# make it fail the same way: a criu that fails its check
		printf '#!/bin/sh\n[ "$1" = --version ] && { echo "Version: 3.17.1"; exit 0; }\necho "Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat." >&2\nexit 1\n' >"$SKIFF_TEST_ROOT/criu"
		chmod +x "$SKIFF_TEST_ROOT/criu"
		export SKIFF_CRIU=$SKIFF_TEST_ROOT/criu
	fi
	run_counter c$TESTNUM
	run_skiff inspect --format '{{.State.Pid}}' c$TESTNUM
	local pid=$output
	run_skiff 125 container checkpoint c$TESTNUM
	assert "$output" =~ "checkpoint c$TESTNUM: CRIU [0-9.]+ cannot checkpoint on this kernel: .*\(criu check: " \
		"clean error: $output"
	run_skiff inspect --format '{{.State.Status}} {{.State.Pid}}' c$TESTNUM
	is "$output" "running $pid" "the container runs on, same pid"
	last c$TESTNUM
	local n=$last_n
	wait_for logs_past c$TESTNUM "$n"
	run_skiff stop -t 1 c$TESTNUM
	run_skiff 125 container restore c$TESTNUM
	assert "$output" =~ "cannot checkpoint on this kernel" "restore: same error: $output"
	run_skiff 125 container checkpoint
	assert "$output" =~ "at least one container" "no container named: $output"
}

@test "checkpoint and restore: the counter goes on, new pid, logs continue" {
	skip_if_rootless "checkpoint needs root (CRIU)"
	criu_works || skip "no CRIU that passes \`criu check\` (set SKIFF_CRIU to a CRIU >= 4.1)"
	# a restart policy does not bring a checkpointed container back
	run_counter c$TESTNUM --restart always
	run_skiff inspect --format '{{.State.Pid}}' c$TESTNUM
	local pid1=$output
	run_skiff container checkpoint c$TESTNUM
	is "$output" "$cid" "checkpoint prints the id"
	run_skiff inspect --format '{{.State.Status}} {{.RestartCount}}' c$TESTNUM
	is "$output" "exited 0" "exited after the checkpoint, not restarted"
	last c$TESTNUM
	local n=$last_n
	run_skiff 125 container restore nosuch$TESTNUM
	run_skiff container restore c$TESTNUM
	is "$output" "$cid" "restore prints the id"
	run_skiff inspect --format '{{.State.Status}}' c$TESTNUM
	is "$output" "running" "running again"
	run_skiff inspect --format '{{.State.Pid}}' c$TESTNUM
	assert "$output" -gt 0 "a pid"
	assert "$output" -ne "$pid1" "a new pid"
	wait_for logs_past c$TESTNUM $((n + 3))
	run_skiff logs c$TESTNUM
	# the count goes on from where it stopped: n+1 follows n in the log, no restart at 0
	local joined=" ${lines[*]} "
	assert "$joined" =~ " $n $((n + 1)) " "the counter continues after $n"
	run_skiff 125 container restore c$TESTNUM
	assert "$output" =~ "is running" "restore of a running container: $output"
	run_skiff stop -t 1 c$TESTNUM
}

@test "checkpoint -R keeps it running; --export / --import round trip" {
	skip_if_rootless "checkpoint needs root (CRIU)"
	criu_works || skip "no CRIU that passes \`criu check\` (set SKIFF_CRIU to a CRIU >= 4.1)"
	run_counter c$TESTNUM
	run_skiff inspect --format '{{.State.Pid}}' c$TESTNUM
	local pid1=$output
	run_skiff container checkpoint -R c$TESTNUM
	is "$output" "$cid"
	run_skiff inspect --format '{{.State.Status}} {{.State.Pid}}' c$TESTNUM
	is "$output" "running $pid1" "-R: still running, same pid"

	local tarball=$SKIFF_TEST_ROOT/c$TESTNUM.tar
	run_skiff container checkpoint --export "$tarball" c$TESTNUM
	[ -s "$tarball" ] || die "the export $tarball is missing or empty"
	run tar tf "$tarball"
	assert "$output" =~ "inventory.img" "a CRIU image in the tar"
	last c$TESTNUM
	local n=$last_n
	run_skiff container restore --import "$tarball" c$TESTNUM
	is "$output" "$cid"
	run_skiff inspect --format '{{.State.Status}}' c$TESTNUM
	is "$output" "running"
	wait_for logs_past c$TESTNUM $((n + 2))
	run_skiff 125 container restore --import "$SKIFF_TEST_ROOT/nosuch.tar" c$TESTNUM
	run_skiff stop -t 1 c$TESTNUM
	echo "not a tar" >"$SKIFF_TEST_ROOT/bad.tar"
	run_skiff 125 container restore --import "$SKIFF_TEST_ROOT/bad.tar" c$TESTNUM
	assert "$output" =~ "import .*bad.tar" "a bad import names the file: $output"
	run_skiff inspect --format '{{.State.Status}}' c$TESTNUM
	is "$output" "exited" "a failed import leaves it exited"
}
