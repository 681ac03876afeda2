#!/usr/bin/env bats
# skiff search (a registry's catalog), pull --all-tags, and two pulls of one image racing
# into one store (each layer fetched once). Root and rootless.

load helpers
load registry

function setup() {
	skiff_setup
	require_fixture busybox.oci.tar
	start_registry
	push_fixture_image library/busybox:1 >/dev/null
	push_fixture_image library/busybox:2 >/dev/null
	push_fixture_image tools/box:latest >/dev/null
}

function teardown() {
	stop_registry
	skiff_teardown
}

@test "search: the catalog, filtered by the term; --limit, --format, --list-tags" {
	run_skiff search "$REGISTRY/busy"
	is "${lines[0]}" "NAME *DESCRIPTION" "podman's header"
	is "${lines[1]}" "$REGISTRY/library/busybox *" "the matching repository"
	is "${#lines[@]}" 2 "only what matches"
	run_skiff search --format '{{.Name}}' "$REGISTRY/"
	is "$output" "$REGISTRY/library/busybox
$REGISTRY/tools/box" "every repository with an empty term"
	run_skiff search --limit 1 --format '{{.Name}}' "$REGISTRY/"
	is "$output" "$REGISTRY/library/busybox" "--limit"
	run_skiff search --format json "$REGISTRY/box"
	is "$(jq -r '.[0].Index' <<<"$output")" "$REGISTRY"
	run_skiff search --list-tags "$REGISTRY/library/busybox"
	is "${lines[0]}" "NAME *TAG"
	is "${lines[1]}" "$REGISTRY/library/busybox *1"
	is "${lines[2]}" "$REGISTRY/library/busybox *2"
	run_skiff 125 search --list-tags busybox
	assert "$output" =~ "--list-tags needs a full repository name"
	run_skiff 125 search --filter bogus=1 "$REGISTRY/x"
	assert "$output" =~ 'invalid filter "bogus=1"'
	local reg=$REGISTRY
	stop_registry
	run_skiff 125 search "$reg/x"
	assert "$output" =~ "searching $reg"
}

@test "search: unqualified-search-registries from registries.conf" {
	cat >"$BATS_TEST_TMPDIR/registries.conf" <<EOC
unqualified-search-registries = ["$REGISTRY"]
EOC
	CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/registries.conf run_skiff search --format "{{.Name}}" tools
	is "$output" "$REGISTRY/tools/box"
}

@test "pull --all-tags: every tag of a repository" {
	run_skiff --separate-stderr pull -q --all-tags "$REGISTRY/library/busybox"
	is "${#lines[@]}" 2 "two ids"
	run_skiff images --format '{{.Repository}}:{{.Tag}}' --sort tag
	is "$output" "$REGISTRY/library/busybox:1
$REGISTRY/library/busybox:2"
	run_skiff 125 pull --all-tags "$REGISTRY/library/busybox:1"
	assert "$output" =~ "must name a repository without tag or digest"
}

@test "pull: two pulls of one image race into one store; each blob is fetched once" {
	local log=$REGISTRY_DIR/registry.log
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" pull -q "$REGISTRY/library/busybox:1" \
		>"$BATS_TEST_TMPDIR/a" 2>&1 &
	local a=$!
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" pull -q "$REGISTRY/library/busybox:2" \
		>"$BATS_TEST_TMPDIR/b" 2>&1 &
	local b=$!
	wait $a || die "first pull failed: $(cat "$BATS_TEST_TMPDIR/a")"
	wait $b || die "second pull failed: $(cat "$BATS_TEST_TMPDIR/b")"
	is "$(cat "$BATS_TEST_TMPDIR/a")" "$(cat "$BATS_TEST_TMPDIR/b")" "the same image ID"
	local layers
	layers=$(jq -r '.layers[].digest' < <(curl -sS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"$REGISTRY_URL/v2/library/busybox/manifests/1"))
	for d in $layers; do
		is "$(grep -c "\"GET /v2/library/busybox/blobs/$d" "$log")" 1 "layer $d fetched once"
	done
	run_skiff images --format '{{.Tag}}' --sort tag
	is "$output" "1
2"
}

@test "pull: a short name with several candidates is asked on a terminal, and remembered" {
	skip_if_root "as root the choice is recorded in /var/cache/containers, outside the test's files"
	local conf=$BATS_TEST_TMPDIR/registries.conf
	cat >"$conf" <<EOC
unqualified-search-registries = ["127.0.0.1:1", "$REGISTRY"]
EOC
	export CONTAINERS_REGISTRIES_CONF=$conf XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache
	run timeout 60 "$BATS_TEST_DIRNAME/ptyrun" 'expect:Choose 1-2: ' 'send:2\n' 'expect:Recorded' -- \
		"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" pull tools/box
	echo "$output"
	[ "$status" -eq 0 ] || die "pull on a terminal failed"
	assert "$output" =~ "1\) 127.0.0.1:1/tools/box" "the candidates are listed"
	assert "$output" =~ "2\) $REGISTRY/tools/box"
	grep -q "\"tools/box\" = \"$REGISTRY/tools/box\"" "$XDG_CACHE_HOME/containers/short-name-aliases.conf" ||
		die "the choice is not in the alias cache"
	# the next pull uses the alias without asking
	run_skiff pull tools/box
	assert "$output" =~ "Resolved \"tools/box\" as an alias \($XDG_CACHE_HOME/containers/short-name-aliases.conf\)"
	# without a terminal, permissive mode tries the candidates in order
	rm -f "$XDG_CACHE_HOME/containers/short-name-aliases.conf"
	run_skiff --separate-stderr pull -q tools/box
	assert "$output" =~ '^[0-9a-f]{64}$'
}

@test "pull: progress on a terminal redraws a line per blob; plain lines otherwise" {
	run timeout 60 "$BATS_TEST_DIRNAME/ptyrun" 'expect:Writing manifest' -- \
		"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" pull "$REGISTRY/library/busybox:1"
	echo "$output"
	[ "$status" -eq 0 ] || die "pull on a terminal failed"
	assert "$output" =~ $'\e\[K' "lines are redrawn"
	assert "$output" =~ "Copying blob [0-9a-f]{12} done" "each blob ends done"
	run_skiff rmi -af
	run_skiff --separate-stderr pull "$REGISTRY/library/busybox:1"
	assert "$stderr" =~ "Copying blob sha256:[0-9a-f]{64}" "plain lines name the blob"
	assert "$stderr" !~ $'\e' "no escape sequences off a terminal"
}
