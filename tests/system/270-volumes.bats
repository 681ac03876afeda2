#!/usr/bin/env bats
# Volumes: volume create/ls/inspect/rm/prune/exists, -v NAME:/path, anonymous volumes,
# --mount type=volume, copy-up, --volumes-from, in-use protection. Root and rootless.

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
