#!/usr/bin/env bats
# events: the events log that every command appends to (podman's file backend), listed
# with --stream=false, filtered, formatted, bounded by --since/--until, followed, and
# rotated by size. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

function teardown() {
	if [ -n "${follower:-}" ]; then
		kill "$follower" 2>/dev/null || true
		wait "$follower" 2>/dev/null || true
		follower=
	fi
	skiff_teardown
}

# events_of NAME: the statuses logged for container NAME, one per line
function events_of() {
	run_skiff events --stream=false --filter container="$1" --format '{{.Status}}'
}

@test "events: a run logs create, init, start, died, cleanup, remove, in order" {
	local name=r$TESTNUM
	run_skiff 3 run --rm --name $name "$IMAGE" sh -c 'exit 3'
	events_of $name
	is "$output" "create
init
start
died
cleanup
remove" "a container's life"
	# podman's line: time, type, status, full ID, (image, name, labels)
	run_skiff events --stream=false --filter container=$name --filter event=start
	assert "${#lines[@]}" -eq 1 "one start: $output"
	assert "$output" =~ "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)? [+-][0-9]{4} [A-Za-z0-9+-]+ container start [0-9a-f]{64} \(image=$IMAGE, name=$name, org.skiff.test=busybox\)$" \
		"human line: $output"
	run_skiff events --stream=false --filter container=$name --filter event=died --format '{{.ContainerExitCode}}'
	is "$output" "3" "died carries the exit code"
	run_skiff events --stream=false --no-trunc=false --filter container=$name --filter event=create
	assert "$output" =~ " container create [0-9a-f]{12} \(" "--no-trunc=false: short ID: $output"
	# the same under `system events`, and the log lives in the graphroot (survives a reboot)
	run_skiff system events --stream=false --filter container=$name --format '{{.Name}}'
	is "$(sort -u <<<"$output")" "$name" "system events"
	assert "$(grep -c "\"Name\":\"$name\"" "$SKIFF_TEST_ROOT/root/events/events.log")" -eq 6 \
		"graphroot/events/events.log holds the records"
}

@test "events: stop, start, rename, kill, wait, rm" {
	local name=s$TESTNUM
	run_skiff run -d --name $name "$IMAGE" sleep 1000
	local id=$output
	run_skiff rename $name n$TESTNUM
	run_skiff stop -t 0 n$TESTNUM
	run_skiff start n$TESTNUM
	run_skiff kill n$TESTNUM
	run_skiff wait n$TESTNUM
	run_skiff rm n$TESTNUM
	run_skiff events --stream=false --filter container=$id --format '{{.Status}} {{.Name}}'
	# the exit command may log the death of a killed container before kill logs the kill
	is "$(grep -c '^kill ' <<<"$output")" "1" "one kill: $output"
	is "$(grep -v '^kill ' <<<"$output")" "create $name
init $name
start $name
rename n$TESTNUM
died n$TESTNUM
cleanup n$TESTNUM
stop n$TESTNUM
init n$TESTNUM
start n$TESTNUM
died n$TESTNUM
cleanup n$TESTNUM
remove n$TESTNUM" "each command's event, once, in order"
	# an ID prefix finds it too
	run_skiff events --stream=false --filter container=${id:0:10} --filter event=rename --format '{{.Name}}'
	is "$output" "n$TESTNUM" "container= by ID prefix"
}

@test "events: filters" {
	run_skiff run --name a$TESTNUM "$IMAGE" true
	run_skiff run --name b$TESTNUM --label team=blue "$IMAGE" true
	run_skiff events --stream=false --filter container=a$TESTNUM --format '{{.Name}}'
	is "$(sort -u <<<"$output")" "a$TESTNUM" "container="
	run_skiff events --stream=false --filter container=a$TESTNUM --filter container=b$TESTNUM \
		--filter event=start --format '{{.Name}}'
	is "$output" "a$TESTNUM
b$TESTNUM" "values of one key are alternatives, keys all apply"
	run_skiff events --stream=false --filter event=die --format '{{.Name}}'
	is "$output" "a$TESTNUM
b$TESTNUM" "event=die is docker's word for died"
	run_skiff events --stream=false --filter label=team=blue --filter event=create --format '{{.Name}}'
	is "$output" "b$TESTNUM" "label=KEY=VALUE matches the container's labels"
	run_skiff events --stream=false --filter label=team --filter status=create --format '{{.Name}}'
	is "$output" "b$TESTNUM" "label=KEY, status="
	run_skiff events --stream=false --filter type=image --format '{{.Type}} {{.Status}} {{.Name}}'
	is "$output" "image load $FIXTURES/busybox.docker.tar" "type=image: the load"
	run_skiff events --stream=false --filter container=nosuch$TESTNUM
	is "$output" "" "no match, no output"
	run_skiff 125 events --stream=false --filter colour=red
	assert "$output" =~ "colour is an invalid filter" "unknown key: $output"
	run_skiff 125 events --stream=false --filter justaword
	assert "$output" =~ "justaword is an invalid filter" "no '=': $output"
	run_skiff 125 events --stream=false --format '{{.Nope'
	assert "$output" =~ "template" "bad template: $output"
}

@test "events: --format json is one JSON object per line" {
	run_skiff 7 run --rm --name j$TESTNUM "$IMAGE" sh -c 'exit 7'
	run_skiff events --stream=false --filter container=j$TESTNUM --format json
	local n=0 line
	for line in "${lines[@]}"; do
		jq -e '.Type == "container" and (.ID | length) == 64 and .Name == "'j$TESTNUM'"
			and .Image == "'$IMAGE'" and (.Time | test("^[0-9-]+T[0-9:.]+(Z|[+-][0-9:]+)$"))
			and .Attributes["org.skiff.test"] == "busybox"' <<<"$line" >/dev/null ||
			die "not podman's record: $line"
		n=$((n + 1))
	done
	assert "$n" -eq 6 "six events"
	is "$(jq -r 'select(.Status == "died") | .ContainerExitCode' <<<"$output")" "7" "ContainerExitCode"
	run_skiff events --stream=false --filter container=j$TESTNUM --format '{{json .}}'
	is "$(jq -r .Status <<<"$output" | tr '\n' ' ')" "create init start died cleanup remove " "{{json .}} too"
	run_skiff events --stream=false --filter type=image --format json
	is "$(jq -c '[.Status, (.ID | length)]' <<<"$output")" '["load",64]' "image record"
}

@test "events: --since and --until" {
	run_skiff run --rm --name early$TESTNUM "$IMAGE" true
	local mid
	mid=$(date +%s.%N)
	run_skiff run --rm --name late$TESTNUM "$IMAGE" true
	local end
	end=$(date +%s.%N)
	run_skiff events --stream=false --since "$mid" --filter event=create --format '{{.Name}}'
	is "$output" "late$TESTNUM" "--since a unix time"
	run_skiff events --stream=false --until "$mid" --filter event=create --format '{{.Name}}'
	is "$output" "early$TESTNUM" "--until a unix time"
	local rfc
	rfc=$(date -u -d "@$mid" +%Y-%m-%dT%H:%M:%S.%NZ)
	run_skiff events --stream=false --since "$rfc" --filter event=create --format '{{.Name}}'
	is "$output" "late$TESTNUM" "--since RFC 3339"
	run_skiff events --stream=false --since 1h --filter event=create --format '{{.Name}}'
	is "$output" "early$TESTNUM
late$TESTNUM" "--since a duration"
	run_skiff events --stream=false --until 1h
	is "$output" "" "--until an hour ago: nothing"
	# streaming with --until in the past: what is there, then it exits
	run_skiff events --since 1h --until "$end" --filter event=remove --format '{{.Name}}'
	is "$output" "early$TESTNUM
late$TESTNUM" "--until ends the stream"
	run_skiff 125 events --stream=false --since yesterday
	assert "$output" =~ "--since: invalid time \"yesterday\"" "bad --since: $output"
	run_skiff 125 events --until 10x
	assert "$output" =~ "--until: invalid time \"10x\"" "bad --until: $output"
}

# has_log_open PID: the process has the events log open
function has_log_open() {
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q "events/events.log$"
}

@test "events: streaming shows what happens after it started, until SIGTERM" {
	local out=$BATS_TEST_TMPDIR/events.out name=f$TESTNUM
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" events \
		--format '{{.Status}} {{.Name}}' >"$out" 2>&1 </dev/null &
	follower=$!
	wait_for has_log_open $follower
	run_skiff run --rm --name $name "$IMAGE" true
	wait_for grep -q "^remove $name$" "$out"
	kill -TERM $follower
	local st=0
	wait $follower || st=$?
	follower=
	assert "$st" -eq 0 "SIGTERM ends the stream cleanly"
	is "$(<"$out")" "create $name
init $name
start $name
died $name
cleanup $name
remove $name" "only the events after it started (not the load before)"
}

@test "events: the log rotates by size and stays readable" {
	export SKIFF_EVENTS_LOGFILE_MAX_SIZE=2k
	local i
	for i in $(seq 1 16); do
		run_skiff create --name c$TESTNUM-$i "$IMAGE" true
	done
	local log=$SKIFF_TEST_ROOT/root/events/events.log
	[ -f "$log.1" ] || die "no events.log.1 after 16 creates with a 2k limit"
	assert "$(stat -c %s "$log")" -le 2048 "events.log stays under the limit"
	assert "$(stat -c %s "$log.1")" -le 2048 "events.log.1 too"
	[ ! -e "$log.2" ] || die "only one old file is kept"
	run_skiff events --stream=false --filter event=create --format '{{.Name}}'
	assert "${lines[-1]}" = "c$TESTNUM-16" "the newest event is there: $output"
	assert "${#lines[@]}" -ge 6 "the old file is read too: $output"
	# in order: each name's number one more than the last
	local prev=0 n
	for i in "${lines[@]}"; do
		n=${i##*-}
		assert "$n" -eq $((prev == 0 ? n : prev + 1)) "in order: $output"
		prev=$n
	done
	unset SKIFF_EVENTS_LOGFILE_MAX_SIZE
	run_skiff rm -a
}
