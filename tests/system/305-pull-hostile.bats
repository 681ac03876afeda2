#!/usr/bin/env bats
# skiff pull against a registry that misbehaves on purpose (tests/fixtures/hostile-registry.py):
# corrupt, truncated, missing and endless content, redirect loops, rate limits, server
# errors. Each failure is one clear error, exit 125, and nothing half-stored; the
# transient ones succeed after retries. Root and rootless.

load helpers
load registry

function setup_file() {
	skiff_setup_file
	start_hostile_registry
}

function teardown_file() {
	stop_registry
	skiff_teardown_file
}

function setup() {
	skiff_setup
	require_fixture busybox.oci.tar
	export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/registries.conf
	: >"$CONTAINERS_REGISTRIES_CONF"
	export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/no-auth.json
}

function teardown() {
	stop_registry
	skiff_teardown
}

BUSYBOX_ID=557741252016c3da4a6ff8d55a19039dabd9fa863d9bd7c59067c273fa1399e1

# assert_nothing_stored: no image, no layer, nothing in staging
function assert_nothing_stored() {
	run_skiff images -qa
	is "$output" "" "no image stored"
	local d
	for d in layers tmp; do
		if [ -d "$SKIFF_TEST_ROOT/root/$d" ]; then
			is "$(ls -A "$SKIFF_TEST_ROOT/root/$d")" "" "nothing left in $d/"
		fi
	done
}

# pull_fails MODE [REF-SUFFIX] [PULL-OPTIONS...]: pull hostile/MODE (":latest" or the
# suffix given) expecting exit 125 and exactly one error line; sets $err_line.
function pull_fails() {
	local mode=$1 suffix=${2:-:latest}
	shift $(($# < 2 ? $# : 2))
	run_skiff 125 pull --retry-delay 100ms "$@" "$HOSTILE/hostile/$mode$suffix"
	err_line=$(grep '^Error: ' <<<"$output")
	is "$(grep -c '^Error: ' <<<"$output")" 1 "exactly one error line in: $output"
	assert "$err_line" =~ "hostile/$mode" "the error names the image: $err_line"
	assert_nothing_stored
}

# requests REPO: the hostile registry's record of the requests under REPO
function requests() {
	curl -sS --max-time 10 "$HOSTILE_URL/_hostile/requests/$1"
}

@test "hostile: the well-behaved image pulls (the baseline)" {
	run_skiff pull -q "$HOSTILE/hostile/img:latest"
	is "$output" "$BUSYBOX_ID"
	run_skiff run --rm "$HOSTILE/hostile/img:latest" echo baseline
	is "$output" "baseline"
}

@test "hostile: bad-blob-digest: a blob whose bytes do not match its digest" {
	pull_fails bad-blob-digest
	assert "$err_line" =~ "digest" "says digest: $err_line"
	assert "$err_line" =~ "mismatch|does not match|expected" "says it does not match: $err_line"
}

@test "hostile: truncated-blob: a blob that ends early" {
	pull_fails truncated-blob :latest --retry 2
	assert "$err_line" =~ "sha256:[0-9a-f]{12}" "names the blob: $err_line"
	assert "$err_line" =~ "partial|short|truncated|ended|transfer closed|end of" "says it ended early: $err_line"
}

@test "hostile: blob-404: a blob the registry does not have" {
	pull_fails blob-404
	assert "$err_line" =~ "blob unknown" "the registry's message: $err_line"
}

@test "hostile: redirect-loop on a blob" {
	pull_fails redirect-loop
	assert "$err_line" =~ "redirect" "says redirects: $err_line"
}

@test "hostile: huge-manifest (100 MiB) and endless-manifest are refused" {
	SKIFF_TIMEOUT=30 pull_fails huge-manifest
	assert "$err_line" =~ "manifest" "$err_line"
	assert "$err_line" =~ "bigger than|too big|too large|exceeds" "says too big: $err_line"
	SKIFF_TIMEOUT=30 pull_fails endless-manifest
	assert "$err_line" =~ "bigger than|too big|too large|exceeds" "says too big: $err_line"
}

@test "hostile: bad-manifest-digest, pulled by digest" {
	pull_fails bad-manifest-digest "@$HOSTILE_DIGEST"
	assert "$err_line" =~ "$HOSTILE_DIGEST" "names the digest asked for: $err_line"
	assert "$err_line" =~ "digest" "$err_line"
}

@test "hostile: wrong-media-type: the content's own media type wins" {
	# Content-Type says Docker schema2, the body is an OCI manifest (mediaType says so)
	run_skiff pull -q "$HOSTILE/hostile/wrong-media-type:latest"
	is "$output" "$BUSYBOX_ID" "pulled: the manifest is read as what it says it is"
	run_skiff image inspect --format '{{.ManifestType}}' "$HOSTILE/hostile/wrong-media-type:latest"
	is "$output" "application/vnd.oci.image.manifest.v1+json"
}

@test "hostile: http-429 and 500-then-ok succeed after retries" {
	local repo t0 first
	repo=hostile/http-429/t$(random_string 6)
	t0=$SECONDS
	run_skiff --separate-stderr pull --retry-delay 100ms "$HOSTILE/$repo:latest"
	is "$output" "$BUSYBOX_ID" "429 twice, then pulled"
	run requests "$repo"
	is "${lines[0]}" "GET /v2/$repo/manifests/latest 429"
	is "${lines[1]}" "GET /v2/$repo/manifests/latest 429"
	is "${lines[2]}" "GET /v2/$repo/manifests/latest 200" "the third try succeeds: $output"
	is "$(grep -c ' 429$' <<<"$output")" 2 "429 twice, then no more"
	assert $((SECONDS - t0)) -ge 2 "Retry-After: 1 was honoured (twice)"

	first=$repo
	repo=hostile/500-then-ok/t$(random_string 6)
	t0=$SECONDS
	run_skiff pull -q --retry-delay 100ms "$HOSTILE/$repo:latest"
	is "$output" "$BUSYBOX_ID" "500 twice, then pulled"
	run requests "$repo"
	is "$(grep -c ' 500$' <<<"$output")" 2 "two 500s: $output"
	is "${lines[2]}" "GET /v2/$repo/manifests/latest 200" "then the manifest: $output"
	assert $((SECONDS - t0)) -lt 5 "--retry-delay 100ms kept it short"
	run_skiff images --format '{{.Repository}}' --sort repository
	is "$output" "$HOSTILE/$repo
$HOSTILE/$first" "both stored"
}

@test "hostile: --retry 0 gives up at the first 429 / 500" {
	local repo
	repo=hostile/http-429/t$(random_string 6)
	pull_fails "http-429/${repo##*/}" :latest --retry 0
	assert "$err_line" =~ "toomanyrequests: too many requests" "the registry's message: $err_line"
	run requests "$repo"
	is "$output" "GET /v2/$repo/manifests/latest 429" "one request, no retry"
	repo=hostile/500-then-ok/t$(random_string 6)
	pull_fails "500-then-ok/${repo##*/}" :latest --retry 1
	assert "$err_line" =~ "unknown error" "the registry's message: $err_line"
	run requests "$repo"
	is "$output" "GET /v2/$repo/manifests/latest 500
GET /v2/$repo/manifests/latest 500" "two requests: one retry"
}

@test "hostile: error-401, error-403, error-404 show the registry's message" {
	pull_fails error-401
	assert "$err_line" =~ "authentication required" "$err_line"
	pull_fails error-403
	assert "$err_line" =~ "denied: requested access to the resource is denied" "$err_line"
	pull_fails error-404
	assert "$err_line" =~ "manifest unknown" "$err_line"
	# none of them is worth retrying
	run requests hostile/error-403
	is "$(grep -c manifests <<<"$output")" 1 "403 is not retried: $output"
}

# The hostile modes spoil every blob, the config too, which is fetched first: these two
# spoil one layer of four in a real registry's storage, so that the other layers are
# downloaded and unpacked before the failure, and must not stay.

# start_reg: start_registry without REGISTRY_AUTH_FILE, which docker-registry would read
# as its own configuration (auth.file)
function start_reg() {
	local saved=${REGISTRY_AUTH_FILE-} rc=0
	unset REGISTRY_AUTH_FILE
	start_registry || rc=$?
	export REGISTRY_AUTH_FILE=$saved
	return $rc
}

# blob_file DIGEST: the registry's file for a blob
function blob_file() {
	local h=${1#sha256:}
	echo "$REGISTRY_DIR/storage/docker/registry/v2/blobs/sha256/${h:0:2}/$h/data"
}

@test "hostile: a corrupt layer among good ones: nothing stays" {
	start_reg
	local md last f size
	md=$(push_fixture_image skiff-test/multi:latest "$FIXTURES/multilayer.oci.tar")
	last=$(registry_curl -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		"/v2/skiff-test/multi/manifests/$md" | jq -r '.layers[-1].digest')
	f=$(blob_file "$last")
	[ -f "$f" ] || die "no blob file $f"
	size=$(stat -c %s "$f")
	# same length, other bytes in the middle
	printf 'skiff-was-here' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
	run_skiff 125 pull "$REGISTRY/skiff-test/multi:latest"
	is "$(grep -c '^Error: ' <<<"$output")" 1 "one error: $output"
	assert "$output" =~ "${last}|${last:7:12}" "names the layer: $output"
	assert_nothing_stored

	# a layer shorter than its descriptor says
	push_fixture_image skiff-test/multi:latest "$FIXTURES/multilayer.oci.tar" >/dev/null
	truncate -s $((size / 2)) "$f"
	run_skiff 125 pull --retry 1 --retry-delay 100ms "$REGISTRY/skiff-test/multi:latest"
	is "$(grep -c '^Error: ' <<<"$output")" 1 "one error: $output"
	assert "$output" =~ "${last}|${last:7:12}" "names the layer: $output"
	assert_nothing_stored
	# and a layer that is missing
	rm -f "$f"
	run_skiff 125 pull --retry 0 "$REGISTRY/skiff-test/multi:latest"
	assert "$output" =~ "blob unknown|unknown blob|${last}" "$output"
	assert_nothing_stored
}

@test "hostile: slow, but fast enough, works" {
	# a second server for this test: slow at 4 MB/s, above the client's low-speed limit
	start_hostile_registry slow --slow-rate 4000000
	run_skiff pull -q "$HOSTILE_IMAGE"
	is "$output" "$BUSYBOX_ID"
}

@test "hostile: slow below the low-speed limit times out" {
	skip "the registry client's low-speed timeout (1 KiB/s for 30 s, pkg/registry/client.c) is not configurable: too slow for this suite"
}
