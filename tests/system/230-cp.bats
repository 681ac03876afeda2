#!/usr/bin/env bats
# skiff cp: docker's rules for files and directories, tar streams both ways, running
# and stopped containers, ownership with --archive, and hostile symlinks that must
# never let a copy leave the container. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	H=$BATS_TEST_TMPDIR/h
	mkdir -p "$H/dir/sub"
	echo "file content" >"$H/file"
	echo a >"$H/dir/a"
	echo b >"$H/dir/sub/b"
	ln -s /etc "$H/dir/lnk"
}

# skiff_raw ARGS...: skiff on this test's store with stdio left alone (binary tar)
function skiff_raw() {
	timeout "$SKIFF_TIMEOUT" "$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "$@"
}

# show NAME CMD: start the created container NAME (its command prints what we check)
function show() {
	run_skiff start -a "$1"
}

@test "cp: files and directories into a stopped container, docker's table" {
	local c=c$TESTNUM
	run_skiff create --name $c "$IMAGE" sh -c 'cd /tmp && find . | sort && cat f1 in'
	run_skiff cp "$H/file" $c:/tmp/f1
	is "$output" "" "cp prints nothing"
	run_skiff cp "$H/dir" $c:tmp/newdir
	run_skiff cp "$H/dir" $c:/tmp/newdir
	run_skiff cp "$H/dir/." $c:/tmp/merged
	run_skiff 125 cp "$H/dir/." $c:/tmp/nosuch/
	assert "$output" =~ '"/tmp/nosuch/" could not be found on container '$c "DEST/ must exist: $output"
	run_skiff cp "$H/dir/." $c:/tmp
	run_skiff cp "$H/file" $c:/tmp/in
	run_skiff 125 cp "$H/dir" $c:/tmp/f1
	is "$output" "Error: destination must be a directory when copying a directory"
	run_skiff 125 cp "$H/file" $c:/no/such/parent
	assert "$output" =~ "could not be found on container $c: No such file or directory"
	run_skiff 125 cp "$H/file/" $c:/tmp
	assert "$output" =~ "Not a directory" "SRC/ that is a file"
	run_skiff 125 cp "$H/nosuch" $c:/tmp
	assert "$output" =~ "could not be found on the host"
	show $c
	is "$output" ".
./a
./f1
./in
./lnk
./merged
./merged/a
./merged/lnk
./merged/sub
./merged/sub/b
./newdir
./newdir/a
./newdir/dir
./newdir/dir/a
./newdir/dir/lnk
./newdir/dir/sub
./newdir/dir/sub/b
./newdir/lnk
./newdir/sub
./newdir/sub/b
./sub
./sub/b
file content
file content" "the tree in the container"
	run_skiff mount
	is "$output" "" "a stopped container is not left mounted"
}

@test "cp: out of a container; symlinks stay symlinks; -L" {
	local c=o$TESTNUM
	run_skiff run --name $c "$IMAGE" sh -c 'mkdir -p /data/sub && echo x >/data/x && echo y >/data/sub/y && ln -s /etc/passwd /data/pw && ln -s /etc /etcl'
	local out=$BATS_TEST_TMPDIR/out
	mkdir "$out"
	run_skiff cp $c:/data "$out"
	assert "$(cat "$out/data/x")" = x
	assert "$(cat "$out/data/sub/y")" = y
	assert "$(readlink "$out/data/pw")" = /etc/passwd "a symlink is copied as a symlink"
	run_skiff cp $c:/data/. "$out/contents"
	assert "$(cat "$out/contents/sub/y")" = y "DEST missing: created with the contents"
	run_skiff cp $c:/etcl "$out/"
	assert "$(readlink "$out/etcl")" = /etc
	run_skiff cp -L $c:/data/pw "$out/pwcopy"
	assert "$(head -1 "$out/pwcopy")" =~ "^root:" "-L follows the link inside the container"
	run_skiff cp $c:/etcl/group "$out/g"
	assert "$(cat "$out/g")" = "$(skiff_raw cp $c:/etc/group - | tar xO)" "the container's /etc, not the host's"
	run_skiff 125 cp $c:/nosuch "$out"
	is "$output" "Error: \"/nosuch\" could not be found on container $c: No such file or directory"
	run_skiff 125 cp nosuchctr:/etc "$out"
	assert "$output" =~ "no container with name or ID"
	run_skiff 125 cp "$out" "$out/x"
	assert "$output" =~ "at least one container"
	run_skiff 125 cp $c:/data/x "$out/data/x/"
	assert "$output" =~ "Not a directory"
}

@test "cp: tar streams with -" {
	local c=t$TESTNUM
	run_skiff create --name $c "$IMAGE" sh -c 'find /tmp/x | sort; cat /tmp/x/dir/sub/b'
	tar -C "$H" -cf "$BATS_TEST_TMPDIR/in.tar" dir file
	run_skiff 125 cp - $c:/tmp/x <"$BATS_TEST_TMPDIR/in.tar"
	assert "$output" =~ "destination must be a directory when copying from stdin"
	run_skiff cp "$H/dir/sub" $c:/tmp/x
	run_skiff cp - $c:/tmp/x <"$BATS_TEST_TMPDIR/in.tar"
	gzip -c "$BATS_TEST_TMPDIR/in.tar" >"$BATS_TEST_TMPDIR/in.tgz"
	run_skiff cp - $c:/tmp/x/dir <"$BATS_TEST_TMPDIR/in.tgz"
	show $c
	is "$output" "/tmp/x
/tmp/x/b
/tmp/x/dir
/tmp/x/dir/a
/tmp/x/dir/dir
/tmp/x/dir/dir/a
/tmp/x/dir/dir/lnk
/tmp/x/dir/dir/sub
/tmp/x/dir/dir/sub/b
/tmp/x/dir/file
/tmp/x/dir/lnk
/tmp/x/dir/sub
/tmp/x/dir/sub/b
/tmp/x/file
b" "tar extracted, gzip too"
	skiff_raw cp $c:/tmp/x/dir/dir - >"$BATS_TEST_TMPDIR/out.tar"
	run tar -tf "$BATS_TEST_TMPDIR/out.tar"
	is "$(sort <<<"$output")" "dir/
dir/a
dir/lnk
dir/sub/
dir/sub/b" "a tar of the directory"
	skiff_raw cp $c:/tmp/x/dir/dir/. - >"$BATS_TEST_TMPDIR/out2.tar"
	run tar -tf "$BATS_TEST_TMPDIR/out2.tar"
	is "$(sort <<<"$output")" "a
lnk
sub/
sub/b" "dir/. : the contents"
	run_skiff 125 cp - -
	run_skiff 125 cp - "$BATS_TEST_TMPDIR"
	assert "$output" =~ "into a container"
	# a hostile tar: members that climb out or go through a symlink
	mkdir -p "$BATS_TEST_TMPDIR/evil"
	ln -s "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/evil/l"
	mkdir "$BATS_TEST_TMPDIR/victim"
	python3 - "$BATS_TEST_TMPDIR" <<'EOF'
import io, sys, tarfile
d = sys.argv[1]
with tarfile.open(d + "/up.tar", "w") as t:
    i = tarfile.TarInfo("../../../../escaped"); i.size = 1
    t.addfile(i, io.BytesIO(b"x"))
with tarfile.open(d + "/through.tar", "w") as t:
    i = tarfile.TarInfo("l"); i.type = tarfile.SYMTYPE; i.linkname = d + "/victim"
    t.addfile(i)
    i = tarfile.TarInfo("l/pwned"); i.size = 1
    t.addfile(i, io.BytesIO(b"x"))
EOF
	run_skiff 125 cp - $c:/tmp <"$BATS_TEST_TMPDIR/up.tar"
	assert "$output" =~ 'tar member "../../../../escaped"' "climbing out: $output"
	run_skiff 125 cp - $c:/tmp <"$BATS_TEST_TMPDIR/through.tar"
	assert "$output" =~ 'tar member "l/pwned"' "through a symlink: $output"
	run ls -A "$BATS_TEST_TMPDIR/victim"
	is "$output" "" "nothing written outside"
}

@test "cp: a running container, hostile symlinks made inside it" {
	local c=r$TESTNUM
	local victim=$BATS_TEST_TMPDIR/victim
	mkdir "$victim"
	echo secret >"$victim/secret"
	run_skiff run -d --name $c "$IMAGE" sh -c "ln -s /etc /tmp/etc; ln -s / /tmp/root; ln -s $victim /tmp/victim; \
ln -s $victim/secret /tmp/secret; ln -s ../../../../../../etc /tmp/up; touch /tmp/ready; sleep 1000"
	wait_for skiff_raw cp $c:/tmp/ready "$BATS_TEST_TMPDIR/ready"
	local name=cp$TESTNUM-$(random_string 6)
	echo pwned >"$BATS_TEST_TMPDIR/$name"
	# into: every one of these lands in the container's own /etc, or fails
	run_skiff cp "$BATS_TEST_TMPDIR/$name" $c:/tmp/etc/
	run_skiff cp "$BATS_TEST_TMPDIR/$name" $c:/tmp/root/etc/$name.2
	run_skiff cp "$BATS_TEST_TMPDIR/$name" $c:/tmp/up/$name.3
	run_skiff cp "$BATS_TEST_TMPDIR/$name" $c:../../../../etc/$name.4
	run_skiff 125 cp "$BATS_TEST_TMPDIR/$name" $c:/tmp/victim/pwned
	assert "$output" =~ "could not be found on container $c"
	run_skiff 125 cp "$BATS_TEST_TMPDIR/$name" $c:/tmp/victim/
	run_skiff 125 cp "$BATS_TEST_TMPDIR/$name" $c:/tmp/secret
	for f in /etc/$name /etc/$name.2 /etc/$name.3 /etc/$name.4 "$victim/pwned" "$victim/$name"; do
		[ ! -e "$f" ] || die "cp wrote $f on the host"
	done
	is "$(cat "$victim/secret")" "secret" "the host file behind a symlink is unchanged"
	# out: the same symlinks read the container's files
	run_skiff cp $c:/tmp/etc/$name.4 "$BATS_TEST_TMPDIR/back"
	is "$(cat "$BATS_TEST_TMPDIR/back")" "pwned" "written into the container's /etc"
	run_skiff 125 cp $c:/tmp/victim/secret "$BATS_TEST_TMPDIR/stolen"
	run_skiff 125 cp -L $c:/tmp/secret "$BATS_TEST_TMPDIR/stolen"
	[ ! -e "$BATS_TEST_TMPDIR/stolen" ] || die "a host file was read through a container symlink"
	run_skiff cp $c:/tmp/secret "$BATS_TEST_TMPDIR/link"
	is "$(readlink "$BATS_TEST_TMPDIR/link")" "$victim/secret" "copied as the symlink it is"
	run_skiff inspect --format '{{.State.Status}}' $c
	is "$output" "running" "the container still runs"
	run_skiff inspect --format '{{.Id}}' $c
	local id=$output
	run_skiff mount
	assert "$output" =~ "${id:0:12}" "its rootfs stays mounted"
	run_skiff stop -t 0 $c
	run_skiff cp $c:/etc/$name.2 "$BATS_TEST_TMPDIR/back2"
	is "$(cat "$BATS_TEST_TMPDIR/back2")" "pwned" "an exited container"
}

@test "cp: --archive chowns to the container's user; --archive=false keeps the owner; --overwrite" {
	local c=a$TESTNUM
	run_skiff create --name $c --user 1234:4321 "$IMAGE" sh -c 'ls -ln /tmp | awk "NR>1 {print \$3, \$4, \$9}"'
	run_skiff cp "$H/file" $c:/tmp/archived
	run_skiff cp --archive=false "$H/file" $c:/tmp/kept
	run_skiff cp "$H/dir" $c:/tmp/d
	local kept="0 0"
	if ! is_rootless; then
		chown 555:666 "$H/file"
		run_skiff cp --archive=false "$H/file" $c:/tmp/kept
		kept="555 666"
	fi
	show $c
	is "$output" "1234 4321 archived
1234 4321 d
$kept kept" "owners"
	# a directory may not replace a file, nor a file a directory, without --overwrite
	mkdir -p "$BATS_TEST_TMPDIR/o/archived" && echo new >"$BATS_TEST_TMPDIR/o/d"
	run_skiff 125 cp "$BATS_TEST_TMPDIR/o/." $c:/tmp
	assert "$output" =~ "cannot overwrite" "$output"
	run_skiff cp --overwrite "$BATS_TEST_TMPDIR/o/." $c:/tmp
	run_skiff cp $c:/tmp/d "$BATS_TEST_TMPDIR/dcopy"
	is "$(cat "$BATS_TEST_TMPDIR/dcopy")" "new" "--overwrite replaced the directory"
}
