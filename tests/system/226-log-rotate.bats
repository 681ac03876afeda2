#!/usr/bin/env bats
# Log rotation: --log-opt max-size with max-file (docker's json-file rotation, for k8s-file
# and json-file), and logs over the rotated files. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

# userdata_of NAME: the container's log directory
function userdata_of() {
	local id
	id=$("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" inspect --format '{{.Id}}' "$1") ||
		die "inspect $1"
	echo "$SKIFF_TEST_ROOT/root/containers/$id/userdata"
}

# seq_lines FIRST LAST: lineFIRST ... lineLAST, one a line
function seq_lines() {
	local i
	for ((i = $1; i <= $2; i++)); do echo "line$i"; done
}

@test "max-size=1k max-file=3: at most three files, logs shows the newest lines in order" {
	for driver in k8s-file json-file; do
		local n=r$TESTNUM-$driver
		run_skiff run --name $n --log-driver $driver --log-opt max-size=1k --log-opt max-file=3 "$IMAGE" \
			sh -c 'for i in $(seq 1 300); do echo line$i; done'
		local dir
		dir=$(userdata_of $n)
		run ls "$dir"
		assert "$(echo "$output" | grep '^ctr\.log' | tr '\n' ' ')" == "ctr.log ctr.log.1 ctr.log.2 " \
			"$driver: three files kept, the oldest dropped: $output"
		local f size
		for f in ctr.log ctr.log.1 ctr.log.2; do
			size=$(stat -c %s "$dir/$f")
			# one record is about 50 bytes: a file never grows past the limit by a whole record
			assert "$size" -le 1024 "$driver: $f has $size bytes, over max-size"
			assert "$(tail -c 1 "$dir/$f" | od -An -c | tr -d ' ')" == '\n' "$driver: $f ends with a whole record"
		done

		run_skiff logs $n
		local first=${lines[0]#line}
		assert "${#lines[@]}" -gt 30 "$driver: the kept files hold more than one file's lines"
		assert "$first" -gt 1 "$driver: the oldest lines were dropped"
		is "$output" "$(seq_lines "$first" 300)" "$driver: the newest lines, oldest first, none lost or repeated"

		run_skiff logs --tail 4 $n
		is "$output" "$(seq_lines 297 300)" "$driver: --tail over the rotated files"
		run_skiff logs --tail 0 $n
		is "$output" "" "$driver: --tail 0"

		run_skiff inspect --format '{{json .HostConfig.LogConfig.Config}}' $n
		is "$output" '{"max-file":"3","max-size":"1k"}' "$driver: inspect shows the options as docker does"
		run_skiff inspect --format '{{.HostConfig.LogConfig.Type}}' $n
		is "$output" "$driver" "the driver keeps its name"

		run_skiff rm $n
		assert "$(ls "$dir" 2>&1 | grep -c '^ctr\.log')" == "0" "rm removed the rotated files too"
		[ ! -e "$dir" ] || die "rm left $dir"
	done
}

@test "logs --since/--until select across the rotated files" {
	local n=s$TESTNUM
	run_skiff run --name $n --log-opt max-size=1k --log-opt max-file=5 "$IMAGE" \
		sh -c 'for i in $(seq 1 60); do echo line$i; [ $((i % 20)) = 0 ] && sleep 1.1; done; true'
	local dir
	dir=$(userdata_of $n)
	[ -e "$dir/ctr.log.2" ] || die "expected at least three files: $(ls "$dir")"
	run_skiff logs -t $n
	local all=$output
	assert "$(echo "$all" | wc -l)" == "60" "all 60 lines are kept"
	# the time of line 21, after the first pause: in an older file
	local t21
	t21=$(echo "$all" | awk '$2 == "line21" { print $1 }')
	[ -n "$t21" ] || die "no timestamp for line21 in: $all"
	run_skiff logs --since "$t21" $n
	is "$output" "$(seq_lines 21 60)" "--since: from line21 on (the first pause separates it from line20)"
	local t40
	t40=$(echo "$all" | awk '$2 == "line40" { print $1 }')
	run_skiff logs --until "$t40" $n
	is "$output" "$(seq_lines 1 40)" "--until: up to line40 (the second pause follows it)"
	# as docker and podman: the last N lines first, then the time window
	run_skiff logs --since "$t21" --until "$t40" --tail 25 $n
	is "$output" "$(seq_lines 36 40)" "--tail counts over the files, --since/--until select among them"
}

@test "logs -f follows across rotations: no line lost or repeated" {
	local d=$SKIFF_TEST_ROOT/go$TESTNUM
	mkdir -p "$d"
	chmod 777 "$d"
	local S=("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot")
	local n=f$TESTNUM
	run_skiff run -d --name $n -v "$d:/w" --log-opt max-size=1k --log-opt max-file=4 "$IMAGE" \
		sh -c 'echo start; while [ ! -e /w/go ]; do sleep 0.1; done; for i in $(seq 1 200); do echo line$i; sleep 0.01; done'
	local out=$SKIFF_TEST_ROOT/follow.out
	"${S[@]}" logs -f $n >"$out" 2>&1 </dev/null &
	local follower=$!
	wait_for --timeout 20 grep -qx start "$out" || die "logs -f did not show the first line: $(cat "$out")"
	touch "$d/go"
	local st=0
	timeout 60 tail --pid=$follower -f /dev/null || die "logs -f did not end with the container"
	wait $follower || st=$?
	is "$st" "0" "logs -f exit status"
	is "$(cat "$out")" "$(echo start; seq_lines 1 200)" "logs -f: every line once, in order, across the files"
	local dir
	dir=$(userdata_of $n)
	[ -e "$dir/ctr.log.3" ] || die "the log did not rotate as far as expected: $(ls "$dir")"
	[ ! -e "$dir/ctr.log.4" ] || die "more than max-file files: $(ls "$dir")"
}

@test "max-file default and 1: the log is truncated at max-size, as podman does" {
	for mf in "" "--log-opt max-file=1"; do
		local n=t$TESTNUM${mf:+-1}
		# shellcheck disable=SC2086
		run_skiff run --name $n --log-opt max-size=1k $mf "$IMAGE" sh -c 'for i in $(seq 1 100); do echo line$i; done'
		local dir
		dir=$(userdata_of $n)
		[ ! -e "$dir/ctr.log.1" ] || die "no rotated file without max-file > 1"
		assert "$(stat -c %s "$dir/ctr.log")" -le 1024 "the file stays under max-size"
		run_skiff logs $n
		assert "${lines[-1]}" == "line100" "the newest line is kept"
		run_skiff inspect --format '{{json .HostConfig.LogConfig.Config}}' $n
		if [ -z "$mf" ]; then
			is "$output" '{"max-size":"1k"}' "inspect: only max-size"
		else
			is "$output" '{"max-file":"1","max-size":"1k"}' "inspect: max-file 1"
		fi
	done
	run_skiff create --name plain$TESTNUM "$IMAGE" true
	run_skiff inspect --format '{{json .HostConfig.LogConfig.Config}}' plain$TESTNUM
	is "$output" "null" "no log options: Config is null"
}

@test "bad max-file values are refused, naming the value" {
	local v
	for v in 0 x -1 "" 1.5 3x 10001 99999999999999999999; do
		run_skiff 125 create --log-opt "max-file=$v" "$IMAGE" true
		assert "$output" =~ "--log-opt: invalid max-file \"$v\"" "max-file=$v: $output"
	done
	run_skiff 125 create --log-opt max-files=3 "$IMAGE" true
	assert "$output" =~ "invalid --log-opt \"max-files=3\"" "an unknown option: $output"
	run_skiff ps -aq
	is "$output" "" "nothing was created"
}
