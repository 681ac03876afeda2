#!/usr/bin/env bats
# skiff cp and the volumes and bind mounts of a container: a path under a mount's
# destination is copied to or from that mount's source (the deepest mount wins), symlinks
# are resolved as the container sees them (a symlink in a volume to /etc reaches the
# container's /etc, one in the rootfs reaches into a volume, ".." never leaves the root),
# and a read-only mount refuses a copy into it. Running and stopped, root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	H=$BATS_TEST_TMPDIR/h
	B=$BATS_TEST_TMPDIR/bind
	R=$BATS_TEST_TMPDIR/robind
	mkdir -p "$H/dir/sub" "$B" "$R"
	echo "file content" >"$H/file"
	echo a >"$H/dir/a"
	echo b >"$H/dir/sub/b"
	echo kept >"$R/kept"
	ln -s /etc "$H/etclink"
	ln -s ../../../../../../.. "$H/uplink"
	ln -s /data "$H/todata"
}

# skiff_raw ARGS...: skiff on this test's store with stdio left alone (binary tar)
function skiff_raw() {
	timeout "$SKIFF_TIMEOUT" "$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "$@"
}

function volume_dir() {
	run_skiff volume inspect --format '{{.Mountpoint}}' "$1"
	VDIR=$output
}

@test "cp: volumes and bind mounts of a stopped container" {
	local c=c$TESTNUM v=v$TESTNUM w=w$TESTNUM
	run_skiff create --name $c -v $v:/data -v $w:/data/inner -v "$B":/bind -v "$R":/ro:ro "$IMAGE" \
		sh -c 'cat /data/f /data/inner/g /bind/h /data/dir/sub/b /data/tarred/a; ls /ro'
	volume_dir $v
	local vd=$VDIR
	volume_dir $w
	local wd=$VDIR

	# into: each path goes to the source of the deepest mount at it
	run_skiff cp "$H/file" $c:/data/f
	run_skiff cp "$H/file" $c:/data/inner/g
	run_skiff cp "$H/file" $c:/bind/h
	run_skiff cp "$H/dir" $c:/data/
	is "$(cat "$vd/f")" "file content" "in the volume's _data"
	is "$(cat "$wd/g")" "file content" "in the nested volume, not below the outer one"
	[ ! -e "$vd/inner/g" ] || die "the nested volume's file went to the outer volume"
	is "$(cat "$B/h")" "file content" "in the bind mount's source"
	is "$(cat "$vd/dir/sub/b")" "b" "a directory into a volume"

	# a tar stream into a volume, and one out of it
	tar -C "$H/dir" -cf "$BATS_TEST_TMPDIR/in.tar" .
	mkdir -p "$vd/tarred"
	skiff_raw cp - $c:/data/tarred <"$BATS_TEST_TMPDIR/in.tar" || die "cp - into a volume failed"
	is "$(cat "$vd/tarred/a")" "a" "tar extracted into the volume"
	skiff_raw cp $c:/data/inner - >"$BATS_TEST_TMPDIR/out.tar" || die "cp CTR:VOL - failed"
	run tar -tf "$BATS_TEST_TMPDIR/out.tar"
	assert "$output" =~ "inner/g" "the nested volume as a tar: $output"

	# out of a volume and a bind mount; the mount point itself names the mount's root
	run_skiff cp $c:/data/f "$BATS_TEST_TMPDIR/back"
	is "$(cat "$BATS_TEST_TMPDIR/back")" "file content"
	run_skiff cp $c:/bind "$BATS_TEST_TMPDIR/bindcopy"
	is "$(cat "$BATS_TEST_TMPDIR/bindcopy/h")" "file content" "the bind mount's tree, under its name"
	run_skiff cp $c:/data/inner/. "$BATS_TEST_TMPDIR/innercopy"
	is "$(cat "$BATS_TEST_TMPDIR/innercopy/g")" "file content" "DIR/. of a mount: its contents"

	# a read-only mount refuses, and keeps what it had
	run_skiff 125 cp "$H/file" $c:/ro/x
	assert "$output" =~ 'cannot copy to "/ro/x" on container '$c': it is on a read-only mount \(bind mount .*robind at /ro\)' \
		"read-only: $output"
	run_skiff 125 cp "$H/file" $c:/ro
	assert "$output" =~ "read-only mount" "the read-only mount point itself: $output"
	run_skiff 125 cp - $c:/ro <"$BATS_TEST_TMPDIR/in.tar"
	assert "$output" =~ "read-only mount" "a tar into a read-only mount: $output"
	[ ! -e "$R/x" ] && [ ! -e "$R/file" ] && [ ! -e "$R/a" ] || die "a read-only mount was written"
	run_skiff cp $c:/ro/kept "$BATS_TEST_TMPDIR/kept"
	is "$(cat "$BATS_TEST_TMPDIR/kept")" "kept" "reading a read-only mount is fine"

	run_skiff start -a $c
	is "$output" "file content
file content
file content
b
a
kept" "the container sees every copy at its place"
}

@test "cp: symlinks across volumes resolve in the container's view, never on the host" {
	local c=s$TESTNUM v=v$TESTNUM
	run_skiff create --name $c -v $v:/data "$IMAGE" true
	volume_dir $v
	local vd=$VDIR
	local name=cpv$TESTNUM-$(random_string 6)
	echo pwned >"$BATS_TEST_TMPDIR/$name"
	# symlinks placed in the volume (copied as the symlinks they are) and in the rootfs
	run_skiff cp "$H/etclink" $c:/data/etc
	run_skiff cp "$H/uplink" $c:/data/up
	run_skiff cp "$H/todata" $c:/todata
	is "$(readlink "$vd/etc")" "/etc" "a symlink stays a symlink in the volume"

	run_skiff cp $c:/etc/passwd "$BATS_TEST_TMPDIR/passwd.ctr"
	run_skiff cp $c:/data/etc/passwd "$BATS_TEST_TMPDIR/passwd.vol"
	cmp "$BATS_TEST_TMPDIR/passwd.ctr" "$BATS_TEST_TMPDIR/passwd.vol" ||
		die "/data/etc -> /etc read something other than the container's /etc/passwd"
	run_skiff cp $c:/data/up/etc/passwd "$BATS_TEST_TMPDIR/passwd.up"
	cmp "$BATS_TEST_TMPDIR/passwd.ctr" "$BATS_TEST_TMPDIR/passwd.up" || die "'..' in a volume left the container's root"

	run_skiff cp "$BATS_TEST_TMPDIR/$name" $c:/data/etc/$name.1
	run_skiff cp "$BATS_TEST_TMPDIR/$name" $c:/data/up/etc/$name.2
	run_skiff cp "$BATS_TEST_TMPDIR/$name" $c:/data/up/data/$name.3
	run_skiff cp "$BATS_TEST_TMPDIR/$name" $c:/todata/$name.4
	for f in /etc/$name.1 /etc/$name.2 "$(dirname "$vd")/$name.2"; do
		[ ! -e "$f" ] || die "cp wrote $f on the host"
	done
	run_skiff cp $c:/etc/$name.1 "$BATS_TEST_TMPDIR/b1"
	run_skiff cp $c:/etc/$name.2 "$BATS_TEST_TMPDIR/b2"
	is "$(cat "$BATS_TEST_TMPDIR/b1" "$BATS_TEST_TMPDIR/b2")" "pwned
pwned" "both landed in the container's /etc"
	is "$(cat "$vd/$name.3" "$vd/$name.4")" "pwned
pwned" "back into the volume through '..' and through a rootfs symlink"
	run_skiff 125 cp $c:/data/nosuch/x "$BATS_TEST_TMPDIR/x"
	assert "$output" =~ '"/data/nosuch/x" could not be found on container '$c "the user's path in the message: $output"
}

@test "cp: volumes and bind mounts of a running container" {
	local c=r$TESTNUM v=v$TESTNUM
	run_skiff run -d --name $c -v $v:/data -v "$B":/bind -v "$R":/ro:ro "$IMAGE" \
		sh -c 'echo made-inside >/data/inside; echo bound >/bind/inside; touch /tmp/ready; sleep 1000'
	wait_for skiff_raw cp $c:/tmp/ready "$BATS_TEST_TMPDIR/ready"
	run_skiff cp $c:/data/inside "$BATS_TEST_TMPDIR/inside"
	is "$(cat "$BATS_TEST_TMPDIR/inside")" "made-inside" "what the container wrote in its volume"
	run_skiff cp $c:/bind/inside "$BATS_TEST_TMPDIR/bound"
	is "$(cat "$BATS_TEST_TMPDIR/bound")" "bound"
	run_skiff cp "$H/file" $c:/data/new
	run_skiff cp "$H/dir" $c:/bind/
	run_skiff exec $c cat /data/new /bind/dir/sub/b
	is "$output" "file content
b" "the running container sees the copies"
	run_skiff 125 cp "$H/file" $c:/ro/x
	assert "$output" =~ "read-only mount" "$output"
	[ ! -e "$R/x" ] || die "a read-only mount was written"
	run_skiff inspect --format '{{.State.Status}}' $c
	is "$output" "running"
	run_skiff rm -f -t 0 $c
}
