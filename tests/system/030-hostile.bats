#!/usr/bin/env bats
# Bad input: one clear line, a non-zero exit, and a store that is unchanged.

load helpers

# Sets $state to what the store holds.
function store_state() {
	run_skiff images -a --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}'
	state=$output
	run_skiff info --format '{{.Store.ImageStore.Number}}'
	state+=" n=$output"
}

@test "hostile archives are refused and leave the store unchanged" {
	require_fixture busybox.docker.tar
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	store_state
	local before=$state
	local n=0
	for f in "$FIXTURES"/hostile/*; do
		case "$f" in */README) continue ;; esac
		n=$((n + 1))
		run_skiff 125 load -i "$f"
		assert "${#lines[@]}" -eq 1 "one line of error for $(basename "$f"): $output"
		is "$output" "Error: .*" "error text for $(basename "$f")"
		store_state
		is "$state" "$before" "store unchanged after $(basename "$f")"
		# nothing landed outside the store
		local leaked=$(find "$SKIFF_TEST_ROOT" /tmp -maxdepth 2 -name 'skiff-escape*' 2>/dev/null)
		[ -z "$leaked" ] || die "$(basename "$f") wrote outside the layer: $leaked"
	done
	assert "$n" -ge 8 "hostile fixtures were tested"
	run_skiff system check
	is "$output" "" "system check is clean"
}

@test "path escapes are named in the error" {
	require_fixture hostile
	local f
	for f in "$FIXTURES"/hostile/*dotdot* "$FIXTURES"/hostile/*symlink*; do
		[ -e "$f" ] || continue
		run_skiff 125 load -i "$f"
		assert "$output" =~ "escapes|symlink|outside|invalid whiteout" "path problem named for $(basename "$f"): $output"
	done
}

@test "bad references and unknown images" {
	run_skiff 125 image inspect 'UPPER/Case'
	run_skiff 125 tag a b
	is "$output" "Error: a: image not known" "tag of unknown image"
	for ref in ':tag' 'a//b' 'a:' 'a b' 'a@sha256:short' 'x/-leading'; do
		run_skiff 125 image exists "$ref"
		is "$output" "Error: invalid reference format: .*" "bad reference $ref"
	done
	run_skiff 1 image exists nosuchimage
	run_skiff 125 load -i /nonexistent/file.tar
	assert "$output" =~ "/nonexistent/file.tar" "missing file named"
	run_skiff 125 load -i "$SKIFF_TEST_ROOT"
	assert "$output" =~ "directory" "a directory is not an archive"
}

@test "unknown commands and flags" {
	run_skiff 125 images --bogus
	is "$output" "Error: unknown flag: --bogus" "unknown flag"
	run_skiff 125 image bogus
	assert "$output" =~ "unrecognized command" "unknown subcommand"
	run_skiff 125 tag onlyone
	assert "$output" =~ "requires at least 2 arguments" "argument count"
}
