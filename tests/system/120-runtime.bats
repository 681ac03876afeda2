#!/usr/bin/env bats
# skiff-runtime: the OCI runtime's lifecycle, isolation and security floor, with
# skiff-test-init as the whole rootfs (no image). Runs as root and rootless.

load helpers
bats_require_minimum_version 1.5.0

RUNTIME=${SKIFF_RUNTIME_BIN:-$(dirname "$SKIFF")/skiff-runtime}
TEST_INIT=$HELPER_DIR/skiff-test-init

function setup() {
	skiff_setup
	[ -x "$TEST_INIT" ] || die "$TEST_INIT is missing: build it (make $(basename "$HELPER_DIR")/skiff-test-init)"
	RTROOT=$SKIFF_TEST_ROOT/rtstate
	_ids=()
}

function teardown() {
	local id
	for id in "${_ids[@]}"; do
		"$RUNTIME" --root "$RTROOT" delete --force "$id" >/dev/null 2>&1 || true
	done
	is_rootless || rmdir /sys/fs/cgroup/*/skiff-test /sys/fs/cgroup/skiff-test 2>/dev/null || true
	skiff_teardown
}

# rt [EXPECTED-STATUS] ARGS...: skiff-runtime --root $RTROOT ARGS with a timeout.
function rt() {
	local expected=0
	if [[ ${1:-} =~ ^[0-9]+$ ]]; then
		expected=$1
		shift
	fi
	# run -127 only silences bats' "command not found" warning; the status is checked below
	local -a flag=()
	[ "$expected" -ne 127 ] || flag=(-127)
	run "${flag[@]}" timeout --kill-after=5 30 "$RUNTIME" --root "$RTROOT" "$@"
	[ "$status" -eq "$expected" ] && return 0
	die "skiff-runtime $*: exit status $status, expected $expected; output: $output"
}

# rtf [EXPECTED-STATUS] ARGS...: as rt, for commands that leave a container holding
# their stdout (create, run -d): output goes through a file, not a pipe.
function rtf() {
	local expected=0
	if [[ ${1:-} =~ ^[0-9]+$ ]]; then
		expected=$1
		shift
	fi
	status=0
	timeout --kill-after=5 30 "$RUNTIME" --root "$RTROOT" "$@" >"$BATS_TEST_TMPDIR/rt.out" 2>&1 </dev/null || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/rt.out")
	[ "$status" -eq "$expected" ] && return 0
	die "skiff-runtime $*: exit status $status, expected $expected; output: $output"
}

# make_bundle NAME [JQ-FILTER]: a bundle whose rootfs is skiff-test-init (/init, with
# /bin/NAME links for each subcommand), the default spec for this user, terminal off,
# plus the jq filter. Sets $bundle.
function make_bundle() {
	bundle=$SKIFF_TEST_ROOT/b-$1
	mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/tmp" "$bundle/rootfs/etc"
	cp "$TEST_INIT" "$bundle/rootfs/init"
	local n
	for n in true false exit echo cat sleep pause isatty id caps status mounts hostname cwd env ls write stat \
		memhog fds signal-self trap-exit pid rlimit init; do
		ln -s ../init "$bundle/rootfs/bin/$n"
	done
	"$RUNTIME" spec -b "$bundle" >/dev/null || die "spec"
	local f='.process.terminal = false | .process.env = ["PATH=/bin", "HOME=/"] | .root.readonly = false'
	[ -z "${2:-}" ] || f="$f | $2"
	jq "$f" "$bundle/config.json" >"$bundle/config.json.new" || die "jq $f"
	mv "$bundle/config.json.new" "$bundle/config.json"
}

# args JSON-ARRAY-ELEMENTS: the jq filter that sets process.args.
function args() {
	local a="" x
	for x in "$@"; do
		a="$a${a:+,}\"$x\""
	done
	echo ".process.args = [$a]"
}

function newid() {
	id=t$TESTNUM-$(random_string 8)
	_ids+=("$id")
}

@test "run: exit status, output and arguments" {
	make_bundle st "$(args echo hello world)"
	newid
	rt run -b "$bundle" "$id"
	is "$output" "hello world" "echo output"
	newid
	make_bundle st3 "$(args exit 3)"
	rt 3 run -b "$bundle" "$id"
	newid
	make_bundle sig "$(args init signal-self KILL)"
	rt 137 run -b "$bundle" "$id"
	# run deletes the container it waited for
	rt list -q
	assert "$output" !~ "$id" "run leaves no state"
}

@test "run: isolation seen from inside" {
	make_bundle iso "$(args pid) | .hostname = \"h$TESTNUM\""
	newid
	rt run -b "$bundle" "$id"
	is "$output" "1" "own pid namespace: init is PID 1"
	make_bundle host "$(args hostname) | .hostname = \"h$TESTNUM\""
	newid
	rt run -b "$bundle" "$id"
	is "$output" "h$TESTNUM" "hostname"
	make_bundle caps "$(args caps)"
	newid
	rt run -b "$bundle" "$id"
	# podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
	# NET_BIND_SERVICE SYS_CHROOT SETFCAP
	assert "$output" =~ "CapEff: 00000000800405fb" "effective capabilities: $output"
	assert "$output" =~ "CapBnd: 00000000800405fb" "bounding set"
	make_bundle nnp "$(args status NoNewPrivs)"
	newid
	rt run -b "$bundle" "$id"
	is "$output" "1" "no_new_privs"
	make_bundle kcore "$(args stat /proc/timer_list)"
	newid
	rt run -b "$bundle" "$id"
	assert "$output" =~ "char$" "/proc/timer_list is masked by /dev/null: $output"
	make_bundle acpi "$(args ls /proc/acpi)"
	newid
	rt run -b "$bundle" "$id"
	is "$output" "" "/proc/acpi is masked by an empty tmpfs"
	make_bundle sysrq "$(args write /proc/sysrq-trigger x)"
	newid
	rt 1 run -b "$bundle" "$id"
	assert "$output" =~ "sysrq-trigger" "read-only /proc/sysrq-trigger: $output"
}

@test "run: no fd leaks into the container; preserved fds pass" {
	make_bundle fds "$(args fds)"
	newid
	rt run -b "$bundle" "$id" 5</dev/null 7</dev/null
	local nfds
	nfds=$(grep -cv '^[012] ' <<<"$output" || true)
	assert "$nfds" -eq 0 "only stdio is open inside: $output"
	newid
	rt run --preserve-fds 1 -b "$bundle" "$id" 3</dev/null
	grep -qx '3 /dev/null' <<<"$output" || die "fd 3 preserved: $output"
}

@test "run: mounts, devices and read-only root" {
	mkdir -p "$SKIFF_TEST_ROOT/host120"
	echo "from host" >"$SKIFF_TEST_ROOT/host120/file"
	local m='.mounts += [{"destination": "/data", "type": "bind", "source": "'$SKIFF_TEST_ROOT'/host120", "options": ["rbind", "ro"]}]'
	make_bundle bind "$(args cat /data/file) | $m"
	newid
	rt run -b "$bundle" "$id"
	is "$output" "from host" "bind mount"
	make_bundle bindro "$(args write /data/x y) | $m"
	newid
	rt 1 run -b "$bundle" "$id"
	assert "$output" =~ "Read-only file system" "ro bind: $output"
	make_bundle rw "$(args write /data/x y) | ${m/\"ro\"/\"rw\"}"
	newid
	rt run -b "$bundle" "$id"
	is "$(cat "$SKIFF_TEST_ROOT/host120/x")" "y" "rw bind writes through"
	make_bundle rootro "$(args write /tmp/x y) | .root.readonly = true"
	newid
	rt 1 run -b "$bundle" "$id"
	assert "$output" =~ "Read-only file system" "read-only root: $output"
	make_bundle dev "$(args ls /dev)"
	newid
	rt run -b "$bundle" "$id"
	for d in full null ptmx pts random shm stderr stdin stdout tty urandom zero; do
		grep -qx "$d" <<<"$output" || die "/dev/$d missing: $output"
	done
	make_bundle devnull "$(args stat /dev/null)"
	newid
	rt run -b "$bundle" "$id"
	assert "$output" =~ "char$" "/dev/null is a char device: $output"
	# a symlink in the rootfs cannot point a mount outside it
	make_bundle esc "$(args ls /escape) | .mounts += [{\"destination\": \"/escape/sub\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]"
	ln -s ../../../../../../.. "$bundle/rootfs/escape"
	newid
	rt run -b "$bundle" "$id"
	grep -qx sub <<<"$output" || die "the destination resolved inside the rootfs: $output"
	grep -qx init <<<"$output" || die "/escape is the rootfs' own root: $output"
	[ -d "$bundle/rootfs/sub" ] || die "the mount point was made inside the rootfs"
	[ ! -e "/sub" ] || die "a mount escaped the rootfs"
}

@test "run: user, groups, cwd, env and rlimits" {
	local users='.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [1001, 1002]}'
	if is_rootless; then
		# map 0 to us and 1..65536 to our subordinate range (newuidmap)
		local sub
		sub=$(awk -F: -v u="$(id -un)" '$1 == u { print $2; exit }' /etc/subuid)
		[ -n "$sub" ] || skip "no subuid range for $(id -un)"
		users="$users | .linux.uidMappings = [{\"containerID\": 0, \"hostID\": $(id -u), \"size\": 1}, {\"containerID\": 1, \"hostID\": $sub, \"size\": 65536}]"
		users="$users | .linux.gidMappings = [{\"containerID\": 0, \"hostID\": $(id -g), \"size\": 1}, {\"containerID\": 1, \"hostID\": $sub, \"size\": 65536}]"
	fi
	make_bundle user "$(args id) | $users"
	newid
	rt run -b "$bundle" "$id"
	is "$output" "uid=1000 gid=1000 groups=1001,1002" "user and groups"
	make_bundle cwd "$(args cwd) | .process.cwd = \"/tmp\""
	newid
	rt run -b "$bundle" "$id"
	is "$output" "/tmp" "cwd"
	make_bundle env "$(args env) | .process.env += [\"T$TESTNUM=x y\"]"
	newid
	rt run -b "$bundle" "$id"
	assert "$output" =~ "T$TESTNUM=x y" "env"
	make_bundle rl "$(args rlimit nofile) | .process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 512, \"hard\": 800}]"
	newid
	rt run -b "$bundle" "$id"
	is "$output" "512 800" "rlimit"
	# more than the hard limit we hold: clamped, not failed
	local hard
	hard=$(ulimit -Hn)
	make_bundle rlbig "$(args rlimit nofile) | .process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 4294967296, \"hard\": 4294967296}]"
	newid
	rt run -b "$bundle" "$id"
	assert "$output" =~ "^[0-9]+ [0-9]+$" "clamped rlimit: $output"
	local got=${output#* }
	assert "$got" -le 4294967296 "hard limit"
	assert "$hard" -gt 0 "host hard limit"
}

@test "create, start, state, kill, delete" {
	make_bundle life "$(args trap-exit)"
	newid
	rtf create -b "$bundle" --pid-file "$SKIFF_TEST_ROOT/pid" "$id"
	local pid
	pid=$(cat "$SKIFF_TEST_ROOT/pid")
	assert "$pid" -gt 1 "pid file: $pid"
	rt state "$id"
	is "$(jq -r .status <<<"$output")" "created" "state after create"
	is "$(jq -r .pid <<<"$output")" "$pid" "state pid"
	is "$(jq -r .bundle <<<"$output")" "$(realpath "$bundle")" "state bundle"
	rt list
	assert "$output" =~ "$id +$pid +created" "list: $output"
	rt 1 start nosuch$TESTNUM
	assert "$output" =~ "does not exist" "start of an unknown container: $output"
	rt start "$id"
	rt state "$id"
	is "$(jq -r .status <<<"$output")" "running" "state after start"
	rt 1 start "$id"
	assert "$output" =~ "not in created state" "second start: $output"
	rt 1 delete "$id"
	assert "$output" =~ "not stopped" "delete of a running container: $output"
	rt kill "$id" TERM
	wait_for --timeout 10 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" || die "the container did not exit on TERM"
	rt state "$id"
	is "$(jq -r .status <<<"$output")" "stopped" "state after kill"
	rt 1 kill "$id" KILL
	assert "$output" =~ "not running" "kill of a stopped container"
	rt delete "$id"
	rt 1 state "$id"
	assert "$output" =~ "does not exist" "gone after delete"
	rt 1 kill "$id" NOSUCHSIG
	assert "$output" =~ "does not exist|invalid signal" "bad signal"
}

@test "delete --force kills a running container; run -d detaches" {
	make_bundle force "$(args sleep 1000)"
	newid
	rtf run -d -b "$bundle" --pid-file "$SKIFF_TEST_ROOT/pid" "$id"
	local pid
	pid=$(cat "$SKIFF_TEST_ROOT/pid")
	rt state "$id"
	is "$(jq -r .status <<<"$output")" "running" "run -d: running"
	rt delete --force "$id"
	wait_for --timeout 10 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" || die "still alive after delete --force"
	rt 1 state "$id"
}

@test "errors: bad bundle, missing executable, duplicate id, bad id" {
	make_bundle missing "$(args nosuch$TESTNUM)"
	newid
	rt 1 create -b "$bundle" "$id"
	assert "$output" =~ "executable file \`nosuch$TESTNUM\` not found" "missing executable: $output"
	rt list -q
	assert "$output" !~ "$id" "a failed create leaves no state"
	make_bundle dup "$(args sleep 100)"
	newid
	rtf create -b "$bundle" "$id"
	rtf 1 create -b "$bundle" "$id"
	assert "$output" =~ "already exists" "duplicate id: $output"
	rt 1 create -b "$bundle" "../x$TESTNUM"
	assert "$output" =~ "invalid container id" "bad id: $output"
	make_bundle bad "(.linux.namespaces[0].type) = \"nosuch\""
	newid
	rt 1 create -b "$bundle" "$id"
	assert "$output" =~ "linux.namespaces\[0\].type" "bad config names the field: $output"
	echo '{"ociVersion": ' >"$bundle/config.json"
	rt 1 create -b "$bundle" "$id"
	assert "$output" =~ "config.json" "truncated config: $output"
	rt 1 create -b "$SKIFF_TEST_ROOT/nosuch$TESTNUM" "$id"
	assert "$output" =~ "nosuch$TESTNUM" "missing bundle: $output"
	make_bundle term ".process.terminal = true | $(args true)"
	rt 1 create -b "$bundle" "$id"
	assert "$output" =~ "console-socket" "terminal without a console socket: $output"
}

@test "terminal: the pty master goes to the console socket" {
	make_bundle tty ".process.terminal = true | $(args isatty 0)"
	newid
	local sock=$SKIFF_TEST_ROOT/console.sock out=$SKIFF_TEST_ROOT/console.out
	python3 - "$sock" "$out" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 64, 1)
data = b""
while True:
    try:
        chunk = os.read(fds[0], 4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
open(sys.argv[2], "wb").write(data)
PY
	local py=$!
	wait_for --timeout 10 bash -c "[ -S $sock ]" || die "console socket not listening"
	rt run --console-socket "$sock" -b "$bundle" "$id"
	wait "$py"
	assert "$(tr -d '\r' <"$out")" == "true" "fd 0 is a tty inside"
}

@test "seccomp: the spec's filter is loaded last, before exec" {
	local sc='.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	make_bundle scs "$(args status Seccomp) | $sc"
	newid
	rt run -b "$bundle" "$id"
	is "$output" "2" "filter mode"
	make_bundle scu "$(args hostname) | $sc"
	newid
	rt 1 run -b "$bundle" "$id"
	assert "$output" =~ "Operation not permitted" "uname is refused: $output"
	make_bundle scbad "$(args true) | .linux.seccomp = {\"defaultAction\": \"SCMP_ACT_NOPE\"}"
	newid
	rt 1 run -b "$bundle" "$id"
	assert "$output" =~ "SCMP_ACT_NOPE" "bad action named: $output"
}

@test "cgroups: limits are written and enforced (root)" {
	skip_if_rootless "no delegated cgroup for rootless users here"
	[ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || skip "no cgroup hierarchy"
	local res='.linux.resources = {"memory": {"limit": 33554432}, "pids": {"limit": 64}}'
	make_bundle oom "$(args memhog 128) | $res"
	newid
	rt 137 run -b "$bundle" "$id"
	newid
	make_bundle lim "$(args sleep 100) | $res | .linux.cgroupsPath = \"/skiff-test/$id-lim\""
	rtf run -d -b "$bundle" "$id"
	local mem pids
	if [ -d /sys/fs/cgroup/memory ]; then
		mem=$(cat "/sys/fs/cgroup/memory/skiff-test/$id-lim/memory.limit_in_bytes")
		pids=$(cat "/sys/fs/cgroup/pids/skiff-test/$id-lim/pids.max")
	else
		mem=$(cat "/sys/fs/cgroup/skiff-test/$id-lim/memory.max")
		pids=$(cat "/sys/fs/cgroup/skiff-test/$id-lim/pids.max")
	fi
	is "$mem" "33554432" "memory limit"
	is "$pids" "64" "pids limit"
	rt pause "$id"
	rt state "$id"
	is "$(jq -r .status <<<"$output")" "paused" "paused"
	rt resume "$id"
	rt state "$id"
	is "$(jq -r .status <<<"$output")" "running" "resumed"
	rt delete --force "$id"
	[ ! -d "/sys/fs/cgroup/memory/skiff-test/$id-lim" ] || die "cgroup left behind"
}

@test "features, list --format json, usage errors" {
	rt features
	is "$(jq -r '.linux.seccomp.enabled' <<<"$output")" "true" "features: seccomp"
	assert "$(jq -r '.linux.namespaces | join(",")' <<<"$output")" =~ "pid" "features: namespaces"
	rt list --format json
	is "$(jq -r 'type' <<<"$output")" "array" "list json"
	rt 1 list --format yaml
	assert "$output" =~ "invalid format" "bad format"
	rt 1 nosuchcmd
	assert "$output" =~ "unknown command" "unknown command"
	rt 1 kill
	assert "$output" =~ "expected CONTAINER" "kill usage"
	rt 1 start a b
	assert "$output" =~ "unexpected argument" "extra argument"
	rt --version
	assert "$output" =~ "skiff-runtime version" "version"
}

@test "exec: a process in a running container's namespaces" {
	make_bundle ex "$(args sleep 1000) | .hostname = \"ex$TESTNUM\""
	newid
	rtf run -d -b "$bundle" "$id"
	rt exec "$id" hostname
	is "$output" "ex$TESTNUM" "its uts namespace"
	rt exec "$id" pid
	assert "$output" -gt 1 "its pid namespace (not PID 1): $output"
	rt exec "$id" caps
	assert "$output" =~ "CapEff: 00000000800405fb" "the container's capabilities: $output"
	rt exec -e X$TESTNUM=y "$id" env
	assert "$output" =~ "X$TESTNUM=y" "-e"
	rt exec --cwd /tmp "$id" cwd
	is "$output" "/tmp" "--cwd"
	rt 3 exec "$id" exit 3
	rt 127 exec "$id" nosuch$TESTNUM
	assert "$output" =~ "nosuch$TESTNUM" "missing command named"
	echo '{"args": ["echo", "from", "process"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"]}' >"$SKIFF_TEST_ROOT/proc.json"
	rt exec --process "$SKIFF_TEST_ROOT/proc.json" "$id"
	is "$output" "from process" "--process"
	rtf exec -d --pid-file "$SKIFF_TEST_ROOT/epid" "$id" sleep 1000
	local epid
	epid=$(cat "$SKIFF_TEST_ROOT/epid")
	assert "$epid" -gt 1 "exec -d writes the pid file"
	rt delete --force "$id"
	wait_for --timeout 10 bash -c "! kill -0 $epid 2>/dev/null || grep -q '^State:.*Z' /proc/$epid/status" || die "the exec'd process outlived its container"
	rt 1 exec "$id" true
	assert "$output" =~ "does not exist" "exec in a deleted container"
}
