#!/usr/bin/env bats
# Log drivers and logs over several containers. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

@test "log drivers: k8s-file, json-file (k8s-file format, its own name), none, journald refused" {
	run_skiff run --name j$TESTNUM --log-driver json-file "$IMAGE" echo via-json
	run_skiff logs j$TESTNUM
	is "$output" "via-json" "json-file: logs reads it"
	run_skiff inspect --format '{{.HostConfig.LogConfig.Type}}' j$TESTNUM
	is "$output" "json-file" "the driver keeps its name"
	run_skiff inspect --format '{{.Id}}' j$TESTNUM
	local log=$SKIFF_TEST_ROOT/root/containers/$output/userdata/ctr.log
	assert "$(cat "$log")" =~ "stdout F via-json" "written in the k8s-file format"
	run_skiff run --name n$TESTNUM --log-driver none "$IMAGE" echo nothing
	is "$output" "nothing" "run still shows the output"
	run_skiff ? logs n$TESTNUM
	assert "$output" !~ "nothing" "--log-driver none keeps no log: $output"
	run_skiff 125 run --log-driver journald "$IMAGE" true
	assert "$output" =~ "journald" "journald is refused with its reason: $output"
	run_skiff 125 run --log-driver syslog "$IMAGE" true
	assert "$output" =~ "invalid value \"syslog\" for --log-driver" "unknown driver: $output"
}

@test "logs: several containers, --names, -f ends when the container exits" {
	run_skiff run --name a$TESTNUM "$IMAGE" echo from-a
	run_skiff run --name b$TESTNUM "$IMAGE" echo from-b
	run_skiff logs a$TESTNUM b$TESTNUM
	is "$output" $'a'$TESTNUM$' from-a\nb'$TESTNUM' from-b' "several containers: each line names its container"
	run_skiff logs --names a$TESTNUM
	is "$output" "a$TESTNUM from-a" "--names"
	run_skiff run -d --name f$TESTNUM "$IMAGE" sh -c 'for i in 1 2 3; do echo line$i; sleep 0.2; done'
	run_skiff logs -f f$TESTNUM
	is "$output" $'line1\nline2\nline3' "-f followed the log and ended with the container"
}
