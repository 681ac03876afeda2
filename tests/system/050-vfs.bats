#!/usr/bin/env bats
# --storage-driver vfs: every layer holds the whole tree.

load helpers

function in_ns() {
	if is_rootless; then
		run_skiff --storage-driver vfs unshare "$@"
	else
		run "$@"
		assert "$status" -eq 0 "$* failed: $output"
	fi
}

@test "vfs: load gives the merged tree in the top layer, save round trips" {
	require_fixture multilayer.docker.tar
	require_fixture multilayer.expected
	run_skiff --storage-driver vfs load -i "$FIXTURES/multilayer.docker.tar"
	run_skiff --storage-driver vfs image inspect --format '{{.GraphDriver.Name}} {{.GraphDriver.Data.UpperDir}}' $MULTI_IMAGE
	local top=${output#vfs }
	is "$output" "vfs .*" "driver name"
	in_ns "$SKIFF_REPO/tests/fixtures/list-tree" "$top"
	diff -u "$FIXTURES/multilayer.expected" <(echo "$output")

	run_skiff --storage-driver vfs inspect --format '{{.Id}} {{.RootFS.Layers}}' $MULTI_IMAGE
	local before=$output
	run_skiff --storage-driver vfs save -o "$SKIFF_TEST_ROOT/vfs.tar" $MULTI_IMAGE
	run_skiff --storage-driver vfs rmi $MULTI_IMAGE
	run_skiff --storage-driver vfs load -i "$SKIFF_TEST_ROOT/vfs.tar"
	run_skiff --storage-driver vfs inspect --format '{{.Id}} {{.RootFS.Layers}}' $MULTI_IMAGE
	is "$output" "$before" "round trip keeps the digests"
	run_skiff --storage-driver vfs system check
}

@test "a store keeps its driver" {
	require_fixture busybox.docker.tar
	run_skiff --storage-driver vfs load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff 125 --storage-driver overlay images
	assert "$output" =~ "does not match" "driver mismatch is refused"
	run_skiff 125 --storage-driver btrfs images
	assert "$output" =~ "btrfs" "unknown driver named"
}
