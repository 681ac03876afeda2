#!/usr/bin/env bats
# load, save, import: formats, round trips, unpacked content and owners

load helpers

# Run a command where the store's files show their image owners.
function in_ns() {
	if is_rootless; then
		run_skiff unshare "$@"
	else
		run "$@"
		assert "$status" -eq 0 "$* failed: $output"
	fi
}

# The image's layer diff directories, bottom first (LowerDir lists the top first).
function layer_dirs() {
	local lower=${1%%|*} upper=${1##*|}
	[ -n "$lower" ] && tr ':' '\n' <<<"$lower" | tac
	echo "$upper"
}

@test "load docker-archive and oci-archive give the same image" {
	require_fixture busybox.docker.tar
	require_fixture busybox.oci.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff inspect --format '{{.Id}} {{index .RootFS.Layers 0}}' $IMAGE
	local docker=$output
	run_skiff rmi $IMAGE
	run_skiff load -i "$FIXTURES/busybox.oci.tar"
	run_skiff images -q --no-trunc
	is "sha256:${docker%% *}" "$output" "oci-archive gives the same image id"
}

@test "load from stdin, gzip and zstd" {
	require_fixture busybox.docker.tar
	run_skiff load < "$FIXTURES/busybox.docker.tar"
	is "$output" "Loaded image: $IMAGE" "stdin"
	run_skiff rmi $IMAGE
	gzip -c "$FIXTURES/busybox.docker.tar" > "$BATS_TEST_TMPDIR/b.tar.gz"
	run_skiff load -i "$BATS_TEST_TMPDIR/b.tar.gz"
	is "$output" "Loaded image: $IMAGE" "gzip"
	run_skiff rmi $IMAGE
	zstd -q -c "$FIXTURES/busybox.docker.tar" > "$BATS_TEST_TMPDIR/b.tar.zst"
	run_skiff load < "$BATS_TEST_TMPDIR/b.tar.zst"
	is "$output" "Loaded image: $IMAGE" "zstd from a pipe"
}

@test "load of an archive with two images" {
	require_fixture two-images.docker.tar
	run_skiff load -i "$FIXTURES/two-images.docker.tar"
	assert "$output" =~ "Loaded image: $IMAGE" "first image"
	assert "$output" =~ "Loaded image: $MULTI_IMAGE" "second image"
	run_skiff images -q
	assert "${#lines[@]}" -eq 2 "two images"
}

@test "unpacked busybox layer matches its tar file by file, owners included" {
	require_fixture busybox.docker.tar
	run_skiff load -i "$FIXTURES/busybox.docker.tar"
	run_skiff image inspect --format '{{.GraphDriver.Data.UpperDir}}' $IMAGE
	local diff=$output
	local ref=$SKIFF_TEST_ROOT/ref-busybox
	mkdir -p "$ref/x"
	tar -xOf "$FIXTURES/busybox.docker.tar" $(tar -tf "$FIXTURES/busybox.docker.tar" | grep 'layer.tar$\|^[0-9a-f]*\.tar$' | head -1) > "$ref/layer.tar"
	in_ns tar --same-owner -xpf "$ref/layer.tar" -C "$ref/x"
	in_ns "$SKIFF_REPO/tests/fixtures/list-tree" "$ref/x"
	local want=$output
	in_ns "$SKIFF_REPO/tests/fixtures/list-tree" "$diff"
	is "$output" "$want" "layer content, modes and owners"
	assert "$output" =~ "/home/tester dir 0755 1000:1000" "a file owned by uid 1000"
}

@test "multi-layer image: whiteouts, opaque dirs, links, owners" {
	require_fixture multilayer.docker.tar
	require_fixture multilayer.expected
	run_skiff load -i "$FIXTURES/multilayer.docker.tar"
	local merged=$SKIFF_TEST_ROOT/merged-multi
	run_skiff image inspect --format '{{.GraphDriver.Data.LowerDir}}|{{.GraphDriver.Data.UpperDir}}' $MULTI_IMAGE
	local dirs=$(layer_dirs "$output")
	assert "$(wc -l <<<"$dirs")" -eq 4 "four layers"
	in_ns "$SKIFF_REPO/tests/system/merge-diffs" "$merged" $dirs
	in_ns "$SKIFF_REPO/tests/fixtures/list-tree" "$merged"
	diff -u "$FIXTURES/multilayer.expected" <(echo "$output")
}

@test "save -> load round trips keep every digest" {
	require_fixture multilayer.docker.tar
	run_skiff load -i "$FIXTURES/multilayer.docker.tar"
	run_skiff inspect --format '{{.Id}} {{.RootFS.Layers}}' $MULTI_IMAGE
	local before=$output
	for fmt in docker-archive oci-archive oci-dir; do
		local out=$SKIFF_TEST_ROOT/save-$fmt
		run_skiff save --format $fmt -o "$out" $MULTI_IMAGE
		if [ $fmt = docker-archive ]; then
			# the layer tars are byte-identical to the ones loaded
			run bash -c "tar -xOf '$out' manifest.json | jq -r '.[0].Layers[]'"
			for l in $output; do
				local d=$(tar -xOf "$out" "$l" | sha256sum | cut -d' ' -f1)
				is "$l" "$d.tar" "layer file named by its digest"
			done
		fi
		run_skiff rmi $MULTI_IMAGE
		if [ $fmt = oci-dir ]; then
			(cd "$out" && tar -cf "$out.tar" .)
			out=$out.tar
		fi
		run_skiff load -i "$out"
		run_skiff inspect --format '{{.Id}} {{.RootFS.Layers}}' $MULTI_IMAGE
		is "$output" "$before" "$fmt round trip keeps id and diff ids"
	done
	run_skiff system check
}

@test "save to stdout and several images with -m" {
	require_fixture two-images.docker.tar
	run_skiff load -i "$FIXTURES/two-images.docker.tar"
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" save $IMAGE > "$SKIFF_TEST_ROOT/s.tar"
	run bash -c "tar -xOf '$SKIFF_TEST_ROOT/s.tar' manifest.json | jq -r '.[0].RepoTags[0]'"
	is "$output" "$IMAGE" "RepoTags in manifest.json"
	run_skiff save -m -o "$SKIFF_TEST_ROOT/m.tar" $IMAGE $MULTI_IMAGE
	run bash -c "tar -xOf '$SKIFF_TEST_ROOT/m.tar' manifest.json | jq length"
	is "$output" "2" "two images in one archive"
	run_skiff 125 save --format bogus -o /dev/null $IMAGE
	assert "$output" =~ "unsupported format" "bad format"
	run_skiff 125 save -o "$SKIFF_TEST_ROOT/x.tar" nosuchimage
	assert "$output" =~ "nosuchimage: image not known" "unknown image"
	[ ! -e "$SKIFF_TEST_ROOT/x.tar" ] || die "save of an unknown image left a file behind"
}

@test "podman loads what skiff saves" {
	command -v podman >/dev/null || skip "podman is not installed"
	is_rootless && skip "podman check runs as root only"
	require_fixture busybox.docker.tar
	run_skiff load -i "$FIXTURES/busybox.docker.tar"
	run_skiff inspect --format '{{.Id}}' $IMAGE
	local id=$output
	run_skiff save -o "$SKIFF_TEST_ROOT/p.tar" $IMAGE
	# podman refuses a runroot longer than 50 characters
	local proot=$(mktemp -d /tmp/pd.XXXXXX)
	run podman --root "$proot/root" --runroot "$proot/run" --storage-driver vfs load -i "$SKIFF_TEST_ROOT/p.tar"
	assert "$status" -eq 0 "podman load: $output"
	run podman --root "$proot/root" --runroot "$proot/run" --storage-driver vfs images -q --no-trunc
	is "$output" "sha256:$id" "podman sees the same image id"
	podman --root "$proot/root" --runroot "$proot/run" --storage-driver vfs rmi -a -f >/dev/null 2>&1 || true
	rm -rf "$proot"
}

@test "import a rootfs tarball with changes" {
	require_fixture busybox-rootfs.tar
	run_skiff import --change 'CMD ["/bin/echo","hi"]' --change 'ENV FOO=bar' --change 'LABEL a=b' \
		--change 'WORKDIR /tmp' --change 'EXPOSE 8080' -m "t020 message" "$FIXTURES/busybox-rootfs.tar" localhost/t020/imported
	is "$output" "sha256:[0-9a-f]{64}" "import prints the id"
	run_skiff inspect --format '{{json .Config.Cmd}} {{.Config.WorkingDir}} {{index .Config.Labels "a"}} {{.Comment}}' localhost/t020/imported
	is "$output" '\["/bin/echo","hi"\] /tmp b t020 message' "changes applied"
	run_skiff inspect --format '{{range .Config.Env}}{{.}} {{end}}' localhost/t020/imported
	assert "$output" =~ "FOO=bar" "env"
	run_skiff import - < "$FIXTURES/busybox-rootfs.tar"
	is "$output" "sha256:[0-9a-f]{64}" "import from stdin"
	run_skiff 125 import --change 'BOGUS x' "$FIXTURES/busybox-rootfs.tar"
	assert "$output" =~ "invalid change" "bad change"
	run_skiff 125 import /nonexistent.tar
	assert "$output" =~ "/nonexistent.tar" "missing file named"
}
