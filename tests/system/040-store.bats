#!/usr/bin/env bats
# The store: info, system df/check/reset, crash recovery, concurrency, rootless namespace.

load helpers

@test "info and system df" {
	run_skiff info --format json
	run jq -r '.store.graphRoot, .store.graphDriverName, .store.imageStore.number' <<<"$output"
	is "$output" "$SKIFF_TEST_ROOT/root
overlay
0" "info json"
	run_skiff info --format '{{.Host.Security.Rootless}} {{.Store.GraphRoot}} {{.Store.ImageStore.Number}}'
	if is_rootless; then is "$output" "true $SKIFF_TEST_ROOT/root 0" "info template"; else is "$output" "false $SKIFF_TEST_ROOT/root 0" "info template"; fi
	run_skiff info
	assert "$output" =~ "graphRoot: $SKIFF_TEST_ROOT/root" "info text"
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff system df
	is "${lines[1]}" "Images +1 +0 +[0-9.]+[kM]?B +[0-9.]+[kM]?B \(100%\)" "df row"
}

@test "system reset empties the store" {
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff system reset -f
	run_skiff images -q
	is "$output" "" "empty after reset"
}

@test "a load killed at each step leaves nothing visible and the next command cleans up" {
	require_fixture multilayer.docker.tar
	local root=$SKIFF_TEST_ROOT/root
	for point in layer-unpacked layer-renamed layers-loaded; do
		_SKIFF_TEST_CRASH_AT=$point run_skiff 137 load -i "$FIXTURES/multilayer.docker.tar"
		run_skiff images -q
		is "$output" "" "no image after a load killed at $point"
		run_skiff system check
		is "$output" "" "check clean after a load killed at $point"
		run ls -A "$root/tmp"
		is "$output" "" "staging emptied after $point"
		run ls -A "$root/layers"
		is "$output" "" "no layer left after $point"
	done
	run_skiff load -q -i "$FIXTURES/multilayer.docker.tar"
	run_skiff image exists $MULTI_IMAGE
}

@test "an rmi killed at each step leaves a consistent store" {
	require_fixture multilayer.docker.tar
	local root=$SKIFF_TEST_ROOT/root
	for point in image-deleted layers-marked; do
		run_skiff load -q -i "$FIXTURES/multilayer.docker.tar"
		_SKIFF_TEST_CRASH_AT=$point run_skiff 137 rmi $MULTI_IMAGE
		run_skiff 1 image exists $MULTI_IMAGE
		run_skiff system check
		is "$output" "" "check clean after an rmi killed at $point"
		# a later delete collects the layers the killed one left behind
		run_skiff load -q -i "$FIXTURES/multilayer.docker.tar"
		run_skiff rmi $MULTI_IMAGE
		run ls -A "$root/layers"
		is "$output" "" "no layer left after $point"
	done
}

@test "parallel load/tag/rmi loops end with a consistent store" {
	require_fixture busybox.docker.tar
	require_fixture multilayer.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	local pids=()
	for i in 1 2 3 4 5 6 7 8; do
		(
			for j in 1 2 3; do
				if [ $((i % 2)) = 0 ]; then
					"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" load -q -i "$FIXTURES/multilayer.docker.tar" >/dev/null || exit 1
					"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" rmi -i localhost/skiff-test/multi:latest >/dev/null 2>&1
				else
					"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" tag $IMAGE localhost/t040/p$i:$j || exit 1
					"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" untag $IMAGE localhost/t040/p$i:$j || exit 1
				fi
			done
		) &
		pids+=($!)
	done
	local failed=0
	for p in "${pids[@]}"; do wait $p || failed=$((failed + 1)); done
	assert "$failed" -eq 0 "every loop succeeded"
	run_skiff system check
	is "$output" "" "check is clean"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	is "$output" "$IMAGE" "only the base image's own name is left"
}

@test "system check finds and repairs a broken layer" {
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff image inspect --format '{{.GraphDriver.Data.UpperDir}}' $IMAGE
	local layer=$(dirname "$output")
	if is_rootless; then
		run_skiff unshare rm -rf "$layer"
	else
		rm -rf "$layer"
	fi
	run_skiff 1 system check
	assert "$output" =~ "content missing" "problem reported"
	run_skiff system check --repair
	run_skiff system check
	run_skiff 1 image exists $IMAGE
}

@test "rootless: one pause process holds the namespace, unshare maps ids" {
	skip_if_root "rootless only"
	run_skiff unshare id -u
	is "$output" "0" "root inside the namespace"
	run_skiff unshare cat /proc/self/uid_map
	assert "${#lines[@]}" -ge 1 "a uid map"
	local first=$(pgrep -u "$(id -u)" -x skiff-pause | wc -l)
	run_skiff unshare true
	local second=$(pgrep -u "$(id -u)" -x skiff-pause | wc -l)
	is "$second" "$first" "no second pause process"
}

@test "root: unshare is refused" {
	skip_if_rootless "root only"
	run_skiff 125 unshare true
	assert "$output" =~ "rootless" "unshare needs rootless"
}

@test "rootless: skiff inside skiff unshare uses the same store" {
	skip_if_root "rootless only"
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff unshare "$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" images --format '{{.Repository}}'
	is "$output" "localhost/skiff-test/busybox" "nested skiff sees the image"
	run_skiff unshare "$SKIFF" info --format '{{.Host.Security.Rootless}}'
	is "$output" "true" "nested skiff knows it is rootless"
}
