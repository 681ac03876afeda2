#!/usr/bin/env bats
# Volumes: volume create/ls/inspect/rm/prune/exists, -v NAME:/path, anonymous volumes,
# --mount type=volume, copy-up, --volumes-from, in-use protection, export/import (hostile
# tars), :U and --mount U=true. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

@test "volume create, inspect, ls, exists, rm" {
	run_skiff volume create -l team=a v$TESTNUM
	is "$output" "v$TESTNUM" "create prints the name"
	run_skiff volume inspect v$TESTNUM
	assert "$output" =~ "\"Name\": \"v$TESTNUM\"" "inspect: $output"
	assert "$output" =~ "\"Driver\": \"local\"" "driver"
	assert "$output" =~ "\"Scope\": \"local\"" "scope"
	assert "$output" =~ "\"team\": \"a\"" "labels"
	run_skiff volume inspect --format '{{.Mountpoint}}' v$TESTNUM
	is "$output" "$SKIFF_TEST_ROOT/root/volumes/v$TESTNUM/_data" "mountpoint in the graphroot"
	[ -d "$output" ] || die "no directory $output"
	run_skiff 125 volume create v$TESTNUM
	assert "$output" =~ "volume with name v$TESTNUM already exists" "duplicate: $output"
	run_skiff volume create --ignore v$TESTNUM
	is "$output" "v$TESTNUM" "--ignore"
	run_skiff volume create w$TESTNUM
	run_skiff volume ls
	assert "${lines[0]}" =~ "^DRIVER +VOLUME NAME$" "header: ${lines[0]}"
	run_skiff volume ls -q
	is "$output" "v$TESTNUM
w$TESTNUM" "ls -q by name"
	run_skiff volume ls -q --filter label=team=a
	is "$output" "v$TESTNUM" "label filter"
	run_skiff volume ls -q --filter name=w$TESTNUM
	is "$output" "w$TESTNUM" "name filter"
	run_skiff 125 volume ls --filter bogus=1
	assert "$output" =~ "bogus" "bad filter named: $output"
	run_skiff volume exists v$TESTNUM
	run_skiff 1 volume exists nosuch$TESTNUM
	run_skiff volume rm v$TESTNUM w$TESTNUM
	run_skiff volume ls -q
	is "$output" "" "all gone"
	run_skiff 1 volume rm nosuch$TESTNUM
	assert "$output" =~ "no volume with name \"nosuch$TESTNUM\" found" "rm unknown: $output"
}

@test "hostile volume names are refused with one line" {
	for n in ../x /x .hidden "a b" "$(printf 'a\nb')" "$(printf 'x%.0s' $(seq 300))"; do
		run_skiff 125 volume create "$n"
		is "${#lines[@]}" 1 "one line for [$n]: $output"
		assert "$output" =~ "volume name" "names the problem: $output"
	done
	run_skiff 125 run --rm -v 'x!y:/data' "$IMAGE" true
	assert "$output" =~ "invalid volume" "-v with a bad name: $output"
	run_skiff 125 run --rm --mount 'type=volume,src=a b,dst=/data' "$IMAGE" true
	assert "$output" =~ "invalid volume name" "--mount with a bad name: $output"
	run_skiff volume ls -q
	is "$output" "" "nothing created"
	[ ! -e "$SKIFF_TEST_ROOT/root/x" ] || die "a directory escaped the volumes dir"
}

@test "named volume: created on use, data survives containers, in use cannot go" {
	run_skiff run --rm -v data$TESTNUM:/data "$IMAGE" sh -c 'echo hello > /data/f'
	run_skiff volume inspect --format '{{.Name}}' data$TESTNUM
	is "$output" "data$TESTNUM" "-v NAME creates the volume"
	run_skiff run --rm -v data$TESTNUM:/data:ro "$IMAGE" cat /data/f
	is "$output" "hello" "data survives"
	run_skiff 1 run --rm -v data$TESTNUM:/data:ro "$IMAGE" sh -c 'echo x > /data/g'
	run_skiff create --name c$TESTNUM -v data$TESTNUM:/data "$IMAGE" true
	run_skiff 2 volume rm data$TESTNUM
	assert "$output" =~ "volume data$TESTNUM is being used by the following container\(s\)" "in use: $output"
	run_skiff volume inspect --format '{{.MountCount}}' data$TESTNUM
	is "$output" "1" "MountCount"
	run_skiff volume ls -q --filter dangling=true
	is "$output" "" "not dangling"
	run_skiff container inspect --format '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}' c$TESTNUM
	is "$output" "volume data$TESTNUM /data" "container inspect mounts"
	run_skiff rm c$TESTNUM
	run_skiff volume ls -q --filter dangling=true
	is "$output" "data$TESTNUM" "dangling after rm"
	run_skiff create --name d$TESTNUM -v data$TESTNUM:/data "$IMAGE" true
	run_skiff volume rm -f data$TESTNUM
	run_skiff 1 container exists d$TESTNUM
	run_skiff 1 volume exists data$TESTNUM
}

@test "copy-up of the image's content, and nocopy" {
	run_skiff run --rm -v etc$TESTNUM:/etc "$IMAGE" cat /etc/passwd
	assert "$output" =~ "root:" "image content copied into a new volume"
	local data=$SKIFF_TEST_ROOT/root/volumes/etc$TESTNUM/_data
	[ -f "$data/passwd" ] || die "no passwd in $data"
	run_skiff 1 run --rm --mount type=volume,src=nc$TESTNUM,dst=/etc,volume-nocopy "$IMAGE" test -e /etc/passwd
	[ ! -e "$SKIFF_TEST_ROOT/root/volumes/nc$TESTNUM/_data/passwd" ] || die "nocopy volume got the image's content"
	# only the first use copies: what the user removed stays removed
	run_skiff run --rm -v etc$TESTNUM:/etc "$IMAGE" rm /etc/group
	run_skiff 1 run --rm -v etc$TESTNUM:/etc "$IMAGE" test -e /etc/group
}

@test "anonymous volumes: -v /path and --mount type=volume; --rm removes them" {
	run_skiff run --name a$TESTNUM -v /scratch "$IMAGE" sh -c 'echo x > /scratch/f'
	run_skiff volume ls -q --filter anonymous=true
	local anon=$output
	assert "${#anon}" -eq 64 "one anonymous volume with a 64-hex name: $anon"
	run_skiff container inspect --format '{{range .Mounts}}{{.Name}}{{end}}' a$TESTNUM
	is "$output" "$anon" "the container names it"
	run_skiff rm a$TESTNUM
	run_skiff volume exists $anon
	run_skiff volume rm $anon
	run_skiff run --rm --mount type=volume,dst=/scratch "$IMAGE" true
	run_skiff run --rm -v keep$TESTNUM:/k -v /scratch "$IMAGE" true
	run_skiff volume ls -q
	is "$output" "keep$TESTNUM" "--rm removed the anonymous ones, not the named one"
}

@test "--volumes-from" {
	run_skiff create --name src$TESTNUM -v shared$TESTNUM:/shared "$IMAGE" true
	run_skiff run --rm -v shared$TESTNUM:/shared "$IMAGE" sh -c 'echo from-src > /shared/f'
	run_skiff run --rm --volumes-from src$TESTNUM "$IMAGE" cat /shared/f
	is "$output" "from-src" "--volumes-from mounts the same volume"
	run_skiff 1 run --rm --volumes-from src$TESTNUM:ro "$IMAGE" sh -c 'echo x > /shared/g'
	run_skiff 125 run --rm --volumes-from nosuch$TESTNUM "$IMAGE" true
	assert "$output" =~ "nosuch$TESTNUM" "unknown container named: $output"
}

@test "volume prune" {
	run_skiff volume create p1$TESTNUM
	run_skiff volume create -l keep=yes p2$TESTNUM
	run_skiff create --name c$TESTNUM -v p3$TESTNUM:/x "$IMAGE" true
	run_skiff volume prune -f --filter label!=keep=yes
	is "$output" "p1$TESTNUM" "only the unused unlabelled one"
	run_skiff volume prune -f
	is "$output" "p2$TESTNUM" "then the labelled one"
	run_skiff volume ls -q
	is "$output" "p3$TESTNUM" "the used one stays"
}

@test "volume create -o: root mounts at first use, rootless refuses" {
	if is_rootless; then
		run_skiff 125 volume create -o type=tmpfs -o device=tmpfs t$TESTNUM
		assert "$output" =~ "need root" "rootless: $output"
		return
	fi
	run_skiff volume create -o type=tmpfs -o device=tmpfs -o o=size=1m t$TESTNUM
	run_skiff volume inspect --format '{{.Options.type}}' t$TESTNUM
	is "$output" "tmpfs" "options kept"
	run_skiff run --rm -v t$TESTNUM:/t "$IMAGE" sh -c 'echo y > /t/f; cat /t/f'
	is "$output" "y" "tmpfs volume usable"
	run_skiff volume rm t$TESTNUM
}

@test "volumes: rm -v removes anonymous volumes; inspect names the volume; system df counts them" {
	run_skiff run --name a$TESTNUM -v /anon -v named$TESTNUM:/data "$IMAGE" sh -c 'echo x > /data/f'
	run_skiff inspect --format '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}};{{end}}' a$TESTNUM
	assert "$output" =~ "volume named$TESTNUM /data;" "a named volume shows its name"
	run_skiff volume ls -q
	is "${#lines[@]}" 2 "one anonymous and one named volume"
	run_skiff system df --format '{{.Type}} {{.Total}}'
	assert "$output" =~ "Local Volumes 2"
	run_skiff rm -v a$TESTNUM
	run_skiff volume ls -q
	is "$output" "named$TESTNUM" "rm -v removed the anonymous volume only"
	run_skiff volume rm named$TESTNUM
}

# mktar OUT NAME:KIND[:ARG]...: a tar with exactly these members (f: file with content ARG,
# l: symlink to ARG, h: hard link to ARG, d: directory), as no tar tool writes them.
function mktar() {
	/usr/bin/python3 - "$@" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for spec in sys.argv[2:]:
        name, kind, arg = (spec.split(":", 2) + [""])[:3]
        ti = tarfile.TarInfo(name)
        ti.mode = 0o755 if kind == "d" else 0o644
        data = None
        if kind == "f":
            data = arg.encode()
            ti.size = len(data)
        elif kind == "l":
            ti.type, ti.linkname = tarfile.SYMTYPE, arg
        elif kind == "h":
            ti.type, ti.linkname = tarfile.LNKTYPE, arg
        elif kind == "d":
            ti.type = tarfile.DIRTYPE
        t.addfile(ti, io.BytesIO(data) if data is not None else None)
PY
}

@test "volume export and import: a round trip, stdout and stdin, errors" {
	run_skiff run --rm -v ex$TESTNUM:/data "$IMAGE" sh -c \
		'mkdir -p /data/sub/deep && echo hello > /data/sub/deep/f && ln -s sub/deep/f /data/link && ln /data/sub/deep/f /data/hard && chmod 0700 /data/sub && chown 7:8 /data/sub/deep/f'
	local tarf=$BATS_TEST_TMPDIR/ex.tar
	run_skiff volume export -o "$tarf" ex$TESTNUM
	is "$output" "" "export -o prints nothing"
	run tar -tf "$tarf"
	assert "$output" =~ "sub/deep/f" "the tar holds the content: $output"
	assert "$output" !~ "_data" "entries are relative to _data: $output"
	# to stdout, byte for byte the same
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" volume export ex$TESTNUM >"$tarf.2" ||
		die "export to stdout failed"
	cmp "$tarf" "$tarf.2" || die "export to stdout differs from export -o"

	run_skiff volume create im$TESTNUM
	run_skiff volume import im$TESTNUM "$tarf"
	run_skiff run --rm -v im$TESTNUM:/data "$IMAGE" sh -c \
		'cat /data/link; readlink /data/link; stat -c "%a %u:%g %h" /data/sub /data/sub/deep/f'
	is "$output" "hello
sub/deep/f
700 0:0 3
644 7:8 2" "content, symlink, modes, owners and the hard link survive"
	# from stdin, compressed, into a volume that has content: replaced by name, rest kept
	run_skiff run --rm -v im$TESTNUM:/data "$IMAGE" sh -c 'echo old > /data/keep; echo old > /data/sub/deep/f'
	gzip -c "$tarf" >"$tarf.gz"
	run_skiff volume import im$TESTNUM - <"$tarf.gz"
	run_skiff run --rm -v im$TESTNUM:/data "$IMAGE" cat /data/sub/deep/f /data/keep
	is "$output" "hello
old" "stdin, gzip: replaced by name, the rest kept"
	# an imported volume is not overwritten by the image's content at first use
	run_skiff volume create etc$TESTNUM
	run_skiff volume import etc$TESTNUM "$tarf"
	run_skiff 1 run --rm -v etc$TESTNUM:/etc "$IMAGE" test -e /etc/passwd

	run_skiff 125 volume import nosuch$TESTNUM "$tarf"
	assert "$output" =~ "no volume with name \"nosuch$TESTNUM\" found" "unknown volume: $output"
	run_skiff 125 volume export nosuch$TESTNUM -o "$tarf.3"
	assert "$output" =~ "nosuch$TESTNUM" "unknown volume: $output"
	run_skiff 125 volume import im$TESTNUM "$BATS_TEST_TMPDIR/nosuch.tar"
	assert "$output" =~ "nosuch.tar" "missing file named: $output"
	echo "not a tar at all" >"$tarf.bad"
	run_skiff 125 volume import im$TESTNUM "$tarf.bad"
	assert "$output" =~ "im$TESTNUM" "garbage refused, naming the volume: $output"
	run_skiff 125 volume import im$TESTNUM "$tarf" extra
	# a terminal as stdout is refused, as podman
	if command -v script >/dev/null; then
		run script -qec "$SKIFF --root $SKIFF_TEST_ROOT/root --runroot $SKIFF_TEST_ROOT/runroot volume export ex$TESTNUM" /dev/null
		assert "$output" =~ "cannot write to terminal" "terminal refused: $output"
		assert "$status" -ne 0 "terminal: non-zero exit"
	fi
}

@test "volume import: hostile tars stay inside the volume" {
	local t=$BATS_TEST_TMPDIR out=$BATS_TEST_TMPDIR/outside
	mkdir -p "$out"
	echo original >"$out/victim"
	mktar "$t/dotdot.tar" "../../../../../../../..$out/esc1:f:x"
	mktar "$t/symdir.tar" "l:l:$out" "l/esc2:f:x"
	mktar "$t/symrel.tar" "u:l:../../../../../../../..$out" "u/esc3:f:x"
	mktar "$t/hardabs.tar" "h:h:$out/victim"
	mktar "$t/hardup.tar" "h:h:../../../../../../../..$out/victim"
	mktar "$t/symfile.tar" "s:l:$out/victim" "s:f:pwned"
	mktar "$t/abs.tar" "$out/esc4:f:x"
	run_skiff volume create hv$TESTNUM
	for f in dotdot symdir symrel hardup; do
		run_skiff 125 volume import hv$TESTNUM "$t/$f.tar"
		assert "$output" =~ "tar member" "$f: the member is named: $output"
	done
	# an absolute hard link target is taken inside the volume: there is none
	run_skiff 125 volume import hv$TESTNUM "$t/hardabs.tar"
	# a symlink replaced by a file is replaced, never written through
	run_skiff volume import hv$TESTNUM "$t/symfile.tar"
	# an absolute member lands inside the volume
	run_skiff volume import hv$TESTNUM "$t/abs.tar"
	run ls -A "$out"
	is "$output" "victim" "nothing was created outside the volume"
	is "$(cat "$out/victim")" "original" "nothing was written through a link"
	run_skiff run --rm -v hv$TESTNUM:/data "$IMAGE" sh -c "cat /data/s; cat /data$out/esc4"
	is "$output" "pwnedx" "the file replaced the symlink; the absolute member is inside"
}

@test ":U and --mount U=true chown to the container's user; bind mounts too" {
	run_skiff run --rm -v u$TESTNUM:/data "$IMAGE" sh -c \
		'mkdir /data/d && touch /data/d/f && ln -s /etc/passwd /data/lnk && chmod 4755 /data/d/f'
	run_skiff run --rm -v u$TESTNUM:/data:U --user 1000:1001 "$IMAGE" stat -c '%n %u:%g %a' /data /data/d /data/d/f /data/lnk
	is "$output" "/data 1000:1001 755
/data/d 1000:1001 755
/data/d/f 1000:1001 4755
/data/lnk 1000:1001 777" "-v :U: everything the user's, setuid kept"
	run_skiff run --rm -v u$TESTNUM:/data "$IMAGE" stat -c '%u:%g' /etc/passwd
	is "$output" "0:0" "the symlink's target was not touched"
	# a user name, resolved in the container's /etc/passwd
	run_skiff run --rm --mount type=volume,src=u$TESTNUM,dst=/data,U=true --user tester "$IMAGE" \
		stat -c %u:%g /data/d/f
	is "$output" "1000:1000" "--mount U=true: tester's ids from /etc/passwd"
	run_skiff 125 run --rm --user nosuch$TESTNUM -v u$TESTNUM:/data:U "$IMAGE" true
	assert "$output" =~ "nosuch$TESTNUM" "an unknown user is named: $output"
	run_skiff 125 run --rm --mount type=tmpfs,dst=/t,U=true "$IMAGE" true
	assert "$output" =~ "U needs type=bind or type=volume" "tmpfs: $output"
	run_skiff 125 run --rm --mount type=volume,dst=/t,U=maybe "$IMAGE" true
	assert "$output" =~ "bad value for U" "bad value: $output"

	# a bind mount: the host directory is chowned (to the mapped ids when rootless)
	local b=$BATS_TEST_TMPDIR/bind
	mkdir -p "$b/x" && touch "$b/x/y"
	run_skiff run --rm --mount type=bind,src="$b",dst=/b,U --user 33:34 "$IMAGE" stat -c '%u:%g' /b /b/x /b/x/y
	is "$output" "33:34
33:34
33:34" "bind mount with U"
	if ! is_rootless; then
		is "$(stat -c %u:%g "$b/x/y")" "33:34" "on the host too"
		chown -R 0:0 "$b"
	else
		run_skiff unshare chown -R 0:0 "$b"
	fi
}
