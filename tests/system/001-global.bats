#!/usr/bin/env bats
# Global flags, help for every command, version templates.

load helpers

@test "every command has working --help" {
	run_skiff __dump
	local names
	names=$(jq -r '.commands[] | select(.hidden | not) | .name' <<<"$output")
	assert "$(wc -l <<<"$names")" -ge 20 "the table lists the commands"
	while read -r name; do
		run_skiff $name --help
		is "${lines[0]}" ".+" "help of $name"
		assert "$output" =~ "Usage:" "usage of $name"
	done <<<"$names"
	run_skiff help images
	assert "$output" =~ "skiff images" "skiff help COMMAND"
	run_skiff 125 help nosuchcommand
}

@test "groups without a subcommand, version templates, log levels" {
	run_skiff 125 image
	assert "$output" =~ "missing command 'skiff image COMMAND'" "group alone"
	run_skiff version --format '{{.Client.Version}}'
	is "$output" "[0-9]+\.[0-9]+\.[0-9]+" "version template"
	run_skiff 125 --log-level bogus version
	assert "$output" =~ "log level \"bogus\"" "bad log level named"
	run_skiff --log-level debug version
}
