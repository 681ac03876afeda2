#!/usr/bin/env bats
# exec and attach, with pipes and with a real pty (tests/system/ptyrun drives it):
# exit statuses, environment, user, namespaces, stdin EOF, detach keys, resize. Root and
# rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

PTYRUN=$BATS_TEST_DIRNAME/ptyrun

# pty ARGS...: ptyrun with skiff on this test's store (steps before --)
function pty() {
	local -a steps=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		steps+=("$1")
		shift
	done
	shift
	run timeout 60 "$PTYRUN" "${steps[@]}" -- "$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "$@"
	echo "$output"
}

@test "exec: output, exit status, 126/127, stopped container" {
	run_skiff run -d --name e$TESTNUM "$IMAGE" sleep 1000
	run_skiff exec e$TESTNUM echo hello
	is "$output" "hello" "exec output"
	run_skiff --separate-stderr 3 exec e$TESTNUM sh -c 'echo out; echo err >&2; exit 3'
	is "$output" "out" "stdout, and the process's exit status"
	is "$stderr" "err" "stderr apart"
	run_skiff 127 exec e$TESTNUM nosuchcommand
	assert "$output" =~ "nosuchcommand" "127 names the missing command: $output"
	run_skiff 126 exec e$TESTNUM /etc
	run_skiff 125 exec e$TESTNUM
	assert "$output" =~ "non-empty command" "a command is needed: $output"
	run_skiff 125 exec nosuch$TESTNUM true
	assert "$output" =~ "no container with name or ID" "unknown container: $output"
	run_skiff exec -l echo latest
	is "$output" "latest" "--latest"
	run_skiff stop -t 0 e$TESTNUM
	run_skiff 125 exec e$TESTNUM true
	assert "$output" =~ "can only create exec sessions on running containers" "stopped: $output"
}

@test "exec: joins the container: pid namespace, hostname, cgroup-free ps, root" {
	run_skiff run -d --name j$TESTNUM --hostname box$TESTNUM "$IMAGE" sleep 1000
	run_skiff exec j$TESTNUM hostname
	is "$output" "box$TESTNUM" "the container's uts namespace"
	run_skiff exec j$TESTNUM sh -c 'cat /proc/1/cmdline | tr "\0" " "'
	is "$output" "sleep 1000 " "PID 1 is the container's init"
	run_skiff exec j$TESTNUM sh -c 'echo $$'
	assert "$output" -gt 1 "a pid inside the container's namespace"
	run_skiff exec j$TESTNUM sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\t " " "'
	is "$output" $'NoNewPrivs: 0\nSeccomp: 2' "the container's seccomp filter"
	run_skiff exec j$TESTNUM sh -c 'touch /made-by-exec && ls /made-by-exec'
	run_skiff exec j$TESTNUM ls /made-by-exec
	is "$output" "/made-by-exec" "the same root filesystem"
}

@test "exec: -e, --env-file, -w, -u, --privileged" {
	run_skiff run -d --name v$TESTNUM -e FROMRUN=1 "$IMAGE" sleep 1000
	echo "FILEVAR=fromfile" >"$BATS_TEST_TMPDIR/env"
	run_skiff exec -e FOO=bar --env-file "$BATS_TEST_TMPDIR/env" v$TESTNUM sh -c 'echo $FOO $FILEVAR $FROMRUN'
	is "$output" "bar fromfile 1" "-e and --env-file over the container's env"
	run_skiff exec -w /tmp v$TESTNUM pwd
	is "$output" "/tmp" "-w"
	run_skiff 125 exec -w tmp v$TESTNUM pwd
	assert "$output" =~ "not an absolute path" "-w must be absolute: $output"
	run_skiff exec -u 1000:1000 v$TESTNUM id
	is "$output" "uid=1000(tester) gid=1000(tester)" "-u UID:GID"
	run_skiff exec -u tester v$TESTNUM sh -c 'id -u; echo $HOME'
	is "$output" $'1000\n/home/tester' "-u NAME: its uid and HOME"
	run_skiff 125 exec -u nosuchuser v$TESTNUM id
	assert "$output" =~ "nosuchuser" "an unknown user is named: $output"
	run_skiff exec v$TESTNUM sh -c 'grep CapEff /proc/self/status'
	local def=$output
	run_skiff exec --privileged v$TESTNUM sh -c 'grep CapEff /proc/self/status'
	assert "$output" != "$def" "--privileged: more capabilities than the default ($def)"
	run_skiff exec -u 1000 v$TESTNUM sh -c 'grep CapEff /proc/self/status'
	is "$output" $'CapEff:\t0000000000000000' "a non-root user has no capabilities"
}

@test "exec: -i passes stdin and its EOF; -d runs in the background" {
	run_skiff run -d --name i$TESTNUM "$IMAGE" sleep 1000
	run_skiff exec -i i$TESTNUM sh -c 'wc -l' <<<$'a\nb\nc'
	is "$output" "3" "stdin reached the process, and its EOF ended it"
	run_skiff exec i$TESTNUM sh -c 'cat; echo done'
	is "$output" "done" "without -i stdin is empty"
	run_skiff exec -d i$TESTNUM sh -c 'echo bg > /bg.txt; sleep 1000'
	assert "${#output}" -eq 64 "-d prints the exec session id: $output"
	wait_for "$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" exec i$TESTNUM cat /bg.txt
	run_skiff exec i$TESTNUM sh -c 'ps -o args | grep -c "^sleep 1000"'
	is "$output" "2" "the detached process runs on"
}

@test "exec --preserve-fds" {
	run_skiff run -d --name f$TESTNUM "$IMAGE" sleep 1000
	echo "through fd 3" >"$BATS_TEST_TMPDIR/fd3"
	run_skiff exec --preserve-fds 1 f$TESTNUM cat /proc/self/fd/3 3<"$BATS_TEST_TMPDIR/fd3"
	is "$output" "through fd 3" "fd 3 reached the process"
	run_skiff 125 exec --preserve-fds 1 -t f$TESTNUM true 3<"$BATS_TEST_TMPDIR/fd3"
	assert "$output" =~ "preserve-fds" "not with a tty: $output"
}

@test "exec -it: a pty with the terminal's size, resize, exit status, detach keys" {
	command -v python3 >/dev/null || skip "python3 is missing: no pty driver"
	run_skiff run -d --name t$TESTNUM "$IMAGE" sleep 1000
	pty --rows 33 --cols 101 -- exec -it t$TESTNUM sh -c 'stty size; tty'
	is "$status" 0 "exec -it status"
	assert "$output" =~ "33 101" "the pty has the terminal's size at once: $output"
	assert "$output" =~ "/dev/pts/" "a pty inside: $output"
	pty 'expect:# ' 'send:echo x""y\n' 'expect:xy' 'resize:40,120' 'send:stty size\n' 'expect:40 120' 'send:exit 5\n' -- \
		exec -it t$TESTNUM sh
	is "$status" 5 "the shell's exit status"
	pty 'expect:# ' 'send:sleep 777\n' 'expect:sleep 777' 'send:\x10\x11' -- exec -it --detach-keys ctrl-p,ctrl-q t$TESTNUM sh
	is "$status" 0 "detached with ctrl-p,ctrl-q"
	# the detached session's process runs on
	wait_for "$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" exec t$TESTNUM \
		sh -c 'ps -o args | grep -q "^sleep 777"'
	run_skiff 125 exec -it --detach-keys ctrl-9 t$TESTNUM true
	assert "$output" =~ "ctrl-9" "a bad detach key is named: $output"
}

@test "run -it: the terminal's size and a raw terminal" {
	command -v python3 >/dev/null || skip "python3 is missing: no pty driver"
	pty --rows 27 --cols 91 -- run --rm -it "$IMAGE" sh -c 'stty size; echo a; echo b'
	is "$status" 0 "run -it status"
	is "$output" $'27 91\na\nb' "size, and one line end per line (no \\r\\r\\n)"
}

@test "attach: output, input, detach and re-attach, the exit status" {
	command -v python3 >/dev/null || skip "python3 is missing: no pty driver"
	run_skiff run -dit --name a$TESTNUM "$IMAGE" sh
	pty 'send:echo one""two\n' 'expect:onetwo' 'send:\x10\x11' -- attach a$TESTNUM
	is "$status" 0 "detached"
	run_skiff inspect --format '{{.State.Status}}' a$TESTNUM
	is "$output" "running" "the container runs on after a detach"
	pty 'send:exit 4\n' -- attach a$TESTNUM
	is "$status" 4 "attach ends with the container's exit status"
	run_skiff 125 attach a$TESTNUM
	assert "$output" =~ "only attach to running containers" "attach to an exited container: $output"
}

@test "attach: pipes, --no-stdin, two clients at once" {
	run_skiff run -d --name p$TESTNUM "$IMAGE" sh -c 'i=0; while [ $i -lt 50 ]; do echo tick$i; i=$((i+1)); sleep 0.1; done; exit 6'
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" attach --no-stdin p$TESTNUM \
		>"$BATS_TEST_TMPDIR/a1" 2>&1 &
	local a1=$!
	run_skiff 6 attach p$TESTNUM
	assert "$output" =~ "tick4" "the second client saw output: $output"
	local s1=0
	wait $a1 || s1=$?
	is "$s1" 6 "the first client got the exit status too"
	assert "$(cat "$BATS_TEST_TMPDIR/a1")" =~ "tick4" "the first client saw output"
}

@test "attach: a slow reader gets all the output (backpressure), the exit status after it" {
	run_skiff run -d --name s$TESTNUM "$IMAGE" sh -c 'sleep 1; yes 0123456789abcdefghij | head -c 20000000; exit 9'
	local n s=0
	n=$("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" attach s$TESTNUM | (sleep 1.5; wc -c)) || s=$?
	is "$n" "20000000" "every byte, though the reader paused for 1.5 s"
	run_skiff inspect --format '{{.State.ExitCode}}' s$TESTNUM
	is "$output" "9" "and the container ran to its end"
}

@test "run -i: a container that exits before reading all its stdin ends with its own status" {
	for _ in 1 2 3; do
		run bash -c "yes | timeout 60 \"$SKIFF\" --root \"$SKIFF_TEST_ROOT/root\" --runroot \"$SKIFF_TEST_ROOT/runroot\" run -i --rm \"$IMAGE\" sh -c 'head -1; exit 4'"
		is "$status" 4 "the container's status, not a broken pipe: $output"
		is "$output" "y"
	done
}
