#!/usr/bin/env bats
# skiff-test-init, the static multi-call helper that runtime tests use as a whole rootfs:
# run directly on the host (root and rootless), so a runtime test that fails can trust it.

load helpers
bats_require_minimum_version 1.5.0

TEST_INIT=$HELPER_DIR/skiff-test-init

function setup() {
	skiff_setup
	[ -x "$TEST_INIT" ] || die "$TEST_INIT is missing: build it (make $(basename "$HELPER_DIR")/skiff-test-init)"
	_bg_pids=()
}

function teardown() {
	local p
	# Each background helper leads its own process group: kill it with its children.
	for p in "${_bg_pids[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null || true
	done
	skiff_teardown
}

# run_init [EXPECTED-STATUS] ARGS...: runs the helper with a timeout; fails the test
# on another status. Sets $output, $status and $lines as bats' run does.
function run_init() {
	local expected=0
	if [[ ${1:-} =~ ^[0-9]+$ ]]; then
		expected=$1
		shift
	fi
	# run -127 only silences bats' "command not found" warning; the status is checked below.
	local -a flag=()
	[ "$expected" -ne 127 ] || flag=(-127)
	run "${flag[@]}" timeout --kill-after=5 20 "$TEST_INIT" "$@"
	[ "$status" -eq "$expected" ] && return 0
	die "skiff-test-init $*: exit status $status, expected $expected; output: $output"
}

# expect_error STATUS PATTERN ARGS...: fails with STATUS and one line of error matching PATTERN.
function expect_error() {
	local want=$1 pattern=$2
	shift 2
	run_init "$want" "$@"
	assert "${#lines[@]}" -eq 1 "one line of error for: $*"
	is "$output" "skiff-test-init: .*$pattern.*" "error for: $*"
}

# bg ARGS...: starts ARGS in the background in a process group of its own (setsid does not
# fork: a background job is no group leader), output to $BATS_TEST_TMPDIR/bg.out; sets $bg_pid.
function bg() {
	setsid "$@" >"$BATS_TEST_TMPDIR/bg.out" 2>&1 &
	bg_pid=$!
	_bg_pids+=("$bg_pid")
}

# bg_wait: waits for $bg_pid, sets $status.
function bg_wait() {
	status=0
	wait "$bg_pid" || status=$?
}

@test "usage, unknown subcommands and argv[0] dispatch" {
	expect_error 125 "usage: skiff-test-init SUBCOMMAND"
	expect_error 127 "unknown subcommand 'nosuch$TESTNUM'" "nosuch$TESTNUM"
	expect_error 127 "unknown subcommand ''" ""
	expect_error 125 "usage: skiff-test-init exit N" exit
	expect_error 125 "usage: skiff-test-init exit N" exit 1 2
	expect_error 125 "usage: skiff-test-init write FILE TEXT" write onlyone
	expect_error 125 "usage: skiff-test-init init COMMAND" init

	# Called through a symlink of a subcommand's name, argv[0] picks it.
	local d=$BATS_TEST_TMPDIR/bin
	mkdir -p "$d"
	ln -s "$TEST_INIT" "$d/echo"
	ln -s "$TEST_INIT" "$d/false"
	ln -s "$TEST_INIT" "$d/t$TESTNUM-other"
	run "$d/echo" hello "from argv0"
	is "$output" "hello from argv0" "echo through a symlink"
	run "$d/false"
	assert "$status" -eq 1 "false through a symlink"
	# Any other name: the first argument is the subcommand.
	run "$d/t$TESTNUM-other" echo second
	is "$output" "second" "other name falls back to argv[1]"
	run "$d/t$TESTNUM-other"
	assert "$status" -eq 125 "other name without arguments is a usage error"
}

@test "true, false, exit N" {
	run_init 0 true
	run_init 0 true ignored args
	run_init 1 false
	run_init 0 exit 0
	run_init 3 exit 3
	run_init 255 exit 255
	local bad
	for bad in 256 -1 abc 1x '' ' 1' 0x10 99999999999999999999; do
		expect_error 125 "invalid exit status '$bad'" exit "$bad"
	done
}

@test "echo and cat" {
	run_init echo a "b  c" d
	is "$output" "a b  c d" "echo joins with one space"
	run_init echo
	is "$output" "" "echo without arguments"

	local f=$BATS_TEST_TMPDIR/in
	printf 'line one\nline two\n' >"$f"
	run_init cat "$f"
	is "$output" $'line one\nline two' "cat FILE"
	run timeout 20 "$TEST_INIT" cat <"$f"
	is "$output" $'line one\nline two' "cat from stdin"
	run timeout 20 "$TEST_INIT" cat - <"$f"
	is "$output" $'line one\nline two' "cat -"
	head -c 300000 /dev/urandom >"$f.big"
	"$TEST_INIT" cat "$f.big" >"$f.copy"
	cmp "$f.big" "$f.copy" || die "cat of a 300 kB binary file is not byte-exact"

	expect_error 1 "open $BATS_TEST_TMPDIR/nonexistent: No such file" cat "$BATS_TEST_TMPDIR/nonexistent"
	expect_error 1 "read $BATS_TEST_TMPDIR: Is a directory" cat "$BATS_TEST_TMPDIR"
	expect_error 125 "usage" cat a b
}

@test "write, ls, stat" {
	local d=$BATS_TEST_TMPDIR/w
	mkdir "$d"
	umask 022
	run_init write "$d/b" "hello world"
	is "$(cat "$d/b")" "hello world" "write puts TEXT in FILE"
	assert "$(wc -c <"$d/b")" -eq 11 "write adds no newline"
	run_init write "$d/b" "x"
	is "$(cat "$d/b")" "x" "write truncates"
	run_init write "$d/a" ""
	mkdir -m 0750 "$d/c"
	ln -s a "$d/z"
	mkfifo "$d/p"

	run_init ls "$d"
	is "$output" $'a\nb\nc\np\nz' "ls sorts and leaves out . and .."
	mkdir "$d/empty"
	run_init ls "$d/empty"
	is "$output" "" "ls of an empty directory"

	local u g
	u=$(id -u) g=$(id -g)
	run_init stat "$d/b"
	is "$output" "0644 $u $g file" "stat of a file"
	run_init stat "$d/c"
	is "$output" "0750 $u $g directory" "stat of a directory"
	run_init stat "$d/z"
	is "$output" "0777 $u $g symlink" "stat does not follow a symlink"
	run_init stat "$d/p"
	is "$output" "0644 $u $g fifo" "stat of a fifo"
	run_init stat /dev/null
	is "$output" "0666 0 0 char" "stat of /dev/null"

	expect_error 1 "open $d/nodir/x: No such file" write "$d/nodir/x" text
	expect_error 1 "open $d/nodir: No such file" ls "$d/nodir"
	expect_error 1 "open $d/b: Not a directory" ls "$d/b"
	expect_error 1 "stat $d/nodir: No such file" stat "$d/nodir"
	expect_error 1 "open $d: Is a directory" write "$d" text
	if is_rootless; then
		chmod 0555 "$d/c"
		expect_error 1 "open $d/c/x: Permission denied" write "$d/c/x" text
	fi
}

@test "id, caps and status agree with the caller" {
	local groups
	groups=$(awk '/^Groups:/ { $1 = ""; sub(/^ /, ""); gsub(/ +$/, ""); gsub(/ /, ","); print }' /proc/$$/status)
	run_init id
	is "$output" "uid=$(id -u) gid=$(id -g) groups=$groups" "id"

	run_init caps
	assert "${#lines[@]}" -eq 5 "caps prints five lines"
	is "$output" "$(grep '^Cap' /proc/$$/status | sed 's/:[[:space:]]*/: /')" "caps equal the caller's"
	is "${lines[2]}" "CapEff: [0-9a-f]{16}" "CapEff line"
	if is_rootless; then
		is "${lines[2]}" "CapEff: 0000000000000000" "no effective capabilities rootless"
	fi

	local key
	for key in NoNewPrivs Seccomp CapBnd Umask; do
		run_init status "$key"
		is "$output" "$(awk -v k="$key:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' /proc/$$/status)" "status $key"
	done
	run_init status Pid
	assert "$output" -ne "$$" "status Pid is the helper's own"

	expect_error 1 "no field 'NoSuchKey$TESTNUM' in /proc/self/status" status "NoSuchKey$TESTNUM"
	expect_error 1 "no field 'seccomp'" status seccomp
	expect_error 125 "invalid key 'Cap:Eff'" status Cap:Eff
	expect_error 125 "invalid key ''" status ""
}

@test "mounts, hostname, cwd, env" {
	run_init mounts
	assert "${#lines[@]}" -eq "$(wc -l </proc/self/mountinfo)" "one line per mountinfo entry"
	assert "$output" =~ $'(^|\n)/(\n|$)' "/ is listed"
	assert "$output" =~ $'(^|\n)/proc(\n|$)' "/proc is listed"

	run_init hostname
	is "$output" "$(uname -n)" "hostname"

	cd "$BATS_TEST_TMPDIR"
	run_init cwd
	is "$output" "$(pwd -P)" "cwd"

	run env -i "FOO$TESTNUM=bar" "SPACED=a b" "EMPTY=" "$TEST_INIT" env
	is "$output" $'FOO'"$TESTNUM"$'=bar\nSPACED=a b\nEMPTY=' "env prints exactly the environment"
	run env -i "$TEST_INIT" env
	is "$output" "" "empty environment"
}

@test "sleep and pause" {
	local t0=$SECONDS
	run_init sleep 0.3
	run_init sleep 0
	run_init sleep 1.5
	assert "$((SECONDS - t0))" -ge 1 "sleep 0.3 + 1.5 took at least a second"
	local bad
	for bad in -1 abc '' nan inf 1e99 1s; do
		expect_error 125 "invalid number of seconds '$bad'" sleep "$bad"
	done

	bg "$TEST_INIT" pause
	# still there after a while: it waits for a signal, it does not exit by itself
	run timeout 1 tail --pid="$bg_pid" -f /dev/null
	assert "$status" -eq 124 "pause is still there after a second (it exited by itself)"
	kill -TERM "$bg_pid"
	bg_wait
	assert "$status" -eq 143 "pause dies of SIGTERM"
}

@test "isatty" {
	run timeout 20 "$TEST_INIT" isatty 0 </dev/null
	assert "$status" -eq 1 "stdin /dev/null is not a tty"
	is "$output" "false" "isatty prints false"
	run_init 1 isatty 99
	is "$output" "false" "a closed fd is not a tty"
	expect_error 125 "invalid file descriptor 'x'" isatty x
	expect_error 125 "invalid file descriptor '-1'" isatty -1
}

@test "isatty on a pseudo-terminal" {
	command -v script >/dev/null || skip "script (util-linux) is not installed: no way to make a pty"
	run timeout 20 script -qec "$TEST_INIT isatty 1" /dev/null
	assert "$status" -eq 0 "isatty 1 on a pty exits 0"
	is "${output//$'\r'/}" "true" "isatty 1 on a pty"
}

@test "memhog" {
	run_init memhog 32
	is "$output" "allocated 32 MB" "memhog 32"
	local t0=$SECONDS
	run_init memhog 1 1.2
	assert "$((SECONDS - t0))" -ge 1 "memhog MB SECONDS sleeps"

	run bash -c 'ulimit -v 200000 && exec "$0" memhog 400' "$TEST_INIT"
	assert "$status" -eq 1 "memhog over RLIMIT_AS fails"
	is "$output" "skiff-test-init: memhog: cannot map 400 MB: .*" "memhog names the size"

	local bad
	for bad in 0 -5 abc 2000000; do
		expect_error 125 "invalid size in MB '$bad'" memhog "$bad"
	done
	expect_error 125 "invalid number of seconds 'x'" memhog 1 x
}

@test "fds lists open descriptors, and only those" {
	run timeout 20 "$TEST_INIT" fds 7</dev/null
	assert "$output" =~ $'(^|\n)7 /dev/null(\n|$)' "fds lists fd 7"
	local l
	for l in "${lines[@]}"; do
		is "$l" "[0-9]+ .+" "fds line format"
	done

	# With every fd above 2 closed, exactly 0, 1 and 2: the helper's own directory fd is not listed.
	run bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ]; then exec {n}>&-; fi; done
		exec "$0" fds' "$TEST_INIT"
	assert "$status" -eq 0 "fds exits 0"
	is "$(cut -d' ' -f1 <<<"$output" | tr '\n' ' ')" "0 1 2 " "only 0 1 2 are open"
}

@test "signal-self" {
	run_init 143 signal-self TERM
	run_init 137 signal-self SIGKILL
	run_init 130 signal-self 2
	run_init 138 signal-self usr1
	expect_error 1 "still alive after SIGCHLD" signal-self CHLD
	local bad
	for bad in FOO SIG '' 0 999; do
		run_init 125 signal-self "$bad"
		assert "$output" =~ "'$bad'" "bad signal '$bad' is named"
	done
}

@test "trap-exit exits 42 on SIGTERM" {
	bg "$TEST_INIT" trap-exit
	wait_for grep -qx ready "$BATS_TEST_TMPDIR/bg.out"
	kill -TERM "$bg_pid"
	bg_wait
	assert "$status" -eq 42 "trap-exit's SIGTERM handler"
}

@test "pid and rlimit" {
	"$TEST_INIT" pid >"$BATS_TEST_TMPDIR/pid" &
	local pid=$!
	wait "$pid"
	is "$(cat "$BATS_TEST_TMPDIR/pid")" "$pid" "pid prints the helper's pid"

	run bash -c 'ulimit -Sn 100 && exec "$0" rlimit nofile' "$TEST_INIT"
	is "$output" "100 $(ulimit -Hn)" "rlimit nofile"
	run bash -c 'ulimit -c 0 && exec "$0" rlimit RLIMIT_CORE' "$TEST_INIT"
	is "$output" "0 0" "rlimit RLIMIT_CORE"
	run_init rlimit STACK
	is "$output" "([0-9]+|unlimited) ([0-9]+|unlimited)" "rlimit STACK"
	expect_error 125 "unknown resource limit 'nosuch'" rlimit nosuch
	expect_error 125 "unknown resource limit ''" rlimit ""
}

@test "init runs the command and exits with its status" {
	run_init init "$TEST_INIT" echo via init
	is "$output" "via init" "init passes the child's output"
	run_init 7 init "$TEST_INIT" exit 7
	run_init 137 init "$TEST_INIT" signal-self KILL
	run_init 0 init sh -c 'exit 0'
	expect_error 127 "init: exec /nonexistent$TESTNUM: No such file" init "/nonexistent$TESTNUM"
	expect_error 126 "init: exec $BATS_TEST_TMPDIR: Permission denied" init "$BATS_TEST_TMPDIR"
}

@test "init forwards SIGTERM and SIGINT" {
	bg "$TEST_INIT" init "$TEST_INIT" trap-exit
	wait_for grep -qx ready "$BATS_TEST_TMPDIR/bg.out"
	kill -TERM "$bg_pid"
	bg_wait
	assert "$status" -eq 42 "SIGTERM reached the child, init exited with its status"

	# A background job starts with SIGINT ignored: init must still pass it on.
	bg "$TEST_INIT" init "$TEST_INIT" pause
	wait_for pgrep -P "$bg_pid" # init is up and its child started
	kill -INT "$bg_pid"
	bg_wait
	assert "$status" -eq 130 "SIGINT reached the child"
}

@test "init reaps orphans" {
	# zombies.sh PID: lists PID's zombie children (bash only: a scan must be quick).
	local zombies=$BATS_TEST_TMPDIR/zombies.sh orphan=$BATS_TEST_TMPDIR/orphan.sh
	cat >"$zombies" <<'EOF'
for s in /proc/[0-9]*/status; do
	st=
	while read -r k v; do
		case $k in
		State:) st=${v%% *} ;;
		PPid:) [ "$v" = "$1" ] && [ "$st" = Z ] && echo "$s"; break ;;
		esac
	done 2>/dev/null <"$s"
done
exit 0
EOF
	# Control: a parent that never waits (bash exec'd into sleep) has a zombie child, and the
	# check sees it. It runs under init, which reaps the zombie once the sleep is gone. The
	# child outlives the exec a little: bash itself would reap it.
	bg "$TEST_INIT" init bash -c 'echo $$; "$0" sleep 0.3 & exec "$0" sleep 30' "$TEST_INIT"
	wait_for grep -q . "$BATS_TEST_TMPDIR/bg.out"
	local parent
	parent=$(head -1 "$BATS_TEST_TMPDIR/bg.out")
	wait_for bash -c '[ -n "$(bash "$0" "$1")" ]' "$zombies" "$parent"
	kill -TERM "$bg_pid"
	bg_wait
	assert "$status" -eq 143 "control: init passes on the sleep's death by SIGTERM"

	# Under init, the child leaves an orphan that exits soon after; init must reap it.
	cat >"$orphan" <<'EOF'
( "$1" sleep 0.2 & )
"$1" sleep 0.8 # workload: outlive the orphan, so it dies under init
exec bash "$2" "$PPID"
EOF
	run_init init bash "$orphan" "$TEST_INIT" "$zombies"
	is "$output" "" "no zombies left under init"
}

@test "as PID 1 of a new PID namespace" {
	unshare --user --map-root-user true 2>/dev/null || skip "cannot create a user namespace (unshare --user failed)"
	local -a ns=(unshare --user --map-root-user --pid --fork)
	run timeout 20 "${ns[@]}" "$TEST_INIT" pid
	is "$output" "1" "pid as PID 1"
	run timeout 20 "${ns[@]}" "$TEST_INIT" init "$TEST_INIT" pid
	is "$output" "2" "init's child is PID 2"
	run timeout 20 "${ns[@]}" "$TEST_INIT" init "$TEST_INIT" exit 5
	assert "$status" -eq 5 "init as PID 1 exits with the child's status"
	run timeout 20 "${ns[@]}" "$TEST_INIT" signal-self TERM
	assert "$status" -eq 1 "PID 1 survives its own SIGTERM"
	assert "$output" =~ "still alive after SIGTERM" "and says so"
}
