#!/usr/bin/env bats
# The journald log driver: without a journal, run refuses it naming the socket; as root, a
# private systemd-journald (in a mount namespace of its own, its sockets and journal files
# on tmpfs) receives the container's lines with conmon's fields, and `skiff logs` reads
# them back through libsystemd with --tail, --since, --until, --timestamps and -f.

load helpers

function setup() {
	skiff_setup
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	JOURNALD=/lib/systemd/systemd-journald
}

# skip when this build cannot select the driver yet (the engine and the monitor wiring)
function require_journald_driver() {
	run_skiff run --help
	if [[ ! $output =~ "json-file, journald" ]]; then
		skip "log driver journald: run/create and skiff-monitor do not pass it on in this build"
	fi
}

@test "journald: no journal on the host is a clear error at create and run" {
	[ ! -S /run/systemd/journal/socket ] || skip "a journald runs on this host: its absence cannot be tested"
	require_journald_driver
	run_skiff 125 run --log-driver journald "$IMAGE" true
	assert "$output" =~ "journald is not running: /run/systemd/journal/socket is missing" "run: $output"
	run_skiff 125 create --log-driver journald "$IMAGE" true
	assert "$output" =~ "journald is not running: /run/systemd/journal/socket is missing" "create: $output"
}

@test "journald: a private journald receives the lines; logs reads them back" {
	skip_if_rootless "starting systemd-journald needs root (a mount namespace and its sockets)"
	[ -x "$JOURNALD" ] || skip "no $JOURNALD (package systemd)"
	command -v journalctl >/dev/null || skip "no journalctl (package systemd)"
	require_journald_driver
	local out=$BATS_TEST_TMPDIR/out
	mkdir -p "$out"
	cat >"$BATS_TEST_TMPDIR/inns.sh" <<EOF
set -u
S() { timeout $SKIFF_TIMEOUT "$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "\$@"; }
mount -t tmpfs tmpfs /run/systemd || exit 90
mkdir -p /run/log /var/log/journal
mount -t tmpfs tmpfs /run/log || exit 91
mount -t tmpfs tmpfs /var/log/journal || exit 92
$JOURNALD >"$out/journald.log" 2>&1 &
jpid=\$!
for i in \$(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
[ -S /run/systemd/journal/socket ] || { kill \$jpid; exit 93; }
S run --name j$TESTNUM --log-driver journald "$IMAGE" sh -c 'echo one; echo two >&2; sleep 0.3; echo three; printf part; sleep 0.3; echo ial' \
	>"$out/run" 2>&1; echo \$? >"$out/run.rc"
S inspect --format '{{.Id}}' j$TESTNUM >"$out/id" 2>&1
# journald may take a moment to write what it received
for i in \$(seq 100); do S logs j$TESTNUM 2>&1 | grep -q partial && break; sleep 0.1; done
S logs j$TESTNUM >"$out/logs" 2>"$out/logs.err"; echo \$? >"$out/logs.rc"
S logs --tail 2 j$TESTNUM >"$out/tail" 2>&1
S logs --timestamps --tail 1 j$TESTNUM >"$out/ts" 2>&1
S logs --since 1h --until 0s j$TESTNUM >"$out/window" 2>&1
S logs --until 2000-01-01 j$TESTNUM >"$out/none" 2>&1
# --log-opt tag=: CONTAINER_TAG and the identifier
S run --name t$TESTNUM --log-driver journald --log-opt tag=tg$TESTNUM "$IMAGE" echo tagged >/dev/null 2>&1
S inspect --format '{{json .HostConfig.LogConfig}}' t$TESTNUM >"$out/tagcfg" 2>&1
for i in \$(seq 100); do S logs t$TESTNUM 2>&1 | grep -q tagged && break; sleep 0.1; done
# journald writes /run/log/journal until it is told to flush to /var/log/journal
for d in /run/log/journal /var/log/journal; do
	journalctl -D \$d -o export CONTAINER_NAME=j$TESTNUM 2>&1
done >"$out/export"
for d in /run/log/journal /var/log/journal; do
	journalctl -D \$d -o export CONTAINER_NAME=t$TESTNUM 2>&1
done >"$out/export-tag"
# -f: follows a running container until it exits
S run -d --name f$TESTNUM --log-driver journald "$IMAGE" sh -c 'echo first; sleep 2; echo second' >/dev/null 2>&1
S logs -f f$TESTNUM >"$out/follow" 2>&1; echo \$? >"$out/follow.rc"
S rm -f -t 0 j$TESTNUM f$TESTNUM t$TESTNUM >/dev/null 2>&1
kill \$jpid; wait \$jpid
exit 0
EOF
	run timeout 120 unshare -m --propagation private sh "$BATS_TEST_TMPDIR/inns.sh"
	[ "$status" -eq 0 ] || die "the private journald did not start (status $status): $(cat "$out/journald.log" 2>/dev/null)"
	is "$(cat "$out/run.rc")" "0" "run: $(cat "$out/run")"
	assert "$(cat "$out/run")" =~ "one" "run attached still shows the output"
	is "$(cat "$out/logs.rc")" "0" "logs: $(cat "$out/logs.err")"
	is "$(cat "$out/logs" "$out/logs.err" | sort)" "$(printf 'one\npartial\nthree\ntwo')" "every line, once"
	is "$(cat "$out/logs.err")" "two" "stderr (PRIORITY=3) goes to stderr"
	is "$(cat "$out/tail")" "$(printf 'three\npartial')" "--tail counts lines: a partial line is one with its end"
	assert "$(cat "$out/ts")" =~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}[+-][0-9]{2}:[0-9]{2} part' \
		"--timestamps: $(cat "$out/ts")"
	assert "$(cat "$out/window")" =~ "one" "--since 1h --until 0s"
	is "$(cat "$out/none")" "" "--until before the container"
	local id
	id=$(cat "$out/id")
	local x
	x=$(cat "$out/export")
	assert "$x" =~ "MESSAGE=one" "journalctl: $x"
	assert "$x" =~ "CONTAINER_ID_FULL=$id"
	assert "$x" =~ "CONTAINER_ID=${id:0:12}"
	assert "$x" =~ "CONTAINER_NAME=j$TESTNUM"
	assert "$x" =~ "SYSLOG_IDENTIFIER=j$TESTNUM"
	assert "$x" =~ "PRIORITY=3"
	assert "$x" =~ "CONTAINER_PARTIAL_MESSAGE=true"
	x=$(cat "$out/export-tag")
	assert "$x" =~ "MESSAGE=tagged" "journalctl, tagged: $x"
	assert "$x" =~ "CONTAINER_TAG=tg$TESTNUM"
	assert "$x" =~ "SYSLOG_IDENTIFIER=tg$TESTNUM"
	assert "$(cat "$out/tagcfg")" =~ '"tag":"tg'"$TESTNUM"'"' "inspect: $(cat "$out/tagcfg")"
	is "$(cat "$out/follow.rc")" "0" "logs -f: $(cat "$out/follow")"
	is "$(cat "$out/follow")" "$(printf 'first\nsecond')" "logs -f follows until the container exits"
}

@test "journald: logs without libsystemd is a clear error" {
	skip_if_rootless "needs a journald container, made as root"
	[ -x "$JOURNALD" ] || skip "no $JOURNALD (package systemd)"
	require_journald_driver
	local lib=$BATS_TEST_TMPDIR/nolib
	mkdir -p "$lib"
	cat >"$BATS_TEST_TMPDIR/inns.sh" <<EOF
mount -t tmpfs tmpfs /run/systemd || exit 90
$JOURNALD >/dev/null 2>&1 &
jpid=\$!
for i in \$(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
S() { timeout $SKIFF_TIMEOUT "$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "\$@"; }
S create --name n$TESTNUM --log-driver journald "$IMAGE" true >/dev/null
# hide libsystemd.so.0 from the loader
for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib /usr/lib; do
	[ -e \$d/libsystemd.so.0 ] && mount --bind /dev/null \$d/libsystemd.so.0
done
S logs n$TESTNUM; echo "rc=\$?"
S rm -f n$TESTNUM >/dev/null
kill \$jpid
EOF
	run timeout 60 unshare -m --propagation private sh "$BATS_TEST_TMPDIR/inns.sh"
	assert "$output" =~ "cannot read the journal without libsystemd.so.0" "$output"
	assert "$output" =~ "rc=125" "$output"
}
