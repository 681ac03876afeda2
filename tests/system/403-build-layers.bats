#!/usr/bin/env bats
# skiff build: a RUN step's writable layer becomes the image layer directly (overlay: the
# upper dir is moved into the store, its tar only hashed and recorded). The layers must be
# what the tar path gives: files, deletions of base files (whiteouts), replaced
# directories (opaque), hard links and symlinks survive save -> load into a fresh store,
# save reproduces the same bytes, and the build container is gone. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	CTX=$SKIFF_TEST_ROOT/ctx
	mkdir -p "$CTX"
}

# skiff on a second store
function skiff2() {
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root2" --runroot "$SKIFF_TEST_ROOT/runroot2" "$@"
}

# the tree a test looks at (not the files the engine mounts over /etc)
LIST='cd / && find /data /keep /etc/passwd /etc/group /opt /lnk /hl 2>/dev/null | sort | while read -r f; do
	if [ -L "$f" ]; then c=$(readlink "$f"); elif [ -f "$f" ]; then c=$(cat "$f"); else c=; fi
	printf "%s %s %s\n" "$f" "$(stat -c "%A %u:%g" "$f")" "$c"
done'

@test "build layers: whiteouts, opaque dirs, links survive save -> load into a fresh store" {
	cat >"$CTX/Containerfile" <<EOF
FROM $IMAGE
RUN mkdir -p /data/sub /opt/o && echo a >/data/a && echo b >/data/sub/b && echo k >/keep && \
    echo o >/opt/o/f && chown 12:34 /data/a && chmod 640 /data/a
RUN rm -rf /data && mkdir /data && echo new >/data/n && rm /keep /etc/group && \
    ln /data/n /hl && ln -s data/n /lnk && rm -rf /opt/o && mkdir /opt/o && echo p >/opt/o/g
EOF
	run_skiff build -q --no-cache -t lay$TESTNUM "$CTX"
	id=$output
	run_skiff ps -a -q
	is "$output" "" "the RUN containers are removed"

	run_skiff run --rm lay$TESTNUM sh -c "$LIST"
	want=$output
	assert "$want" =~ "/data/n -rw-r--r-- 0:0 new" "the new file is there"
	assert "$want" !~ "/data/a" "the replaced directory's old file is gone (opaque)"
	assert "$want" !~ "/data/sub" "the replaced directory's old subdirectory is gone"
	assert "$want" !~ "/keep" "a file of a lower build layer is deleted (whiteout)"
	assert "$want" !~ "/etc/group" "a file of the base image is deleted (whiteout)"
	assert "$want" =~ "/etc/passwd" "its neighbours stay"
	assert "$want" =~ "/hl -rw-r--r-- 0:0 new" "the hard link is there"
	assert "$want" =~ "/lnk lrwxrwxrwx 0:0 data/n" "the symlink is there"
	assert "$want" =~ "/opt/o/g -rw-r--r-- 0:0 p" "the replaced /opt/o has its new file"
	assert "$want" !~ "/opt/o/f" "and not its old one"

	# save twice: the same bytes (the layers come back from the tar-splits)
	run_skiff save -o "$SKIFF_TEST_ROOT/a.tar" lay$TESTNUM
	run_skiff save -o "$SKIFF_TEST_ROOT/b.tar" lay$TESTNUM
	cmp "$SKIFF_TEST_ROOT/a.tar" "$SKIFF_TEST_ROOT/b.tar" || die "two saves of one image differ"

	# every layer blob is what its digest says, and the diff ids are the config's
	mkdir "$SKIFF_TEST_ROOT/x"
	tar -C "$SKIFF_TEST_ROOT/x" -xf "$SKIFF_TEST_ROOT/a.tar"
	run_skiff image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' lay$TESTNUM
	layers=$output
	is "$(printf '%s\n' "$layers" | grep -c sha256:)" 3 "base + two RUN layers"
	for l in $layers; do
		f="$SKIFF_TEST_ROOT/x/${l#sha256:}.tar"
		[ -f "$f" ] || die "layer $l is not in the archive"
		is "sha256:$(sha256sum "$f" | cut -d' ' -f1)" "$l" "layer blob matches its diff id"
	done
	# the last layer holds the whiteouts in the OCI form
	last=$(printf '%s\n' "$layers" | tail -1)
	run tar -tf "$SKIFF_TEST_ROOT/x/${last#sha256:}.tar"
	assert "$output" =~ "data/.wh..wh..opq" "the replaced /data is an opaque directory"
	assert "$output" =~ "etc/.wh.group" "the deleted base file is a whiteout"
	assert "$output" =~ ".wh.keep" "the deleted file of the layer below is a whiteout"

	# a fresh store: load, same layers, same tree
	run skiff2 load -q -i "$SKIFF_TEST_ROOT/a.tar"
	[ "$status" -eq 0 ] || die "load into a fresh store: $output"
	run skiff2 image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' lay$TESTNUM
	is "$output" "$layers" "the fresh store has the same layers"
	run skiff2 run --rm --network none lay$TESTNUM sh -c "$LIST"
	[ "$status" -eq 0 ] || die "run in the fresh store: $output"
	is "$output" "$want" "the fresh store shows the same tree"
	run skiff2 save -o "$SKIFF_TEST_ROOT/c.tar" lay$TESTNUM
	[ "$status" -eq 0 ] || die "save from the fresh store: $output"
	for l in $layers; do
		tar -C "$SKIFF_TEST_ROOT" -xf "$SKIFF_TEST_ROOT/c.tar" "${l#sha256:}.tar"
		cmp "$SKIFF_TEST_ROOT/${l#sha256:}.tar" "$SKIFF_TEST_ROOT/x/${l#sha256:}.tar" ||
			die "layer $l differs after a load"
	done
	run skiff2 rmi -af
}

@test "build layers: a RUN that changes nothing, then a cache hit, then --no-cache" {
	cat >"$CTX/Containerfile" <<EOF
FROM $IMAGE
RUN true
RUN echo x >/x
EOF
	run_skiff build -q -t nop$TESTNUM "$CTX"
	first=$output
	run_skiff build -q -t nop$TESTNUM "$CTX"
	is "$output" "$first" "the second build is all cache hits"
	run_skiff build -q --no-cache -t nop2$TESTNUM "$CTX"
	run_skiff run --rm nop2$TESTNUM cat /x
	is "$output" "x" "a no-cache build gives the same tree"
	run_skiff ps -a -q
	is "$output" "" "no build container is left"
	# nothing stays in the store's staging area
	is "$(ls -A "$SKIFF_TEST_ROOT/root/tmp")" "" "staging is empty"
}
