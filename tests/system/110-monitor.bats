#!/usr/bin/env bats
# skiff-monitor over the fake OCI runtime (tests/helpers/fake-runtime.c, whose "containers" are
# host processes): output and the k8s-file log, exit records, stop and kill, restarts, the exit
# command, terminal mode, attach and stdin, the control protocol, detaching. Root and rootless.

load helpers
bats_require_minimum_version 1.5.0

MONITOR=${SKIFF_MONITOR:-$SKIFF_REPO/bin/skiff-monitor}
FAKE=$HELPER_DIR/fake-runtime

function setup() {
	skiff_setup
	[ -x "$MONITOR" ] || die "$MONITOR is missing: build it (make bin/skiff-monitor)"
	[ -x "$FAKE" ] || die "$FAKE is missing: build it (make $(basename "$HELPER_DIR")/fake-runtime)"
	RT=$SKIFF_TEST_ROOT/rt
	_dirs=()
	_bg_pids=()
}

function teardown() {
	local d p
	for p in "${_bg_pids[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
	done
	# A monitor a test left running: kill its container (the monitor then exits), or it.
	for d in "${_dirs[@]}"; do
		if "$MONITOR" --client "$d" alive >/dev/null 2>&1; then
			timeout 5 "$MONITOR" --client "$d" kill KILL >/dev/null 2>&1 || true
			wait_for --timeout 5 bash -c "! '$MONITOR' --client '$d' alive" 2>/dev/null || true
			if "$MONITOR" --client "$d" alive >/dev/null 2>&1; then
				kill -KILL "$(cut -d' ' -f1 "$d/monitor.pid")" 2>/dev/null || true
			fi
		fi
	done
	skiff_teardown
}

# new_ctr NAME ARGV...: a bundle whose command is ARGV ($B) and a container dir ($D), in a
# directory of the test's (its path: $2 of new_ctr_in).
function new_ctr() {
	new_ctr_in "$SKIFF_TEST_ROOT/$1" "$@"
}

function new_ctr_in() {
	local base=$1
	shift 2
	B=$base/bundle D=$base/dir
	mkdir -p "$B" "$D"
	printf '%s\n' "$@" >"$B/cmd"
	_dirs+=("$D")
}

# spawn_monitor [EXPECTED-STATUS] ID [OPTION...]: `skiff-monitor --spawn` (the client library's
# mon_spawn) for $B/$D with the fake runtime and the log $D/ctr.log. Sets $output, $status;
# on success $CTR_PID and $MON_PID.
function spawn_monitor() {
	local expected=0
	if [[ $1 =~ ^[0-9]+$ ]]; then
		expected=$1
		shift
	fi
	local id=$1
	shift
	run timeout --kill-after=5 30 "$MONITOR" --spawn --id "$id" --bundle "$B" --dir "$D" --runtime "$FAKE" \
		--runtime-arg "--root=$RT" --log-path "$D/ctr.log" "$@"
	if [ "$status" -ne "$expected" ]; then
		die "skiff-monitor --spawn $id $*: exit status $status, expected $expected; output: $output"
		return 1
	fi
	if [ "$expected" -eq 0 ]; then
		[[ $output =~ ^ok\ ([0-9]+)\ ([0-9]+)$ ]] || die "sync line: '$output'"
		CTR_PID=${BASH_REMATCH[1]} MON_PID=${BASH_REMATCH[2]}
	fi
}

# client ARGS...: skiff-monitor --client $D ARGS, which must succeed; sets $output.
function client() {
	run timeout --kill-after=5 30 "$MONITOR" --client "$D" "$@"
	[ "$status" -eq 0 ] || die "skiff-monitor --client $D $*: exit status $status; output: $output"
}

function monitor_gone() {
	! "$MONITOR" --client "$D" alive >/dev/null 2>&1
}

function log_has() { # PATTERN (grep -E) in $D/ctr.log
	grep -qE -- "$1" "$D/ctr.log"
}

# exit_field NAME: one field of the exit record, as the client library reads it.
function exit_field() {
	local out
	out=$("$MONITOR" --client "$D" exit) || die "no exit record in $D"
	[[ " $out " =~ \ $1=([^ ]*)\  ]] || die "no $1 in '$out'"
	echo "${BASH_REMATCH[1]}"
}

# wait_exit: the container exited and the monitor is gone.
function wait_exit() {
	wait_for --timeout 20 monitor_gone
	[ -e "$D/exit" ] || die "the monitor exited without an exit record"
}

# bg ARGS...: ARGS in the background in a process group of its own (setsid does not fork: a
# background job is no group leader); sets $bg_pid.
function bg() {
	setsid "$@" &
	bg_pid=$!
	_bg_pids+=("$bg_pid")
}

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}[+-][0-9]{2}:[0-9]{2}'

@test "output lands in the k8s-file log and the exit code in the exit record" {
	new_ctr echo /bin/sh -c 'echo hello world; echo oops >&2; printf partial; exit 3'
	spawn_monitor "t$TESTNUM-echo" --start
	wait_exit

	log_has "^$TS stdout F hello world$" || die "no full stdout line: $(cat "$D/ctr.log")"
	log_has "^$TS stderr F oops$" || die "no full stderr line: $(cat "$D/ctr.log")"
	log_has "^$TS stdout P partial$" || die "no partial line: $(cat "$D/ctr.log")"
	is "$(wc -l <"$D/ctr.log")" 3 "three records"
	run -0 --separate-stderr "$MONITOR" --parse-log "$D/ctr.log"
	is "$output" $'hello world\npartial' "stdout read back through mon_log_parse_line"
	is "$stderr" "oops" "stderr read back"

	is "$(exit_field exitCode)" 3 "exit code"
	is "$(exit_field signal)" 0 "no signal"
	is "$(exit_field pid)" "$CTR_PID" "pid of the container"
	is "$(exit_field stoppedByUser)" false
	is "$(exit_field restartCount)" 0
	is "$(exit_field oomKilled)" false
	run cat "$D/exit"
	assert "$output" =~ '^\{"version":1,"pid":[0-9]+,"exitCode":3,"signal":0,"oomKilled":false,"startedAt":[0-9]+,"finishedAt":[0-9]+,"restartCount":0,"stoppedByUser":false,"restarting":false\}$'
	assert "$(exit_field finishedAt)" -ge "$(exit_field startedAt)" "finished after started"
	assert "$(exit_field startedAt)" -gt 0 "startedAt set"

	# the monitor's own files: the control socket goes with it, monitor.pid stays
	[ ! -e "$D/ctl" ] || die "ctl left behind"
	[ ! -e "$D/console.sock" ] || die "console.sock left behind"
	run cat "$D/monitor.pid"
	assert "$output" =~ "^$MON_PID [0-9]+$" "monitor.pid is PID STARTTIME"
	# and the runtime deleted the container
	[ ! -e "$RT/t$TESTNUM-echo" ] || die "the runtime still knows the container"
}

@test "killed by a signal: 128+N, and a kill through the control socket is a stop by the user" {
	new_ctr usr1 /bin/sh -c 'kill -USR1 $$'
	spawn_monitor "t$TESTNUM-usr1" --start
	wait_exit
	is "$(exit_field exitCode)" 138 "128+SIGUSR1"
	is "$(exit_field signal)" 10
	is "$(exit_field stoppedByUser)" false

	new_ctr kill /bin/sh -c 'echo ready; exec sleep 1000'
	spawn_monitor "t$TESTNUM-kill" --start
	wait_for log_has "stdout F ready"
	client status
	is "$output" "state=running pid=$CTR_PID restarts=0"
	client kill KILL
	wait_exit
	is "$(exit_field exitCode)" 137
	is "$(exit_field signal)" 9
	is "$(exit_field stoppedByUser)" true
}

@test "the monitor survives its spawner and an attached client being SIGKILLed" {
	new_ctr survive /bin/sh -c 'echo started; i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done'
	# The spawner: a shell that starts the monitor (no --foreground, no --spawn) and stays.
	bg bash -c '"$0" --id "$1" --bundle "$2" --dir "$3" --runtime "$4" --runtime-arg "--root=$5" \
		--log-path "$3/ctr.log" --start --sync-fd 3 3>"$3/sync"; echo "first=$?" >"$3/first"; sleep 1000' \
		"$MONITOR" "t$TESTNUM-survive" "$B" "$D" "$FAKE" "$RT"
	wait_for grep -q '^ok ' "$D/sync"
	wait_for test -s "$D/first"
	is "$(cat "$D/first")" "first=0" "the first process exits 0 once the monitor detached"
	local mon
	mon=$(cut -d' ' -f1 "$D/monitor.pid")
	assert "$(cat "$D/sync")" =~ "^ok [0-9]+ $mon$" "sync line names the monitor"
	assert "$(ps -o sid= -p "$mon" | tr -d ' ')" != "$(ps -o sid= -p "$bg_pid" | tr -d ' ')" \
		"the monitor has a session of its own"
	kill -KILL -- "-$bg_pid"
	client alive

	# An attached client killed mid-stream changes nothing either.
	bg "$MONITOR" --client "$D" attach --no-stdin
	local att=$bg_pid
	wait_for log_has "tick 5$"
	kill -KILL -- "-$att"
	local n
	n=$(grep -c 'stdout F tick' "$D/ctr.log")
	wait_for --timeout 10 bash -c "[ \$(grep -c 'stdout F tick' '$D/ctr.log') -gt $((n + 3)) ]"
	client status
	assert "$output" =~ "^state=running " "still running"

	client stop 5
	wait_exit
	is "$(exit_field exitCode)" 143 "stopped with SIGTERM"
	is "$(exit_field stoppedByUser)" true
}

@test "stop: the timeout escalates to SIGKILL; the stop signal and timeout 0" {
	new_ctr trap /bin/sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done'
	spawn_monitor "t$TESTNUM-trap" --start --stop-timeout 60
	wait_for log_has "stdout F ready"
	local t0 t1
	t0=$(date +%s%N)
	client stop 1 # overrides --stop-timeout 60
	client status
	assert "$output" =~ "^state=stopping pid=$CTR_PID " "stopping"
	wait_exit
	t1=$(date +%s%N)
	is "$(exit_field exitCode)" 137 "SIGKILL after the timeout"
	is "$(exit_field signal)" 9
	is "$(exit_field stoppedByUser)" true
	assert $(((t1 - t0) / 1000000)) -ge 1000 "waited for the timeout"
	assert $(((t1 - t0) / 1000000)) -lt 15000 "did not wait for --stop-timeout"

	# --stop-signal is what STOP sends by default
	new_ctr usr1 /bin/sh -c 'trap "echo got-usr1; exit 0" USR1; echo ready; while :; do sleep 0.1; done'
	spawn_monitor "t$TESTNUM-usr1" --start --stop-signal USR1
	wait_for log_has "stdout F ready"
	client stop
	wait_exit
	log_has "stdout F got-usr1" || die "the container did not get SIGUSR1"
	is "$(exit_field exitCode)" 0

	# timeout 0: SIGKILL at once
	new_ctr now /bin/sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done'
	spawn_monitor "t$TESTNUM-now" --start
	wait_for log_has "stdout F ready"
	client stop 0
	wait_exit
	is "$(exit_field exitCode)" 137
}

@test "restart on-failure:2 restarts twice; a stop by the user ends restart=always" {
	new_ctr fail /bin/sh -c 'echo run; exit 1'
	spawn_monitor "t$TESTNUM-fail" --start --restart on-failure:2
	wait_exit
	is "$(grep -c 'stdout F run$' "$D/ctr.log")" 3 "three runs"
	is "$(exit_field restartCount)" 2
	is "$(exit_field exitCode)" 1
	is "$(exit_field stoppedByUser)" false

	new_ctr always /bin/sh -c 'echo run; exec sleep 1000'
	spawn_monitor "t$TESTNUM-always" --start --restart always
	wait_for log_has "stdout F run$"
	client stop 0
	wait_exit
	is "$(grep -c 'stdout F run$' "$D/ctr.log")" 1 "no restart after the stop"
	is "$(exit_field restartCount)" 0
	is "$(exit_field stoppedByUser)" true

	# always restarts a clean exit too; STOP during the back-off ends it
	new_ctr clean /bin/sh -c 'echo run; exit 0'
	spawn_monitor "t$TESTNUM-clean" --start --restart always
	wait_for --timeout 20 bash -c "[ \$(grep -c 'stdout F run$' '$D/ctr.log') -ge 4 ]"
	run timeout 10 "$MONITOR" --client "$D" stop # may land while restarting or running
	wait_exit
	assert "$(exit_field restartCount)" -ge 3
}

@test "the exit command runs after the exit record is written" {
	local out=$SKIFF_TEST_ROOT/cleaned
	new_ctr exitcmd /bin/sh -c 'exit 5'
	spawn_monitor "t$TESTNUM-exitcmd" --start --exit-command /bin/sh --exit-command-arg -c \
		--exit-command-arg 'cp "$0/exit" "$1.tmp" && mv "$1.tmp" "$1"' --exit-command-arg "$D" --exit-command-arg "$out"
	wait_for test -e "$out"
	run cat "$out"
	assert "$output" =~ '"exitCode":5' "the exit command saw the exit record"
	wait_exit
}

@test "a failing create reports the runtime's message; bad options are refused" {
	new_ctr fail /bin/true
	echo "the bundle says no (t$TESTNUM)" >"$B/fail"
	spawn_monitor 1 "t$TESTNUM-fail" --start
	is "$output" "skiff-monitor: fake-runtime: create t$TESTNUM-fail: the bundle says no \(t$TESTNUM\)"
	[ ! -e "$D/exit" ] || die "an exit record for a container that never ran"
	[ ! -e "$D/ctl" ] || die "a control socket for a container that never ran"

	# without --spawn: the sync fd carries the error, the first process exits 0
	run timeout 20 "$MONITOR" --id "t$TESTNUM-fail" --bundle "$B" --dir "$D" --runtime "$FAKE" \
		--runtime-arg "--root=$RT" --sync-fd 3 3>"$D/sync"
	is "$status" 0
	wait_for grep -q . "$D/sync"
	is "$(cat "$D/sync")" "error fake-runtime: create t$TESTNUM-fail: the bundle says no \(t$TESTNUM\)"

	rm "$B/fail"
	spawn_monitor 1 "t$TESTNUM-nort" --runtime /nonexistent/runtime-t$TESTNUM
	assert "$output" =~ "exec /nonexistent/runtime-t$TESTNUM: No such file or directory"
	# a command the container cannot run: exec fails in it after the start
	printf '/nonexistent/cmd-t%s\n' "$TESTNUM" >"$B/cmd"
	spawn_monitor 0 "t$TESTNUM-nocmd" --start
	wait_exit
	is "$(exit_field exitCode)" 127 "exec failure in the container"

	run "$MONITOR" --id x --bundle "$B" --dir "$D" --runtime "$FAKE" --restart bogus
	is "$status" 1
	assert "$output" =~ 'invalid restart policy "bogus"'
	run "$MONITOR" --bundle "$B" --dir "$D" --runtime "$FAKE"
	assert "$output" =~ "--id is required"
	run "$MONITOR" --id x --bundle "$B" --dir "$D" --runtime "$FAKE" --sync-fd 1
	assert "$output" =~ 'invalid --sync-fd "1"'
	run "$MONITOR" --id x --bundle "$B" --dir "$D" --runtime "$FAKE" --stop-signal NOPE
	assert "$output" =~ 'invalid --stop-signal "NOPE"'
	run "$MONITOR" --id x --bundle "$B" --dir "$D" --runtime "$FAKE" --log-driver syslog
	assert "$output" =~ 'unsupported log driver "syslog"'
	run "$MONITOR" --client "$SKIFF_TEST_ROOT/nonexistent" status
	is "$status" 1
	assert "$output" =~ "nonexistent"
}

@test "terminal mode: a pty for stdio, resize, a directory deeper than sun_path" {
	local deep=$SKIFF_TEST_ROOT
	for _ in 1 2 3; do deep+=/a-directory-name-long-enough-to-overflow-sun-path; done
	new_ctr_in "$deep" tty /bin/sh -c 'test -t 0 && test -t 1 && test -t 2 && echo tty-yes; stty size'
	assert "${#D}" -gt 108 "the container dir is longer than sun_path"
	spawn_monitor "t$TESTNUM-tty" --terminal
	client resize 30 100
	client start
	wait_exit
	log_has "^$TS stdout F tty-yes"$'\r'"$" || die "no pty output in the log: $(cat -A "$D/ctr.log")"
	log_has "stdout F 30 100"$'\r'"$" || die "the resize did not reach the pty: $(cat -A "$D/ctr.log")"
	is "$(exit_field exitCode)" 0

	# stdin through the pty
	new_ctr_in "$deep/2" ttyin /bin/sh -c 'read l; echo "got:$l"'
	spawn_monitor "t$TESTNUM-ttyin" --terminal --stdin --start
	run -0 timeout 20 "$MONITOR" --client "$D" attach <<<"abc"
	assert "$output" =~ "got:abc" "the container read its stdin from the pty"
	wait_exit
}

@test "attach and stdin through the control socket" {
	new_ctr attach /bin/sh -c 'read line; echo "got $line"; cat; echo bye >&2; exit 7'
	spawn_monitor "t$TESTNUM-attach" --stdin
	client status
	is "$output" "state=created pid=$CTR_PID restarts=0"
	# a second, output-only client first, speaking the protocol itself: it says when it is
	# attached, so that the output cannot come before
	bg python3 -c '
import os, socket, struct, sys
d, out = sys.argv[1], sys.argv[2]
dfd = os.open(d, os.O_PATH | os.O_DIRECTORY)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("/proc/self/fd/%d/ctl" % dfd)
assert s.recv(65536)[:2] == b"V\x01"
s.send(b"A\x06")
assert s.recv(65536) == b"r\0\0\0\0"
open(out + ".attached", "w").close()
data = b""
while True:
    p = s.recv(65536)
    if not p or p[:1] == b"x":
        break
    data += p[1:]
open(out + ".out", "wb").write(data)
open(out + ".rc", "w").write("%d\n" % struct.unpack(">i", p[1:5])[0] if p else "none\n")
' "$D" "$SKIFF_TEST_ROOT/att2"
	wait_for test -e "$SKIFF_TEST_ROOT/att2.attached"
	printf 'hello\nmore data\n' >"$SKIFF_TEST_ROOT/in"
	bg bash -c '"$0" --client "$1" attach <"$2" >"$3.out" 2>"$3.err"; echo $? >"$3.rc"' \
		"$MONITOR" "$D" "$SKIFF_TEST_ROOT/in" "$SKIFF_TEST_ROOT/att"
	client start
	wait_for test -s "$SKIFF_TEST_ROOT/att.rc"
	is "$(cat "$SKIFF_TEST_ROOT/att.rc")" 7 "attach exits with the container's status"
	is "$(cat "$SKIFF_TEST_ROOT/att.out")" $'got hello\nmore data'
	is "$(cat "$SKIFF_TEST_ROOT/att.err")" "bye"
	wait_exit
	is "$(exit_field exitCode)" 7
	# the second client saw the same output (both streams), and the exit
	wait_for test -s "$SKIFF_TEST_ROOT/att2.rc"
	is "$(cat "$SKIFF_TEST_ROOT/att2.rc")" 7
	run cat "$SKIFF_TEST_ROOT/att2.out"
	assert "$output" =~ "got hello"$'\n'"more data" "stdout to the second client"
	assert "$output" =~ "bye" "stderr to the second client"
}

@test "control protocol: bad requests keep the connection; a slow client is dropped" {
	new_ctr proto /bin/sh -c 'echo ready; read x; head -c 20000000 /dev/zero | tr "\0" x; echo; echo done'
	spawn_monitor "t$TESTNUM-proto" --stdin --start
	wait_for log_has "stdout F ready"
	run -0 timeout 60 python3 - "$D" <<'EOF'
import os, socket, struct, sys, time
d = sys.argv[1]
dfd = os.open(d, os.O_PATH | os.O_DIRECTORY)
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("/proc/self/fd/%d/ctl" % dfd)
    v = s.recv(65536)
    assert v[:2] == b"V\x01", v
    assert v[2:].startswith(b"state=running"), v
    return s
def reply(s, pkt):
    s.send(pkt)
    r = s.recv(65536)
    assert r[:1] == b"r", r
    return struct.unpack(">i", r[1:5])[0], r[5:].decode()
s = connect()
errno_, text = reply(s, b"Z")
assert errno_ == 71 and "unknown request type 0x5a" in text, (errno_, text)      # EPROTO
errno_, text = reply(s, b"x\0\0\0\0\0\0\0\0")
assert errno_ == 71, (errno_, text)                                                # not a request
errno_, text = reply(s, b"K")
assert errno_ == 22 and "KILL" in text, (errno_, text)                            # EINVAL
errno_, text = reply(s, b"K\0")
assert errno_ == 22 and "invalid signal 0" in text, (errno_, text)
errno_, text = reply(s, b"A\x80")
assert errno_ == 22 and "unknown flags" in text, (errno_, text)
errno_, text = reply(s, b"I" + b"y" * 20000)
assert errno_ == 90, (errno_, text)                                                # EMSGSIZE
errno_, text = reply(s, b"S")
assert errno_ == 114, (errno_, text)                                               # EALREADY
errno_, text = reply(s, b"Q")
assert errno_ == 0 and text.startswith("state=running pid="), (errno_, text)
errno_, text = reply(s, b"L")
assert errno_ == 0, (errno_, text)
# A slow client: attached, never reading, while the container floods its stdout.
slow = connect()
assert reply(slow, b"A\x02") == (0, "")
s.send(b"Igo\n")
deadline = time.time() + 40
while not os.path.exists(os.path.join(d, "exit")):
    assert time.time() < deadline, "the container did not finish: the slow client held it up"
    time.sleep(0.1)
# It was dropped: some output, then the end, and no EXIT packet.
got_exit = False
while True:
    p = slow.recv(65536)
    if not p:
        break
    got_exit = got_exit or p[:1] == b"x"
assert not got_exit, "the slow client was not dropped"
# The other client got its EXIT.
while True:
    p = s.recv(65536)
    assert p, "no EXIT"
    if p[:1] == b"x":
        assert struct.unpack(">ii", p[1:9]) == (0, 0), p
        break
print("ok")
EOF
	is "$output" "ok"
	wait_exit
	is "$(exit_field exitCode)" 0
	log_has "stdout F done$" || die "the output after the flood is not in the log"
}

@test "log: size limit, driver none, reopen after rotation" {
	new_ctr big /bin/sh -c 'i=0; while [ $i -lt 200 ]; do echo "line $i 0123456789012345678901234567890123456789"; i=$((i+1)); done'
	spawn_monitor "t$TESTNUM-big" --start --log-size-max 2000
	wait_exit
	assert "$(stat -c %s "$D/ctr.log")" -le 2000 "the log stays under the limit"
	log_has "stdout F line 199 " || die "the last line is not in the log"
	! log_has "stdout F line 0 " || die "the first line was not truncated away"

	new_ctr none /bin/sh -c 'echo nothing to see'
	spawn_monitor "t$TESTNUM-none" --start --log-driver none
	wait_exit
	[ ! -e "$D/ctr.log" ] || die "log driver none wrote a log"

	local flag=$SKIFF_TEST_ROOT/flag
	new_ctr rotate /bin/sh -c "echo one; while [ ! -e '$flag' ]; do sleep 0.05; done; echo two"
	spawn_monitor "t$TESTNUM-rotate" --start
	wait_for log_has "stdout F one$"
	mv "$D/ctr.log" "$D/ctr.log.1"
	client log-reopen
	touch "$flag"
	wait_exit
	grep -q "stdout F one$" "$D/ctr.log.1" || die "rotated log lost its line"
	log_has "stdout F two$" || die "no line in the reopened log"
	! log_has "stdout F one$" || die "old line in the new log"
}

@test "OOM kills show in the exit record (--oom-file), counted from the run's start" {
	local ev=$SKIFF_TEST_ROOT/memory.events
	printf 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n' >"$ev"
	new_ctr oom /bin/sh -c "printf 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n' >'$ev'; kill -KILL \$\$"
	spawn_monitor "t$TESTNUM-oom" --start --oom-file "$ev"
	wait_exit
	is "$(exit_field oomKilled)" true
	is "$(exit_field exitCode)" 137

	# an earlier OOM kill in the same cgroup does not count for this run
	new_ctr nooom /bin/sh -c 'exit 1'
	spawn_monitor "t$TESTNUM-nooom" --start --oom-file "$ev"
	wait_exit
	is "$(exit_field oomKilled)" false
}

@test "SIGTERM to the monitor goes to the container, and ends any restart policy" {
	new_ctr term /bin/sh -c 'echo ready; exec sleep 1000'
	spawn_monitor "t$TESTNUM-term" --start --restart always
	wait_for log_has "stdout F ready"
	kill -TERM "$MON_PID"
	wait_exit
	is "$(exit_field exitCode)" 143
	is "$(exit_field restartCount)" 0
}
