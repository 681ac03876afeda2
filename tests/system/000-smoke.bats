#!/usr/bin/env bats
# Smoke: the binary runs, prints its version and help, and rejects what it does not know.

load helpers

@test "skiff version" {
	run_skiff version
	is "${lines[0]}" "Version: +[0-9]+\.[0-9]+\.[0-9]+.*" "first line of skiff version"
	assert "$output" =~ "OS/Arch: +linux/" "skiff version shows OS/Arch"

	run_skiff --version
	is "$output" "skiff version [0-9]+\.[0-9]+\.[0-9]+.*" "skiff --version"
	local v=${output#skiff version }

	run_skiff version --format json
	run jq -r .Client.Version <<<"$output"
	assert "$status" -eq 0 "skiff version --format json is JSON"
	is "$output" "$v" "JSON Client.Version equals --version"
}

@test "skiff version and --help do not create the store" {
	local dir=$SKIFF_TEST_ROOT/t$TESTNUM-nostore
	run timeout 30 "$SKIFF" --root "$dir/root" --runroot "$dir/runroot" version
	assert "$status" -eq 0 "skiff version exits 0"
	run timeout 30 "$SKIFF" --root "$dir/root" --runroot "$dir/runroot" --help
	assert "$status" -eq 0 "skiff --help exits 0"
	assert "$(ls -A "$SKIFF_TEST_ROOT")" !~ "t$TESTNUM-nostore" "no store directory was created"
}

@test "skiff --help" {
	run_skiff --help
	assert "$output" =~ "Usage:" "--help shows usage"
	assert "$output" =~ "Available Commands:" "--help lists commands"
	assert "$output" =~ $'\n  version ' "--help lists the version command"
	assert "$output" =~ "--root" "--help lists global options"

	run_skiff help
	assert "$output" =~ "Available Commands:" "skiff help lists commands"

	run_skiff help version
	assert "$output" =~ "Usage:" "skiff help version shows usage"
	assert "$output" =~ "skiff version" "skiff help version names the command"

	run_skiff version --help
	assert "$output" =~ "--format" "skiff version --help lists its options"
}

@test "skiff without a command shows usage and fails" {
	run_skiff 125
	assert "$output" =~ "Usage:" "usage is shown"
}

@test "unknown command" {
	local bogus=nosuchcommand$TESTNUM
	run_skiff 125 "$bogus"
	assert "$output" =~ "unrecognized command \`skiff $bogus\`" "error names the command"

	run_skiff 125 help "$bogus"
	assert "$output" =~ "$bogus" "skiff help names the unknown command"
}

@test "unknown options and stray arguments" {
	run_skiff 125 "--no-such-flag-$TESTNUM" version
	assert "$output" =~ "no-such-flag-$TESTNUM" "error names the unknown global flag"

	run_skiff 125 version "--no-such-flag-$TESTNUM"
	assert "$output" =~ "no-such-flag-$TESTNUM" "error names the unknown command flag"

	run_skiff 125 version "extra-arg-$TESTNUM"
	assert "$output" =~ "takes no arguments" "stray argument is rejected"
}
