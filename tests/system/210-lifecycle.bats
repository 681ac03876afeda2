#!/usr/bin/env bats
# Container lifecycle: create, start, ps, stop, kill, wait, logs, rm; the monitor
# outliving the CLI; reboot; restart policies. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

# state NAME: sets $output to the container's state
function state() {
	run_skiff inspect --format '{{.State.Status}}' "$1"
}

@test "create, start, ps, stop, rm" {
	run_skiff create --name c$TESTNUM "$IMAGE" sleep 1000
	local id=$output
	assert "${#id}" -eq 64 "create prints the full id"
	run_skiff ps --format '{{.Names}}'
	is "$output" "" "ps: not running yet"
	run_skiff ps -a --format '{{.Names}} {{.Status}}'
	is "$output" "c$TESTNUM Created" "ps -a: created"
	run_skiff 125 create --name c$TESTNUM "$IMAGE" true
	assert "$output" =~ "already in use" "names are unique: $output"
	run_skiff start c$TESTNUM
	is "$output" "c$TESTNUM" "start prints the name given"
	run_skiff ps --format '{{.ID}} {{.Names}} {{.State}}'
	is "$output" "${id:0:12} c$TESTNUM running" "ps: running"
	run_skiff ps --no-trunc -q
	is "$output" "$id" "ps -q --no-trunc"
	run_skiff ps -s --format '{{.Size}}'
	assert "$output" =~ "^[0-9.]+k?B \(virtual [0-9.]+[kM]B\)$" "ps -s: $output"
	run_skiff ps
	assert "${lines[0]}" =~ "^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$" "ps header: ${lines[0]}"
	assert "${lines[1]}" =~ "sleep 1000 .* Up " "ps row: ${lines[1]}"
	run_skiff 2 rm c$TESTNUM
	assert "$output" =~ "cannot remove container" "rm of a running container: $output"
	run_skiff stop -t 1 c$TESTNUM
	is "$output" "c$TESTNUM" "stop prints the name"
	run_skiff ps -a --format '{{.Status}}'
	assert "$output" =~ "^Exited \(137\) " "stop escalated to SIGKILL (sleep as PID 1 ignores TERM): $output"
	run_skiff rm c$TESTNUM
	run_skiff 1 container exists c$TESTNUM
	run_skiff 1 rm c$TESTNUM
	assert "$output" =~ "no container with name or ID" "rm of an unknown container"
}

@test "stop: the stop signal first; --stop-signal; kill -s; wait" {
	run_skiff run -d --name t$TESTNUM "$IMAGE" sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done'
	run_skiff stop t$TESTNUM
	run_skiff inspect --format '{{.State.ExitCode}}' t$TESTNUM
	is "$output" "42" "TERM reached the trap"
	run_skiff run -d --name u$TESTNUM --stop-signal USR1 "$IMAGE" sh -c 'trap "exit 43" USR1; while :; do sleep 0.1; done'
	run_skiff stop u$TESTNUM
	run_skiff wait u$TESTNUM
	is "$output" "43" "--stop-signal"
	run_skiff run -d --name k$TESTNUM "$IMAGE" sh -c 'trap "exit 44" HUP; while :; do sleep 0.1; done'
	run_skiff wait --condition running k$TESTNUM
	is "$output" "-1" "wait --condition running returns once it runs"
	run_skiff 125 wait --condition sideways k$TESTNUM
	run_skiff kill -s HUP k$TESTNUM
	run_skiff wait k$TESTNUM
	is "$output" "44" "kill -s HUP"
	run_skiff 125 kill k$TESTNUM
	assert "$output" =~ "can only kill running containers" "kill of an exited container: $output"
	run_skiff 125 kill -s NOSUCH k$TESTNUM
	assert "$output" =~ "invalid signal" "bad signal: $output"
	run_skiff rm -a
	run_skiff ps -aq
	is "$output" "" "rm -a"
}

@test "logs: k8s-file log, --tail, -t, -f" {
	run_skiff run --name l$TESTNUM "$IMAGE" sh -c 'echo one; echo two >&2; echo three'
	run_skiff logs l$TESTNUM
	# stdout and stderr are two pipes: their lines may interleave either way
	is "$(sort <<<"$output")" "one
three
two" "logs"
	is "$("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" logs l$TESTNUM 2>/dev/null)" "one
three" "stdout lines go to stdout, in order"
	run_skiff logs --tail 1 l$TESTNUM
	assert "$output" =~ "^(two|three)$" "--tail 1: $output"
	run_skiff logs -t l$TESTNUM
	assert "${lines[0]}" =~ "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[-+][0-9]{2}:[0-9]{2} one$" "-t: ${lines[0]}"
	run_skiff logs --since 10m l$TESTNUM
	assert "${#lines[@]}" -eq 3 "--since 10m"
	run_skiff logs --until 2000-01-01 l$TESTNUM
	is "$output" "" "--until before everything"
	run_skiff 125 logs --since notatime l$TESTNUM
	run_skiff run -d --name f$TESTNUM "$IMAGE" sh -c 'for i in 1 2 3; do echo line$i; sleep 0.2; done'
	run_skiff logs -f f$TESTNUM
	is "$output" "line1
line2
line3" "logs -f follows to the end"
	run_skiff rm -a
}

@test "the monitor outlives a SIGKILLed CLI" {
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" run --name m$TESTNUM "$IMAGE" sleep 1000 \
		>/dev/null 2>&1 &
	local cli=$!
	wait_for --timeout 20 bash -c "'$SKIFF' --root '$SKIFF_TEST_ROOT/root' --runroot '$SKIFF_TEST_ROOT/runroot' ps --format '{{.Names}}' | grep -qx m$TESTNUM" ||
		die "the container did not start"
	kill -9 "$cli"
	wait "$cli" || true
	run_skiff ps --format '{{.Names}} {{.State}}'
	is "$output" "m$TESTNUM running" "still running without its CLI"
	run_skiff stop -t 0 m$TESTNUM
	run_skiff ps -a --format '{{.State}}'
	is "$output" "exited" "stopped"
	run_skiff rm m$TESTNUM
}

@test "a killed monitor or a wiped runroot reads as exited" {
	run_skiff run -d --name r$TESTNUM "$IMAGE" sleep 1000
	local id=$output
	run_skiff inspect --format '{{.State.ConmonPid}} {{.State.Pid}}' r$TESTNUM
	local mon=${output% *} pid=${output#* }
	kill -9 "$mon" "$pid"
	wait_for --timeout 10 bash -c "! kill -0 $mon 2>/dev/null || grep -q '^State:.*Z' /proc/$mon/status" || die "monitor survived"
	run_skiff ps -a --format '{{.State}} {{.ExitCode}}'
	is "$output" "exited -1" "killed monitor: exited, code unknown"
	run_skiff rm r$TESTNUM
	# a reboot: every process gone and the runroot wiped
	run_skiff run -d --name b$TESTNUM "$IMAGE" sleep 1000
	run_skiff inspect --format '{{.State.ConmonPid}} {{.State.Pid}}' b$TESTNUM
	mon=${output% *} pid=${output#* }
	kill -9 "$mon" "$pid"
	wait_for --timeout 10 bash -c "! kill -0 $mon 2>/dev/null || grep -q '^State:.*Z' /proc/$mon/status" || die "monitor survived"
	rm -rf "$SKIFF_TEST_ROOT/runroot/containers"
	run_skiff ps -a --format '{{.Names}} {{.State}}'
	is "$output" "b$TESTNUM exited" "after a reboot"
	run_skiff start b$TESTNUM
	run_skiff ps --format '{{.Names}} {{.State}}'
	is "$output" "b$TESTNUM running" "starts again"
	run_skiff rm -f b$TESTNUM
}

@test "restart policies" {
	run_skiff run -d --name of$TESTNUM --restart on-failure:2 "$IMAGE" sh -c 'exit 1'
	wait_for --timeout 30 bash -c "'$SKIFF' --root '$SKIFF_TEST_ROOT/root' --runroot '$SKIFF_TEST_ROOT/runroot' inspect --format '{{.State.Status}} {{.RestartCount}}' of$TESTNUM | grep -qx 'exited 2'" ||
		die "on-failure:2 did not end after 2 restarts"
	run_skiff inspect --format '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' of$TESTNUM
	is "$output" "on-failure 2" "policy in inspect"
	run_skiff run -d --name al$TESTNUM --restart always "$IMAGE" sh -c 'exit 0'
	wait_for --timeout 30 bash -c "'$SKIFF' --root '$SKIFF_TEST_ROOT/root' --runroot '$SKIFF_TEST_ROOT/runroot' inspect --format '{{.RestartCount}}' al$TESTNUM | grep -qv '^0$'" ||
		die "always did not restart"
	run_skiff stop al$TESTNUM
	run_skiff inspect --format '{{.State.Status}}' al$TESTNUM
	is "$output" "exited" "a stop ends always"
	run_skiff 125 run --rm --restart always "$IMAGE" true
	assert "$output" =~ "conflicts" "--rm with --restart"
	run_skiff 125 run --restart sometimes "$IMAGE" true
	run_skiff rm -a -f
}

@test "run -it: a terminal, stdin, and the detach keys" {
	run_skiff run --rm -i "$IMAGE" cat <<<"piped in"
	is "$output" "piped in" "-i passes stdin"
	run_skiff run --rm -t "$IMAGE" sh -c 'test -t 0 && echo tty'
	assert "$output" =~ "tty" "-t gives a terminal"
	command -v script >/dev/null || skip "script(1) is needed for a terminal on stdin"
	local S="$SKIFF --root $SKIFF_TEST_ROOT/root --runroot $SKIFF_TEST_ROOT/runroot"
	# a shell on a pty, fed through script(1): the exit status comes back
	run bash -c "printf 'echo hi-\$((6*7)); exit 3\r' | timeout 30 script -qefc '$S run -it --rm $IMAGE sh' /dev/null"
	assert "$status" -eq 3 "run -it exits with the shell's status: $output"
	assert "$output" =~ "hi-42" "the shell ran the input: $output"
	# ctrl-p ctrl-q detaches (typed once the terminal is raw, i.e. once it runs)
	run bash -c "{ for i in \$(seq 200); do $S ps --format '{{.Names}}' | grep -qx dt$TESTNUM && break; sleep 0.1; done
		printf '\x10\x11'; } | timeout 30 script -qefc '$S run -it --name dt$TESTNUM $IMAGE sh' /dev/null"
	assert "$status" -eq 0 "detached: $output"
	run_skiff ps --format '{{.Names}} {{.State}}'
	is "$output" "dt$TESTNUM running" "still running after the detach keys"
	run_skiff rm -f dt$TESTNUM
}

@test "--runtime PATH, kept by the container; --runtime crun" {
	local rt
	rt=$(dirname "$SKIFF")/skiff-runtime
	run_skiff run --rm --runtime "$rt" "$IMAGE" echo via path
	is "$output" "via path" "run --runtime PATH"
	run_skiff create --name rt$TESTNUM --runtime "$rt" "$IMAGE" echo created
	run_skiff start -a rt$TESTNUM
	is "$output" "created" "start uses the runtime the container was created with"
	run_skiff 125 run --rm --runtime /nonexistent$TESTNUM "$IMAGE" true
	assert "$output" =~ "nonexistent$TESTNUM" "a missing runtime is named: $output"
	run_skiff rm -a
	command -v crun >/dev/null || skip "crun is not installed"
	if awk '$5 == "/sys/fs/cgroup/unified"' /proc/self/mountinfo | grep -q .; then
		skip "crun refuses this host's hybrid cgroups (v1 controllers plus a v2 hierarchy)"
	fi
	run_skiff run --rm --runtime crun "$IMAGE" echo via crun
	is "$output" "via crun" "crun runs it"
}

@test "top, rename, pause, mount, container prune" {
	run_skiff run -d --name tp$TESTNUM "$IMAGE" sh -c 'sleep 1000 & sleep 1001'
	run_skiff top tp$TESTNUM
	assert "${lines[0]}" =~ "^USER +PID +PPID +%CPU +ELAPSED +TTY +TIME +COMMAND$" "top header: ${lines[0]}"
	run_skiff top tp$TESTNUM pid args
	assert "$output" =~ "1 +sleep 1001" "PID 1 is the last command: $output"
	assert "$output" =~ "sleep 1000" "and its child: $output"
	run_skiff 125 top tp$TESTNUM nosuchdescriptor
	run_skiff rename tp$TESTNUM tq$TESTNUM
	run_skiff ps --format '{{.Names}}'
	is "$output" "tq$TESTNUM" "renamed"
	run_skiff 125 rename tq$TESTNUM 'bad/name'
	if is_rootless; then
		run_skiff 125 pause tq$TESTNUM
		assert "$output" =~ "rootless" "pause without a cgroup says why: $output"
	else
		run_skiff pause tq$TESTNUM
		run_skiff ps --format '{{.State}}'
		is "$output" "paused" "paused"
		run_skiff 125 pause tq$TESTNUM
		run_skiff unpause tq$TESTNUM
		run_skiff ps --format '{{.State}}'
		is "$output" "running" "unpaused"
	fi
	run_skiff rm -f tq$TESTNUM
	run_skiff run --name mnt$TESTNUM "$IMAGE" sh -c 'echo inside > /marker'
	run_skiff mount mnt$TESTNUM
	local mp=$output
	if ! is_rootless; then
		is "$(cat "$mp/marker")" "inside" "the mounted rootfs holds the container's changes"
	fi
	run_skiff mount
	assert "$output" =~ "$mp" "mount lists it"
	run_skiff umount mnt$TESTNUM
	run_skiff run --name keep$TESTNUM -d "$IMAGE" sleep 1000
	run_skiff container prune -f
	assert "$output" =~ "^[0-9a-f]{64}$" "prune prints the removed ids: $output"
	run_skiff ps -a --format '{{.Names}}'
	is "$output" "keep$TESTNUM" "prune keeps running containers"
	run_skiff rm -f keep$TESTNUM
}

@test "an image in use cannot be removed; rmi -f removes its containers" {
	run_skiff run -d --name use$TESTNUM "$IMAGE" sleep 1000
	run_skiff 2 rmi "$IMAGE"
	assert "$output" =~ "image is in use by a container" "rmi of an image in use: $output"
	run_skiff image prune -a -f
	run_skiff image exists "$IMAGE"
	run_skiff rmi -f "$IMAGE"
	run_skiff ps -aq
	is "$output" "" "rmi -f removed the container"
	run_skiff 1 image exists "$IMAGE"
}

@test "system reset removes running containers too" {
	run_skiff run -d --name rs$TESTNUM "$IMAGE" sleep 1000
	run_skiff inspect --format '{{.State.Pid}}' rs$TESTNUM
	local pid=$output
	run_skiff system reset -f
	wait_for --timeout 10 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" || die "the container outlived the reset"
	run_skiff ps -aq
	is "$output" "" "no containers"
	run_skiff images -q
	is "$output" "" "no images"
}

@test "--sig-proxy: signals to an attached run reach the container" {
	local S=("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot")
	"${S[@]}" run --name sp$TESTNUM "$IMAGE" sh -c 'trap "exit 9" USR1; while :; do sleep 0.1; done' >/dev/null 2>&1 &
	local cli=$!
	wait_for --timeout 20 bash -c "$(printf '%q ' "${S[@]}") ps --format '{{.Names}}' | grep -qx sp$TESTNUM" || die "did not start"
	kill -USR1 "$cli"
	local st=0
	wait "$cli" || st=$?
	is "$st" "9" "the container trapped the proxied USR1 and run exits with its status"
	run_skiff rm sp$TESTNUM
}

@test "cleanup: the monitor's exit command runs when no attached client took it over" {
	command -v sqlite3 >/dev/null || skip "sqlite3 is needed to read the store directly"
	local d=$SKIFF_TEST_ROOT/go$TESTNUM
	mkdir -p "$d"
	chmod 777 "$d"
	local S=("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot")
	"${S[@]}" run --name cl$TESTNUM -v "$d:/w" "$IMAGE" sh -c 'while [ ! -e /w/go ]; do sleep 0.1; done' >/dev/null 2>&1 &
	local cli=$!
	wait_for --timeout 20 bash -c "$(printf '%q ' "${S[@]}") ps --format '{{.Names}}' | grep -qx cl$TESTNUM" || die "did not start"
	run_skiff inspect --format '{{.State.ConmonPid}}' cl$TESTNUM
	local mon=$output
	kill -9 "$cli"
	wait "$cli" || true
	touch "$d/go"
	wait_for --timeout 20 bash -c "! kill -0 $mon 2>/dev/null || grep -q '^State:.*Z' /proc/$mon/status" || die "the monitor did not finish"
	# straight from the database: no skiff command has refreshed it
	run sqlite3 "$SKIFF_TEST_ROOT/root/skiff.db" "SELECT status, mounted FROM containers WHERE name = 'cl$TESTNUM'"
	is "$output" "exited|0" "the exit command recorded the exit and unmounted"
	run_skiff rm cl$TESTNUM
}

@test "stop -a and rm -f of several containers at once" {
	run_skiff run -d --name s1$TESTNUM "$IMAGE" sleep 1000
	run_skiff run -d --name s2$TESTNUM "$IMAGE" sh -c 'trap "exit 5" TERM; while :; do sleep 0.1; done'
	run_skiff run -d --rm --name s3$TESTNUM "$IMAGE" sleep 1000
	run_skiff stop -a -t 2
	assert "${#lines[@]}" -eq 3 "stop -a names each: $output"
	run_skiff ps -a --format '{{.Names}} {{.Status}}'
	assert "$output" =~ "s1$TESTNUM Exited \(137\)" "sleep as PID 1 needed SIGKILL: $output"
	assert "$output" =~ "s2$TESTNUM Exited \(5\)" "the trap ran: $output"
	assert "$output" !~ "s3$TESTNUM" "the --rm one is gone: $output"
	run_skiff start s1$TESTNUM s2$TESTNUM
	run_skiff rm -f s1$TESTNUM s2$TESTNUM nosuch$TESTNUM
	assert "$output" =~ "s1$TESTNUM" "rm -f names the removed"
	assert "$output" !~ "nosuch$TESTNUM" "-f passes over a missing one, as podman"
	run_skiff ps -aq
	is "$output" "" "all removed"
}

@test "system check finds containers without content and directories without a record" {
	run_skiff create --name ok$TESTNUM "$IMAGE" true
	run_skiff create --name gone$TESTNUM "$IMAGE" true
	local gone=$output orphan
	orphan=$(printf 'e%.0s' $(seq 64))
	rm -rf "$SKIFF_TEST_ROOT/root/containers/$gone"
	mkdir -p "$SKIFF_TEST_ROOT/root/containers/$orphan/diff"
	run_skiff 1 system check
	assert "$output" =~ "container $gone: content missing" "a row without its directory: $output"
	assert "$output" =~ "container directory $orphan: no record" "a directory without a row: $output"
	run_skiff system check --repair
	assert "$output" =~ "repaired 2 problems" "repair: $output"
	run_skiff system check
	run_skiff ps -a --format '{{.Names}}'
	is "$output" "ok$TESTNUM" "the healthy container stays"
	[ ! -e "$SKIFF_TEST_ROOT/root/containers/$orphan" ] || die "the orphan directory is still there"
}
