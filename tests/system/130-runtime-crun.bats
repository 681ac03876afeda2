#!/usr/bin/env bats
# Differential: the same bundle under skiff-runtime and crun shows the same ids,
# capabilities, mounts, limits and exit statuses from inside.
#
# crun refuses a hybrid cgroup host ("cgroups in hybrid mode not supported"); where the
# host is hybrid, crun runs in a private mount namespace with the v2 mount hidden, which
# needs root. The rootless pass skips these with that reason.

load helpers

RUNTIME=${SKIFF_RUNTIME_BIN:-$(dirname "$SKIFF")/skiff-runtime}
TEST_INIT=$HELPER_DIR/skiff-test-init

function setup() {
	skiff_setup
	command -v crun >/dev/null || skip "crun is not installed"
	[ -x "$TEST_INIT" ] || die "$TEST_INIT is missing"
	hybrid=
	if grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/self/mountinfo 2>/dev/null ||
		awk '$5 == "/sys/fs/cgroup/unified" && $0 ~ / - cgroup2 /' /proc/self/mountinfo | grep -q .; then
		hybrid=1
		skip_if_rootless "crun refuses this host's hybrid cgroups; hiding the v2 mount needs root"
	fi
	bundle=$SKIFF_TEST_ROOT/bundle
	mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/tmp"
	cp "$TEST_INIT" "$bundle/rootfs/init"
	local n
	for n in true exit echo caps id status mounts hostname rlimit ls pid signal-self init; do
		ln -s ../init "$bundle/rootfs/bin/$n"
	done
	"$RUNTIME" spec -b "$bundle" >/dev/null
	base=$(jq '.process.terminal = false | .process.env = ["PATH=/bin"] | .hostname = "diff130"' "$bundle/config.json")
}

# both ARGS...: run ARGS in the bundle under each runtime; sets $crun_out, $skiff_out and
# the statuses.
function both() {
	local a="" x
	for x in "$@"; do
		a="$a${a:+,}\"$x\""
	done
	jq ".process.args = [$a]" <<<"$base" >"$bundle/config.json"
	crun_st=0 skiff_st=0
	if [ -n "$hybrid" ]; then
		crun_out=$(cd "$bundle" && timeout 30 unshare -m --propagation private \
			sh -c 'umount /sys/fs/cgroup/unified && exec crun --root "$1" run "$2"' sh "$SKIFF_TEST_ROOT/crun" "c130-$$" 2>&1) || crun_st=$?
	else
		crun_out=$(cd "$bundle" && timeout 30 crun --root "$SKIFF_TEST_ROOT/crun" run "c130-$$" 2>&1) || crun_st=$?
	fi
	skiff_out=$(cd "$bundle" && timeout 30 "$RUNTIME" --root "$SKIFF_TEST_ROOT/skiff" run "s130-$$" 2>&1) || skiff_st=$?
}

@test "same identity, capabilities and status lines as crun" {
	local probe
	for probe in "id" "caps" "hostname" "pid" "status NoNewPrivs" "status Seccomp" "rlimit nofile" "ls /dev"; do
		# shellcheck disable=SC2086
		both $probe
		is "$skiff_st" "$crun_st" "status of $probe"
		is "$skiff_out" "$crun_out" "output of $probe"
	done
}

@test "same mount points as crun" {
	both mounts
	is "$skiff_st" "0" "mounts runs"
	# crun does not see the hidden cgroup2 mount; order of the cgroup hierarchies differs
	local a b
	a=$(grep -v '^/sys/fs/cgroup/unified$' <<<"$crun_out" | sort)
	b=$(grep -v '^/sys/fs/cgroup/unified$' <<<"$skiff_out" | sort)
	is "$b" "$a" "mount points"
}

@test "same exit statuses as crun" {
	both exit 7
	is "$skiff_st" "$crun_st" "exit 7"
	is "$skiff_st" "7" "exit 7 is 7"
	both init signal-self TERM
	is "$skiff_st" "$crun_st" "killed by TERM"
	both nosuch130
	is "$skiff_st" "$crun_st" "missing executable"
}

# podman drives skiff-runtime as it drives crun (podman itself may refuse this host's
# hybrid cgroups with crun, but not with skiff-runtime).
function podman_rt() {
	# podman refuses a runroot longer than 50 characters
	[ -n "${PODMAN_RUNROOT:-}" ] || PODMAN_RUNROOT=$(mktemp -d /tmp/pr130.XXXXXX)
	timeout 120 podman --root "$SKIFF_TEST_ROOT/podman" --runroot "$PODMAN_RUNROOT" \
		--runtime "$(realpath "$RUNTIME")" "$@"
}

function teardown() {
	if [ -n "${PODMAN_RUNROOT:-}" ]; then
		podman_rt rm -af -t 0 >/dev/null 2>&1 || true
		rm -rf "$PODMAN_RUNROOT"
	fi
	skiff_teardown
}

@test "podman --runtime skiff-runtime: run, exit status, detach, stop, rm" {
	command -v podman >/dev/null || skip "podman is not installed"
	is_rootless && skip "rootless podman needs its own user namespace set-up; the root pass covers podman"
	require_fixture
	podman_rt load -q -i "$FIXTURES/busybox.docker.tar" >/dev/null || die "podman load"
	run podman_rt run --rm "$IMAGE" sh -c 'echo via podman; grep -E "^(CapEff|Seccomp):" /proc/self/status'
	assert "$status" -eq 0 "podman run: $output"
	assert "$output" =~ "via podman" "output"
	assert "$output" =~ "CapEff:	00000000800405fb" "capabilities"
	assert "$output" =~ "Seccomp:	2" "podman's seccomp profile loaded"
	run podman_rt run --rm "$IMAGE" sh -c 'exit 5'
	assert "$status" -eq 5 "exit status through podman"
	run podman_rt run -d --name p130 "$IMAGE" sleep 1000
	assert "$status" -eq 0 "podman run -d: $output"
	run podman_rt ps --format '{{.Names}} {{.State}}'
	assert "$output" =~ "^p130 (running|Up )" "podman ps: $output"
	run podman_rt stop -t 1 p130
	assert "$status" -eq 0 "podman stop: $output"
	run podman_rt rm p130
	assert "$status" -eq 0 "podman rm: $output"
}
