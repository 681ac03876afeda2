#!/usr/bin/env bats
# skiff run: exit statuses, isolation seen from inside, options that shape the process
# and its filesystem. Root and rootless.

load helpers

function setup_file() {
	skiff_setup_file
}

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

@test "run: output and the container's exit status" {
	run_skiff run --rm "$IMAGE" echo hello world
	is "$output" "hello world" "echo"
	run_skiff 3 run --rm "$IMAGE" sh -c 'exit 3'
	# PID 1 cannot be killed from inside: a child shell can
	run_skiff 137 run --rm "$IMAGE" sh -c 'sh -c "kill -9 \$\$"; exit $?'
	run_skiff 127 run --rm "$IMAGE" nosuch$TESTNUM
	assert "$output" =~ "nosuch$TESTNUM" "names the missing executable: $output"
	run_skiff 126 run --rm "$IMAGE" /etc
	run_skiff 125 run --rm --pull=never "$IMAGE"x$TESTNUM true
	assert "$output" =~ "image not known" "unknown image: $output"
	# as podman, a missing image is pulled first: localhost has no registry here
	run_skiff 125 run --rm --retry 0 "$IMAGE"x$TESTNUM true
	assert "$output" =~ "pinging container registry localhost" "the pull's error: $output"
	run_skiff 125 run --nosuchflag "$IMAGE" true
	run_skiff ps -a -q
	is "$output" "" "--rm left nothing behind, even after failures"
}

@test "run: isolation from inside" {
	run_skiff run --rm "$IMAGE" sh -c 'echo $$'
	is "$output" "1" "PID 1 of its own pid namespace"
	run_skiff run --rm --hostname h$TESTNUM "$IMAGE" hostname
	is "$output" "h$TESTNUM" "--hostname"
	run_skiff run -d "$IMAGE" sleep 100
	local id=$output
	run_skiff inspect --format '{{.Config.Hostname}}' "$id"
	is "$output" "${id:0:12}" "default hostname is the short id"
	run_skiff rm -f "$id"
	run_skiff run --rm "$IMAGE" grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status
	assert "$output" =~ "CapEff:	00000000800405fb" "podman's default capabilities: $output"
	assert "$output" =~ "Seccomp:	2" "seccomp filter: $output"
	assert "$output" =~ "NoNewPrivs:	0" "no_new_privs off by default: $output"
	run_skiff run --rm --security-opt no-new-privileges "$IMAGE" grep NoNewPrivs /proc/self/status
	assert "$output" =~ "1" "--security-opt no-new-privileges"
	run_skiff run --rm --cap-drop all "$IMAGE" grep CapEff /proc/self/status
	assert "$output" =~ "0000000000000000" "--cap-drop all"
	run_skiff run --rm --cap-add NET_ADMIN "$IMAGE" grep CapEff /proc/self/status
	assert "$output" =~ "00000000800415fb" "--cap-add NET_ADMIN"
	run_skiff run --rm --security-opt seccomp=unconfined "$IMAGE" grep Seccomp: /proc/self/status
	assert "$output" =~ "0" "seccomp=unconfined"
	run_skiff run --rm "$IMAGE" cat /proc/timer_list
	is "$output" "" "/proc/timer_list is masked"
	run_skiff 1 run --rm "$IMAGE" sh -c 'echo x > /proc/sysrq-trigger'
}

@test "run: env, workdir, user, entrypoint, labels" {
	printf 'A%s=from file\n# comment\n\nB%s=2\n' "$TESTNUM" "$TESTNUM" >"$SKIFF_TEST_ROOT/env"
	run_skiff run --rm --env-file "$SKIFF_TEST_ROOT/env" -e "B$TESTNUM=3" -e C$TESTNUM=x "$IMAGE" env
	assert "$output" =~ "A$TESTNUM=from file" "--env-file"
	assert "$output" =~ "B$TESTNUM=3" "-e overrides --env-file"
	assert "$output" =~ "PATH=/usr/local/sbin" "the image's PATH"
	assert "$output" =~ "HOME=/root" "HOME from /etc/passwd"
	run_skiff run --rm -w /tmp "$IMAGE" pwd
	is "$output" "/tmp" "-w"
	# a missing working directory is made (as docker), owned by the container's root
	run_skiff run --rm -u 1000:1000 -w /no/such$TESTNUM "$IMAGE" sh -c 'pwd; stat -c %u:%g:%a .'
	is "$output" "/no/such$TESTNUM
0:0:755" "-w of a missing directory"
	run_skiff 125 run --rm -w /bin/busybox "$IMAGE" true
	assert "$output" =~ 'workdir "/bin/busybox" exists, but is not a directory' "-w of a file: $output"
	run_skiff run --rm -u 1000:1000 "$IMAGE" id
	assert "$output" =~ "uid=1000" "-u uid"
	run_skiff run --rm -u tester "$IMAGE" sh -c 'id -u; echo $HOME'
	is "$output" "1000
/home/tester" "-u name"
	run_skiff 125 run --rm -u nosuch$TESTNUM "$IMAGE" id
	assert "$output" =~ "nosuch$TESTNUM" "unknown user named: $output"
	run_skiff run --rm --entrypoint echo "$IMAGE" via entrypoint
	is "$output" "via entrypoint" "--entrypoint"
	run_skiff run -d -l a$TESTNUM=b --name n$TESTNUM "$IMAGE" true
	run_skiff wait n$TESTNUM
	is "$output" "0" "wait"
	run_skiff inspect --format '{{index .Config.Labels "a'$TESTNUM'"}}' n$TESTNUM
	is "$output" "b" "label"
	run_skiff ps -a --filter label=a$TESTNUM=b --format '{{.Names}}'
	is "$output" "n$TESTNUM" "ps --filter label"
	run_skiff rm n$TESTNUM
}

@test "run: bind mounts, tmpfs and read-only root" {
	local d=$SKIFF_TEST_ROOT/host$TESTNUM
	mkdir -p "$d"
	echo "from host" >"$d/f"
	run_skiff run --rm -v "$d:/data" "$IMAGE" sh -c 'cat /data/f; echo back > /data/g'
	is "$output" "from host" "bind mount reads"
	is "$(cat "$d/g")" "back" "and writes"
	run_skiff 1 run --rm -v "$d:/data:ro" "$IMAGE" sh -c 'echo x > /data/h'
	assert "$output" =~ "Read-only file system" ":ro"
	run_skiff 1 run --rm --read-only "$IMAGE" touch /x
	assert "$output" =~ "Read-only file system" "--read-only"
	run_skiff run --rm --read-only "$IMAGE" touch /tmp/x
	run_skiff run --rm --tmpfs /scratch "$IMAGE" sh -c 'touch /scratch/x && grep " /scratch " /proc/mounts'
	assert "$output" =~ "tmpfs" "--tmpfs"
	run_skiff 125 run --rm -v ../relative:/data "$IMAGE" true
	run_skiff 125 run --rm -v "$d:data" "$IMAGE" true
	assert "$output" =~ "data" "relative destination named: $output"
}

@test "run: the writable layer keeps changes until rm" {
	run_skiff run --name w$TESTNUM "$IMAGE" sh -c 'echo kept > /root/file'
	run_skiff mount
	is "$output" "" "the attached run unmounted the rootfs when the container exited"
	run_skiff inspect --format '{{.State.Status}}' w$TESTNUM
	is "$output" "exited" "and recorded the exit"
	run_skiff start --attach w$TESTNUM
	run_skiff run --rm "$IMAGE" sh -c 'cat /root/file 2>&1 || true'
	assert "$output" =~ "No such file" "another container does not see it"
	run_skiff rm w$TESTNUM
}

@test "run: 20 in parallel with --rm all succeed" {
	local i pids=()
	for i in $(seq 1 20); do
		"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" run --rm "$IMAGE" echo "p$i" \
			>"$SKIFF_TEST_ROOT/p$i.out" 2>&1 &
		pids+=($!)
	done
	local failed=0
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { failed=$((failed + 1)); cat "$SKIFF_TEST_ROOT/p$((i + 1)).out" >&2; }
	done
	assert "$failed" -eq 0 "every parallel run succeeded"
	for i in $(seq 1 20); do
		is "$(cat "$SKIFF_TEST_ROOT/p$i.out")" "p$i" "output of run $i"
	done
	run_skiff ps -a -q
	is "$output" "" "nothing left"
}

@test "run: memory limit is enforced (root)" {
	skip_if_rootless "no delegated cgroup for rootless users here"
	run_skiff 137 run --memory 32m "$IMAGE" sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived'
	local id
	run_skiff ps -a -q --no-trunc
	id=$output
	run_skiff inspect --format '{{.State.OOMKilled}}' "$id"
	is "$output" "true" "OOMKilled"
	run_skiff rm "$id"
}

@test "run --init: an init at PID 1 that reaps and passes the status on" {
	run_skiff run --rm --init "$IMAGE" sh -c 'echo $$; tr "\0" " " </proc/1/cmdline'
	is "${lines[0]}" "2" "the command is not PID 1"
	assert "${lines[1]}" =~ "^/run/skiff-init -- sh" "skiff-init is PID 1: ${lines[1]}"
	run_skiff 7 run --rm --init "$IMAGE" sh -c 'exit 7'
	run_skiff run -d --init --name i$TESTNUM "$IMAGE" sleep 1000
	run_skiff stop -t 5 i$TESTNUM
	run_skiff inspect --format '{{.State.ExitCode}}' i$TESTNUM
	is "$output" "143" "TERM reaches sleep through the init (no SIGKILL needed)"
	run_skiff rm i$TESTNUM
}

@test "run: cgroup limits land in the cgroup files (root)" {
	skip_if_rootless "no delegated cgroup for rootless users here"
	run_skiff run -d --memory 64m --pids-limit 100 --cpu-shares 512 --name cg$TESTNUM "$IMAGE" sleep 1000
	local id=$output base
	if [ -d /sys/fs/cgroup/memory ]; then
		is "$(cat /sys/fs/cgroup/memory/skiff/$id/memory.limit_in_bytes)" "67108864" "memory limit"
		is "$(cat /sys/fs/cgroup/pids/skiff/$id/pids.max)" "100" "pids limit"
		is "$(cat /sys/fs/cgroup/cpu/skiff/$id/cpu.shares)" "512" "cpu shares"
	else
		base=/sys/fs/cgroup/skiff/$id
		is "$(cat $base/memory.max)" "67108864" "memory limit"
		is "$(cat $base/pids.max)" "100" "pids limit"
	fi
	run_skiff rm -f cg$TESTNUM
	[ ! -d /sys/fs/cgroup/memory/skiff/$id ] || die "cgroup left behind after rm"
}

@test "run: --privileged, --ulimit, a seccomp profile file, --sysctl, --oom-score-adj" {
	run_skiff run --rm --privileged "$IMAGE" grep -E '^(CapEff|Seccomp):' /proc/self/status
	assert "$output" =~ "Seccomp:	0" "--privileged: no seccomp filter: $output"
	assert "$output" !~ "CapEff:	00000000800405fb" "--privileged: more than the default capabilities: $output"
	run_skiff run --rm --ulimit nofile=512:800 "$IMAGE" sh -c 'ulimit -n; ulimit -Hn'
	is "$output" "512
800" "--ulimit nofile"
	run_skiff 125 run --rm --ulimit nofile=900:800 "$IMAGE" true
	run_skiff 125 run --rm --ulimit nosuch=1 "$IMAGE" true
	cat >"$SKIFF_TEST_ROOT/seccomp.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
JSON
	run_skiff 1 run --rm --security-opt seccomp="$SKIFF_TEST_ROOT/seccomp.json" "$IMAGE" mkdir /tmp/x
	assert "$output" =~ "Operation not permitted" "the profile from the file applies: $output"
	run_skiff 125 run --rm --security-opt seccomp=/nonexistent$TESTNUM "$IMAGE" true
	assert "$output" =~ "nonexistent$TESTNUM" "a missing profile is named: $output"
	run_skiff run --rm --sysctl net.ipv4.ip_forward=1 "$IMAGE" cat /proc/sys/net/ipv4/ip_forward
	is "$output" "1" "--sysctl in the container's network namespace"
	run_skiff run --rm --oom-score-adj 500 "$IMAGE" cat /proc/self/oom_score_adj
	is "$output" "500" "--oom-score-adj"
}

@test "run: the vfs storage driver" {
	local S=("$SKIFF" --root "$SKIFF_TEST_ROOT/vfsroot" --runroot "$SKIFF_TEST_ROOT/vfsrun" --storage-driver vfs)
	"${S[@]}" load -q -i "$FIXTURES/busybox.docker.tar" >/dev/null || die "load into a vfs store"
	run "${S[@]}" run --name v$TESTNUM "$IMAGE" sh -c 'echo vfs > /root/f; cat /root/f'
	assert "$status" -eq 0 "run on vfs: $output"
	is "$output" "vfs" "the container writes its own copy"
	run "${S[@]}" run --rm "$IMAGE" sh -c 'cat /root/f 2>&1 || true'
	assert "$output" =~ "No such file" "the image is untouched: $output"
	run "${S[@]}" rm v$TESTNUM
	assert "$status" -eq 0 "rm on vfs: $output"
	run "${S[@]}" system reset -f
}

@test "run: rootless limits without a delegated cgroup: a warning, and the container runs" {
	skip_if_root "root has cgroups here"
	run_skiff run --rm --memory 64m "$IMAGE" echo ran
	assert "$output" =~ "Resource limits are not supported" "the warning: $output"
	assert "$output" =~ "ran" "the container ran: $output"
}

@test "run --userns=keep-id: the user keeps their uid inside" {
	if ! is_rootless; then
		run_skiff 125 run --rm --userns=keep-id "$IMAGE" true
		assert "$output" =~ "only supported rootless" "as root: $output"
		return
	fi
	run_skiff run --rm --userns=keep-id "$IMAGE" sh -c 'id -u; id -g; stat -c %u /bin'
	is "$output" "$(id -u)
$(id -g)
$(id -u)" "our ids, and the image's files are ours"
	run_skiff run --rm --userns=keep-id -u 0 "$IMAGE" id -u
	is "$output" "0" "-u still wins"
}

@test "run: overlay.mount_program=fuse-overlayfs" {
	command -v fuse-overlayfs >/dev/null || skip "fuse-overlayfs is not installed"
	[ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not usable by $(id -un) here (mode $(stat -c %a /dev/fuse))"
	local S=("$SKIFF" --root "$SKIFF_TEST_ROOT/fzroot" --runroot "$SKIFF_TEST_ROOT/fzrun"
		--storage-opt overlay.mount_program="$(command -v fuse-overlayfs)")
	"${S[@]}" load -q -i "$FIXTURES/busybox.docker.tar" >/dev/null || die "load"
	run "${S[@]}" run --rm "$IMAGE" sh -c 'grep " / " /proc/mounts; echo x > /f; cat /f'
	assert "$status" -eq 0 "run on fuse-overlayfs: $output"
	assert "$output" =~ "fuse-overlayfs / fuse" "the rootfs is a fuse-overlayfs mount: $output"
	assert "$output" =~ "x" "writable"
	run "${S[@]}" ps -aq
	is "$output" "" "--rm removed it (and unmounted)"
}

@test "run --userns=auto: a range of its own per container, the rootfs owned by its root" {
	local start avail
	if is_rootless; then
		# podman's rule: the ids of the rootless namespace from 1 on, i.e. the user's
		# subordinate range as seen inside it
		avail=$(awk -F: -v u="$(id -un)" -v n="$(id -u)" '$1 == u || $1 == n { print $3; exit }' /etc/subuid)
		[ -n "$avail" ] || skip "no subordinate ids for $(id -un) in /etc/subuid (tests/system/run-all adds them)"
		start=1
	else
		grep -q '^containers:' /etc/subuid || skip "no \"containers\" range in /etc/subuid (tests/system/run-all adds one)"
		# the container's root is another user: the test's private directories must let it through
		run_skiff 125 run --rm --userns=auto "$IMAGE" true
		assert "$output" =~ "is not searchable by other users" "a blocking directory is named: $output"
		local d=$SKIFF_TEST_ROOT
		while [ "$d" != / ]; do
			chmod o+x "$d"
			d=$(dirname "$d")
		done
		start=$(awk -F: '$1 == "containers" { print $2; exit }' /etc/subuid)
		avail=$(awk -F: '$1 == "containers" { print $3; exit }' /etc/subuid)
	fi
	run_skiff run -d --name a$TESTNUM --userns=auto "$IMAGE" sleep 1000
	run_skiff run -d --name b$TESTNUM --userns=auto:size=2048 "$IMAGE" sleep 1000
	run_skiff exec a$TESTNUM cat /proc/self/uid_map
	local ra=($output)
	run_skiff exec b$TESTNUM cat /proc/self/uid_map
	local rb=($output)
	is "${ra[0]} ${ra[2]}" "0 1024" "container 0.., 1024 ids by default"
	is "${rb[0]} ${rb[2]}" "0 2048" "size=2048"
	assert "${ra[1]}" -ge "$start" "from the range ($start..): ${ra[1]}"
	assert "$((ra[1] + 1024))" -le "$((start + avail))" "inside the range: ${ra[1]}"
	assert "$((ra[1] + 1024 <= rb[1] || rb[1] + 2048 <= ra[1]))" -eq 1 "the two ranges do not overlap: ${ra[1]} ${rb[1]}"
	if is_rootless; then
		is "${ra[1]}" "1" "rootless, the first container starts at 1 (0 is the user), as podman"
	fi
	run_skiff exec a$TESTNUM sh -c 'stat -c "%u:%g" /bin/busybox /etc/passwd; id -u; id -g; touch /root/new && stat -c %u /root/new'
	is "$output" $'0:0\n0:0\n0\n0\n0' "the image's files are its root's, and so is what it writes"
	run_skiff exec a$TESTNUM cat /proc/self/gid_map
	is "$(echo $output)" "0 ${ra[1]} 1024" "the same for groups"
	# what the container writes lands in its layer with the ids it sees (unshifted, as the
	# image's layers): its root's file as 0, a file it gives to 7:8 as 7:8
	run_skiff exec a$TESTNUM sh -c 'echo hi > /root/mine; chown 7:8 /root/mine; stat -c %u:%g /root/mine'
	is "$output" "7:8" "inside"
	run_skiff inspect --format '{{.GraphDriver.Data.UpperDir}}' a$TESTNUM
	local upper=$output
	if is_rootless; then
		run_skiff unshare stat -c %u:%g "$upper/root/new" "$upper/root/mine"
		is "$output" $'0:0\n7:8' "on disk, as the rootless namespace sees it"
		run stat -c %u "$upper/root/new"
		is "$output" "$(id -u)" "which is the user on the host"
	else
		run stat -c %u:%g "$upper/root/new" "$upper/root/mine"
		is "$output" $'0:0\n7:8' "on disk"
	fi
	# a third container goes past both
	run_skiff run --rm --userns=auto:size=10 "$IMAGE" cat /proc/self/uid_map
	local rc=($output)
	assert "$((rc[1] + 10 <= ra[1] || ra[1] + 1024 <= rc[1]))" -eq 1 "not in a's range: ${rc[1]}"
	assert "$((rc[1] + 10 <= rb[1] || rb[1] + 2048 <= rc[1]))" -eq 1 "not in b's range: ${rc[1]}"
	is "${rc[2]}" "10" "size=10"
	if is_rootless; then
		# more than the user's subordinate range: a clear refusal
		run_skiff 125 run --rm --userns=auto:size=$((avail + 1)) "$IMAGE" true
		assert "$output" =~ "more than the $avail subordinate ids of user $(id -un)" "too big: $output"
		# what is left after a and b is too small for all of it
		run_skiff 125 run --rm --userns=auto:size=$((avail - 1024)) "$IMAGE" true
		assert "$output" =~ "no free range of $((avail - 1024)) ids is left" "no room left: $output"
	fi
	run_skiff 125 run --rm --userns=auto:size=0 "$IMAGE" true
	assert "$output" =~ "invalid size" "a bad size: $output"
	run_skiff 125 run --rm --userns=auto:uidmapping=0:1:1 "$IMAGE" true
	assert "$output" =~ "only size=N" "unsupported options are named: $output"
}
