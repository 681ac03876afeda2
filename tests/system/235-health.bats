#!/usr/bin/env bats
# Healthchecks, run by the container's monitor on its own timer: transitions, healthcheck
# run, timeouts, --health-on-failure, ps and inspect. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

# health NAME EXPECTED: true when the container's health status is EXPECTED
function health_is() {
	[ "$("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" inspect \
		--format '{{.State.Health.Status}}' "$1")" = "$2" ]
}

@test "healthcheck: starting, unhealthy after the retries, healthy again; ps and inspect" {
	run_skiff run -d --name h$TESTNUM --health-cmd 'test -e /tmp/ok' --health-interval 1s --health-retries 2 \
		"$IMAGE" sleep 1000
	run_skiff inspect --format '{{json .Config.Healthcheck}}' h$TESTNUM
	is "$output" '{"Test":["CMD-SHELL","test -e /tmp/ok"],"StartPeriod":0,"Interval":1000000000,"Timeout":30000000000,"Retries":2}' \
		"Config.Healthcheck"
	run_skiff ps --format '{{.Status}}'
	assert "$output" =~ "\((starting|unhealthy)\)$" "ps shows the health: $output"
	wait_for --timeout 20 health_is h$TESTNUM unhealthy
	run_skiff inspect --format '{{.State.Health.FailingStreak}}' h$TESTNUM
	assert "$output" -ge 2 "the failing streak counts the failures"
	run_skiff exec h$TESTNUM touch /tmp/ok
	wait_for --timeout 20 health_is h$TESTNUM healthy
	run_skiff inspect --format '{{.State.Health.FailingStreak}} {{len .State.Health.Log}}' h$TESTNUM
	assert "$output" =~ "^0 [2-5]$" "streak reset; the log keeps the last results: $output"
	run_skiff ps --format '{{.Status}}'
	assert "$output" =~ "\(healthy\)$" "ps: $output"
	run_skiff run -d --name plain$TESTNUM "$IMAGE" sleep 1000
	run_skiff ps --filter health=healthy --format '{{.Names}}'
	is "$output" "h$TESTNUM" "ps --filter health=healthy"
	run_skiff ps --filter health=none --format '{{.Names}}'
	is "$output" "plain$TESTNUM" "ps --filter health=none"
	run_skiff 125 ps --filter health=sick
	assert "$output" =~ "health is healthy, unhealthy, starting or none" "bad health filter: $output"
}

@test "healthcheck run: 0 when healthy, 1 and the state when not; errors" {
	run_skiff run -d --name r$TESTNUM --health-cmd 'cat /tmp/ok' --health-interval disable --health-retries 1 \
		"$IMAGE" sleep 1000
	run_skiff 1 healthcheck run r$TESTNUM
	is "$output" "unhealthy" "a failing check"
	run_skiff inspect --format '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' r$TESTNUM
	assert "$output" =~ "^1 cat: can't open '/tmp/ok'" "the check's exit code and output are kept: $output"
	run_skiff exec r$TESTNUM sh -c 'echo fine > /tmp/ok'
	run_skiff healthcheck run r$TESTNUM
	is "$output" "" "healthy: nothing printed"
	run_skiff ps --format '{{.Status}}' --filter name=r$TESTNUM
	assert "$output" =~ "\(healthy\)$" "ps: $output"
	run_skiff run -d --name n$TESTNUM "$IMAGE" sleep 1000
	run_skiff 125 healthcheck run n$TESTNUM
	assert "$output" =~ "has no defined healthcheck" "no healthcheck: $output"
	run_skiff stop -t 0 r$TESTNUM
	run_skiff 125 healthcheck run r$TESTNUM
	assert "$output" =~ "not running" "stopped: $output"
	run_skiff 125 healthcheck run nosuch$TESTNUM
}

@test "healthcheck: a check over its timeout fails; --no-healthcheck; bad flags" {
	run_skiff run -d --name t$TESTNUM --health-cmd 'sleep 30' --health-timeout 300ms --health-interval disable \
		--health-retries 1 "$IMAGE" sleep 1000
	run_skiff 1 healthcheck run t$TESTNUM
	is "$output" "unhealthy" "timed out"
	run_skiff inspect --format '{{range .State.Health.Log}}{{.Output}}{{end}}' t$TESTNUM
	is "$output" "command timed out" "the log says why"
	run_skiff run -d --name x$TESTNUM --no-healthcheck "$IMAGE" sleep 1000
	run_skiff inspect --format '{{.Config.Healthcheck.Test}}' x$TESTNUM
	is "$output" "[NONE]" "--no-healthcheck"
	run_skiff 125 run --health-cmd true --health-interval 5 "$IMAGE" true
	assert "$output" =~ "invalid duration \"5\"" "a duration needs a unit: $output"
	run_skiff 125 run --health-cmd true --health-on-failure explode "$IMAGE" true
	assert "$output" =~ "explode" "unknown action: $output"
	run_skiff 125 run --health-cmd true --no-healthcheck "$IMAGE" true
	assert "$output" =~ "both --no-healthcheck and --health-cmd" "conflicting flags: $output"
	run_skiff 125 run --health-cmd true --health-retries -1 "$IMAGE" true
}

@test "healthcheck: --health-on-failure kill and restart" {
	run_skiff run -d --name k$TESTNUM --health-cmd false --health-interval 1s --health-retries 1 \
		--health-on-failure kill "$IMAGE" sleep 1000
	wait_for --timeout 20 eval '[ "$("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" inspect --format "{{.State.Status}}" k$TESTNUM)" = exited ]'
	run_skiff inspect --format '{{.State.ExitCode}}' k$TESTNUM
	is "$output" "137" "killed when it turned unhealthy"
	# unhealthy in its first run only: each run appends a line to /tmp/starts
	run_skiff run -d --name s$TESTNUM --health-cmd 'test $(wc -l < /tmp/starts) -ge 2' --health-interval 1s \
		--health-retries 1 --health-on-failure restart "$IMAGE" sh -c 'trap "exit 0" TERM; echo run >> /tmp/starts; while :; do sleep 0.1; done'
	wait_for --timeout 20 health_is s$TESTNUM healthy
	run_skiff inspect --format '{{.State.Status}} {{.RestartCount}}' s$TESTNUM
	is "$output" "running 1" "restarted once, and healthy and running since"
}

@test "healthcheck: the image's HEALTHCHECK, overridden by flags and --no-healthcheck" {
	require_fixture healthy.docker.tar
	run_skiff load -q -i "$FIXTURES/healthy.docker.tar"
	local img=localhost/skiff-test/healthy:latest
	run_skiff run -d --name i$TESTNUM $img sleep 1000
	run_skiff inspect --format '{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}' i$TESTNUM
	is "$output" '["CMD-SHELL","test -e /tmp/ready"] 1000000000 1' "the image's healthcheck"
	wait_for --timeout 20 health_is i$TESTNUM unhealthy
	run_skiff exec i$TESTNUM touch /tmp/ready
	wait_for --timeout 20 health_is i$TESTNUM healthy
	run_skiff run -d --name o$TESTNUM --health-retries 5 --health-interval disable $img sleep 1000
	run_skiff inspect --format '{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}' o$TESTNUM
	is "$output" "0 5" "flags over the image's values"
	run_skiff run -d --name n$TESTNUM --no-healthcheck $img sleep 1000
	run_skiff 125 healthcheck run n$TESTNUM
	assert "$output" =~ "has no defined healthcheck" "--no-healthcheck drops the image's: $output"
}
