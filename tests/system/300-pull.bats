#!/usr/bin/env bats
# skiff pull and run --pull against real registries on 127.0.0.1 (registry.bash): plain
# HTTP, TLS, htpasswd and token auth, registries.conf (short names, aliases, rewrites,
# blocking, mirrors), platform choice from an index, the --pull policies. Root and rootless.

load helpers
load registry

# docker-registry takes any REGISTRY_* variable of its environment as configuration
# (REGISTRY_AUTH_FILE would be its auth.file): start registries without it.
function start_reg() {
	local saved=${REGISTRY_AUTH_FILE-} rc=0
	unset REGISTRY_AUTH_FILE
	start_registry "$@" || rc=$?
	export REGISTRY_AUTH_FILE=$saved
	return $rc
}

BUSYBOX_ID=557741252016c3da4a6ff8d55a19039dabd9fa863d9bd7c59067c273fa1399e1
MULTI_ID=adc25f1b068553d654150252e3f7b9768f23c11ee912f43d51295e7e15783fa1

# One plain registry for the file, holding busybox and multi; tests that need another
# kind start their own (REGISTRY* then name it; PLAIN keeps the file's).
function setup_file() {
	skiff_setup_file
	start_reg
	BUSYBOX_DIGEST=$(push_fixture_image skiff-test/busybox:latest)
	push_fixture_image skiff-test/multi:latest "$FIXTURES/multilayer.oci.tar" >/dev/null
	export PLAIN=$REGISTRY BUSYBOX_DIGEST
}

function teardown_file() {
	stop_registry
	skiff_teardown_file
}

# Every test reads only its own registries.conf and auth file.
function setup() {
	skiff_setup
	require_fixture busybox.oci.tar
	export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/registries.conf
	: >"$CONTAINERS_REGISTRIES_CONF"
	export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/no-auth.json
	# the file's registry, unless the test starts its own
	export REGISTRY=$PLAIN REGISTRY_URL=http://$PLAIN
}

function teardown() {
	stop_registry
	skiff_teardown
}

# conf TEXT: the test's registries.conf
function conf() {
	printf '%s\n' "$1" >"$CONTAINERS_REGISTRIES_CONF"
}

# assert_nothing_stored: no image, no layer, nothing in staging
function assert_nothing_stored() {
	run_skiff images -q
	is "$output" "" "no image stored"
	local layers=$SKIFF_TEST_ROOT/root/layers
	if [ -d "$layers" ]; then
		is "$(ls -A "$layers")" "" "no layer left in $layers"
	fi
	if [ -d "$SKIFF_TEST_ROOT/root/tmp" ]; then
		is "$(ls -A "$SKIFF_TEST_ROOT/root/tmp")" "" "nothing left in staging"
	fi
}

# image_id REF: the full id of a stored image
function image_id() {
	run_skiff image inspect --format '{{.Id}}' "$1"
}

# one_error: the output holds exactly one "Error:" line; sets $err_line
function one_error() {
	err_line=$(grep '^Error: ' <<<"$output")
	is "$(grep -c '^Error: ' <<<"$output")" 1 "exactly one error line in: $output"
}

# ---------------------------------------------------------------------------
# plain HTTP

@test "pull: by tag over plain HTTP, again (skipped), -q, by digest; run the image" {
	local ref=$PLAIN/skiff-test/busybox:latest
	run_skiff --separate-stderr pull "$ref"
	is "$output" "$BUSYBOX_ID" "stdout: the image id, nothing else"
	assert "$stderr" =~ "Trying to pull $ref\.\.\." "progress on stderr"
	assert "$stderr" =~ "Copying blob sha256:[0-9a-f]{64}" "the layer was downloaded"
	assert "$stderr" =~ "Writing manifest to image destination"
	run_skiff images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	is "$output" "$PLAIN/skiff-test/busybox:latest ${BUSYBOX_ID:0:12}" "images lists it"
	run_skiff image inspect --format '{{.Digest}}' "$ref"
	is "$output" "$BUSYBOX_DIGEST" "the manifest digest is recorded"
	run_skiff run --rm "$ref" sh -c 'echo pulled-and-ran; cat /etc/hostname >/dev/null'
	is "$output" "pulled-and-ran" "the pulled image runs"

	run_skiff --separate-stderr pull "$ref"
	is "$output" "$BUSYBOX_ID" "the same id"
	assert "$stderr" =~ "Copying blob [0-9a-f]{12} skipped: already exists" "second pull: $stderr"
	is "$(grep -c 'Copying blob sha256:' <<<"$stderr")" 0 "second pull: nothing downloaded"

	run_skiff --separate-stderr pull -q "$ref"
	is "$output" "$BUSYBOX_ID" "-q: only the id"
	is "$stderr" "" "-q: no progress"

	run_skiff rmi -a
	run_skiff --separate-stderr pull "$PLAIN/skiff-test/busybox@$BUSYBOX_DIGEST"
	is "$output" "$BUSYBOX_ID" "pull by digest"
	assert "$stderr" =~ "Trying to pull $PLAIN/skiff-test/busybox@$BUSYBOX_DIGEST"
	assert "$stderr" =~ "Copying blob sha256:" "downloaded again after rmi"
	run_skiff image inspect --format '{{.Digest}}' "$BUSYBOX_ID"
	is "$output" "$BUSYBOX_DIGEST"

	# several images in one command: one id a line
	run_skiff --separate-stderr pull -q "$PLAIN/skiff-test/busybox:latest" "$PLAIN/skiff-test/multi"
	is "$output" "$BUSYBOX_ID
$MULTI_ID" "two images, two ids"
}

@test "pull: layers already in the store are not fetched again" {
	run_skiff pull -q "$PLAIN/skiff-test/busybox"
	is "$(ls "$SKIFF_TEST_ROOT/root/layers" | wc -l)" 1 "one layer"
	run_skiff --separate-stderr pull "$PLAIN/skiff-test/multi:latest"
	is "$output" "$MULTI_ID"
	# the multi image's base layer is busybox's layer
	is "$(grep -c 'skipped: already exists' <<<"$stderr")" 1 "the shared layer is skipped: $stderr"
	is "$(grep -c '^Copying blob sha256:' <<<"$stderr")" 3 "the three others are downloaded: $stderr"
	is "$(ls "$SKIFF_TEST_ROOT/root/layers" | wc -l)" 4 "four layers in the store"
	run_skiff run --rm "$PLAIN/skiff-test/multi" cat /data/file1.txt
	assert "$output" "the top layers are there"
	run_skiff images --format '{{.Repository}}' --sort repository
	is "$output" "$PLAIN/skiff-test/busybox
$PLAIN/skiff-test/multi"
}

@test "pull: a registry that is not there (closed port)" {
	run_skiff 125 pull "127.0.0.1:1/skiff-test/busybox:latest"
	one_error
	assert "$err_line" =~ "127\.0\.0\.1:1" "names the registry: $err_line"
	assert "$err_line" =~ "connect" "says it could not connect: $err_line"
	assert_nothing_stored
	run_skiff 125 pull "$PLAIN/skiff-test/no-such-image:latest"
	one_error
	assert "$err_line" =~ "no-such-image" "names the image: $err_line"
	assert "$err_line" =~ "manifest unknown|not found|name unknown" "says what: $err_line"
	assert_nothing_stored
}

@test "pull: by digest, the image is known by NAME@DIGEST" {
	run_skiff pull -q "$PLAIN/skiff-test/busybox@$BUSYBOX_DIGEST"
	run_skiff images --format '{{.Repository}} {{.Tag}}'
	is "$output" "$PLAIN/skiff-test/busybox <none>"
	image_id "$PLAIN/skiff-test/busybox@$BUSYBOX_DIGEST"
	is "$output" "$BUSYBOX_ID"
	run_skiff image inspect --format '{{.RepoDigests}}' "$BUSYBOX_ID"
	assert "$output" =~ "$PLAIN/skiff-test/busybox@$BUSYBOX_DIGEST"
	run_skiff --separate-stderr run --rm "$PLAIN/skiff-test/busybox@$BUSYBOX_DIGEST" true
	is "$stderr" "" "run --pull=missing finds it: no second pull"
}

# ---------------------------------------------------------------------------
# TLS and authentication

@test "pull: TLS: certificate error without the CA; --cert-dir; --tls-verify=false" {
	start_reg --tls
	push_fixture_image skiff-test/busybox:latest >/dev/null
	local ref=$REGISTRY/skiff-test/busybox:latest
	run_skiff 125 pull "$ref"
	one_error
	assert "$err_line" =~ "certificate" "a certificate error: $err_line"
	assert "$err_line" =~ "$REGISTRY" "names the registry: $err_line"
	assert_nothing_stored

	run_skiff pull -q --cert-dir "$REGISTRY_CERT_DIR" "$ref"
	is "$output" "$BUSYBOX_ID" "--cert-dir with the CA"
	run_skiff rmi -a
	run_skiff pull -q --tls-verify=false "$ref"
	is "$output" "$BUSYBOX_ID" "--tls-verify=false"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	is "$output" "$ref"
	# certs.d in the standard place is not read with --cert-dir pointing elsewhere
	run_skiff rmi -a
	run_skiff 125 pull -q --cert-dir "$BATS_TEST_TMPDIR" "$ref"
	assert "$output" =~ "certificate" "an empty --cert-dir: $output"
	assert_nothing_stored
}

@test "pull: htpasswd: no credentials, --creds, login --authfile, wrong password" {
	start_reg --htpasswd
	push_fixture_image skiff-test/busybox:latest >/dev/null
	local ref=$REGISTRY/skiff-test/busybox:latest
	run_skiff 125 pull "$ref"
	one_error
	assert "$err_line" =~ "authentication required" "names authentication: $err_line"
	assert_nothing_stored

	run_skiff 125 pull --creds "$REGISTRY_USER:wrong-$REGISTRY_PASS" "$ref"
	one_error
	assert "$err_line" =~ "unauthorized|authentication" "wrong password: $err_line"
	assert_nothing_stored

	run_skiff pull -q --creds "$REGISTRY_USER:$REGISTRY_PASS" "$ref"
	is "$output" "$BUSYBOX_ID" "--creds"
	run_skiff rmi -a

	local authfile=$BATS_TEST_TMPDIR/auth.json
	run_skiff login --authfile "$authfile" -u "$REGISTRY_USER" -p "$REGISTRY_PASS" "$REGISTRY"
	assert "$output" =~ "Login Succeeded"
	[ -f "$authfile" ] || die "login wrote no $authfile"
	run_skiff pull -q --authfile "$authfile" "$ref"
	is "$output" "$BUSYBOX_ID" "pull --authfile after login"
	run_skiff rmi -a
	REGISTRY_AUTH_FILE=$authfile run_skiff pull -q "$ref"
	is "$output" "$BUSYBOX_ID" "\$REGISTRY_AUTH_FILE"
	# --creds beats the auth file
	run_skiff 125 pull -q --authfile "$authfile" --creds "$REGISTRY_USER:nope" "$REGISTRY/skiff-test/busybox:latest"
	assert "$output" =~ "unauthorized|authentication"
}

@test "pull: token auth: no credentials, --creds, the token's scope" {
	start_reg --token
	push_fixture_image skiff-test/busybox:latest >/dev/null
	curl -sS -X POST "$REGISTRY_TOKEN_URL/_token/reset" >/dev/null 2>&1 || true
	local ref=$REGISTRY/skiff-test/busybox:latest
	run_skiff 125 pull "$ref"
	one_error
	assert "$err_line" =~ "unauthorized|authentication" "names authentication: $err_line"
	assert_nothing_stored
	run_skiff 125 pull --creds "$REGISTRY_USER:wrong" "$ref"
	one_error
	assert "$err_line" =~ "token" "the token server refused: $err_line"
	assert "$err_line" =~ "invalid username or password" "the token server's message: $err_line"
	assert_nothing_stored
	run_skiff pull -q --creds "$REGISTRY_USER:$REGISTRY_PASS" "$ref"
	is "$output" "$BUSYBOX_ID" "--creds"
	run curl -sS "$REGISTRY_TOKEN_URL/_token/requests"
	grep -qx "$REGISTRY_USER repository:skiff-test/busybox:pull" <<<"$output" ||
		die "no pull-only token for the repository, as the user: $output"
	run_skiff rmi -a
	run_skiff pull -q --authfile "$REGISTRY_AUTHFILE" "$ref"
	is "$output" "$BUSYBOX_ID" "--authfile"
}

@test "pull: token auth with anonymous pull" {
	start_reg --token --anonymous-pull
	push_fixture_image skiff-test/busybox:latest >/dev/null
	run_skiff pull -q "$REGISTRY/skiff-test/busybox:latest"
	is "$output" "$BUSYBOX_ID" "no credentials needed"
	run curl -sS "$REGISTRY_TOKEN_URL/_token/requests"
	grep -qx -- "- repository:skiff-test/busybox:pull" <<<"$output" || die "no anonymous pull token: $output"
	! grep -qx "$REGISTRY_USER repository:skiff-test/busybox:pull" <<<"$output" || die "skiff had no credentials: $output"
	run_skiff run --rm "$REGISTRY/skiff-test/busybox:latest" echo anonymous
	is "$output" "anonymous"
}

# ---------------------------------------------------------------------------
# registries.conf

@test "registries.conf: unqualified-search-registries, first a closed port" {
	conf "unqualified-search-registries = [\"127.0.0.1:1\", \"$PLAIN\"]
short-name-mode = \"permissive\""
	run_skiff --separate-stderr pull skiff-test/busybox
	is "$output" "$BUSYBOX_ID" "resolved on the second registry"
	assert "$stderr" =~ "Trying to pull 127\.0\.0\.1:1/skiff-test/busybox:latest\.\.\." "tried the first: $stderr"
	assert "$stderr" =~ "Trying to pull $PLAIN/skiff-test/busybox:latest\.\.\." "then the second: $stderr"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	is "$output" "$PLAIN/skiff-test/busybox:latest" "stored under the full name"
	run_skiff run --rm skiff-test/busybox echo short
	is "$output" "short" "the short name finds it"

	# neither has it: both errors
	run_skiff 125 pull skiff-test/nonesuch
	assert "$output" =~ "2 errors occurred while pulling" "$output"
	assert "$output" =~ "127\.0\.0\.1:1/skiff-test/nonesuch" "$output"
	assert "$output" =~ "$PLAIN/skiff-test/nonesuch" "$output"

	# enforcing, more than one candidate, no terminal
	conf "unqualified-search-registries = [\"127.0.0.1:1\", \"$PLAIN\"]
short-name-mode = \"enforcing\""
	run_skiff 125 pull skiff-test/multi
	assert "$output" =~ "cannot prompt without a TTY" "$output"
	# no search registries
	conf "unqualified-search-registries = []"
	run_skiff 125 pull skiff-test/multi
	assert "$output" =~ "did not resolve to an alias and no unqualified-search registries" "$output"
	assert "$output" =~ "$CONTAINERS_REGISTRIES_CONF" "names the file: $output"
}

@test "registries.conf: [aliases]" {
	conf "[aliases]
\"bb\" = \"$PLAIN/skiff-test/busybox\"
\"multi-alias\" = \"$PLAIN/skiff-test/multi\""
	run_skiff --separate-stderr pull bb
	is "$output" "$BUSYBOX_ID"
	assert "$stderr" =~ "Trying to pull $PLAIN/skiff-test/busybox:latest" "$stderr"
	run_skiff pull -q multi-alias
	is "$output" "$MULTI_ID"
	run_skiff images --format '{{.Repository}}:{{.Tag}}' --sort repository
	is "$output" "$PLAIN/skiff-test/busybox:latest
$PLAIN/skiff-test/multi:latest" "stored under the alias' names"
}

@test "registries.conf: [[registry]] prefix and location rewrite; blocked" {
	conf "[[registry]]
prefix = \"example.invalid/skiff\"
location = \"$PLAIN/skiff-test\""
	run_skiff --separate-stderr pull example.invalid/skiff/busybox:latest
	is "$output" "$BUSYBOX_ID" "fetched from the rewritten location"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	is "$output" "example.invalid/skiff/busybox:latest" "stored under the name asked for"
	run_skiff rmi -a

	conf "[[registry]]
location = \"$PLAIN\"
blocked = true"
	run_skiff 125 pull "$PLAIN/skiff-test/busybox"
	one_error
	assert "$err_line" =~ "blocked" "$err_line"
	assert "$err_line" =~ "$CONTAINERS_REGISTRIES_CONF" "names the file: $err_line"
	assert_nothing_stored
	# a blocked prefix, the rest of the registry is fine
	conf "[[registry]]
prefix = \"$PLAIN/skiff-test/multi\"
location = \"$PLAIN/skiff-test/multi\"
blocked = true"
	run_skiff 125 pull "$PLAIN/skiff-test/multi"
	assert "$output" =~ "blocked"
	run_skiff pull -q "$PLAIN/skiff-test/busybox"
	is "$output" "$BUSYBOX_ID"
}

@test "registries.conf: a mirror that serves, a mirror that is down" {
	# a second registry: the primary; it has nothing, the file's registry is its mirror
	start_reg
	local primary=$REGISTRY
	conf "[[registry]]
location = \"$primary\"
[[registry.mirror]]
location = \"$PLAIN\""
	run_skiff --separate-stderr pull "$primary/skiff-test/busybox:latest"
	is "$output" "$BUSYBOX_ID" "served by the mirror"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	is "$output" "$primary/skiff-test/busybox:latest" "stored under the primary's name"
	run_skiff rmi -a

	# the mirror is down: the primary serves
	push_fixture_image skiff-test/multi:latest "$FIXTURES/multilayer.oci.tar" >/dev/null
	conf "[[registry]]
location = \"$primary\"
[[registry.mirror]]
location = \"127.0.0.1:1\""
	run_skiff pull -q "$primary/skiff-test/multi:latest"
	is "$output" "$MULTI_ID" "fell back to the primary"
	# neither has it
	run_skiff 125 pull "$primary/skiff-test/busybox:latest"
	assert "$output" =~ "127\.0\.0\.1:1" "the mirror's error: $output"
	assert "$output" =~ "manifest unknown" "the primary's error: $output"
}

@test "registries.conf: malformed -> error naming file and line" {
	conf "unqualified-search-registries = [\"$PLAIN\"]
[[registry]]
location = \"$PLAIN\"
insecure = \"yes\""
	run_skiff 125 pull "$PLAIN/skiff-test/busybox"
	one_error
	assert "$err_line" =~ "$CONTAINERS_REGISTRIES_CONF" "names the file: $err_line"
	assert "$err_line" =~ "line [34]" "names the line: $err_line"
	assert "$err_line" =~ "insecure" "names the key: $err_line"
	conf "unqualified-search-registries = [\"$PLAIN\""
	run_skiff 125 pull "$PLAIN/skiff-test/busybox"
	assert "$output" =~ "$CONTAINERS_REGISTRIES_CONF.*line 1" "names file and line: $output"
	assert_nothing_stored
	rm "$CONTAINERS_REGISTRIES_CONF"
	run_skiff 125 pull "$PLAIN/skiff-test/busybox"
	assert "$output" =~ "$CONTAINERS_REGISTRIES_CONF" "a missing \$CONTAINERS_REGISTRIES_CONF: $output"
}

# ---------------------------------------------------------------------------
# platforms

# make_index OUT: an OCI archive whose index has busybox for linux/amd64 and the multi
# image for linux/arm64/v8.
function make_index() {
	local out=$1 d=$BATS_TEST_TMPDIR/index-oci bb ml idx
	rm -rf "$d"
	mkdir -p "$d"
	tar -xf "$FIXTURES/multilayer.oci.tar" -C "$d"
	ml=$(jq -c '.manifests[0] | {mediaType, digest, size}' "$d/index.json")
	tar -xf "$FIXTURES/busybox.oci.tar" -C "$d"
	bb=$(jq -c '.manifests[0] | {mediaType, digest, size}' "$d/index.json")
	jq -nc --argjson bb "$bb" --argjson ml "$ml" '{schemaVersion: 2,
		mediaType: "application/vnd.oci.image.index.v1+json",
		manifests: [($bb + {platform: {os: "linux", architecture: "amd64"}}),
			($ml + {platform: {os: "linux", architecture: "arm64", variant: "v8"}})]}' >"$d/idx"
	idx=$(sha256sum "$d/idx" | cut -d' ' -f1)
	mv "$d/idx" "$d/blobs/sha256/$idx"
	jq -nc --arg d "sha256:$idx" --argjson s "$(stat -c %s "$d/blobs/sha256/$idx")" \
		'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s}]}' \
		>"$d/index.json"
	tar -cf "$out" -C "$d" oci-layout index.json blobs
}

@test "pull: --platform, --arch choose from an index; an absent platform" {
	start_reg
	make_index "$BATS_TEST_TMPDIR/index.oci.tar"
	push_fixture_image skiff-test/idx:latest "$BATS_TEST_TMPDIR/index.oci.tar" >/dev/null
	local ref=$REGISTRY/skiff-test/idx:latest
	run_skiff pull -q --platform linux/arm64 "$ref"
	is "$output" "$MULTI_ID" "--platform linux/arm64"
	run_skiff pull -q --platform linux/amd64 "$ref"
	is "$output" "$BUSYBOX_ID" "--platform linux/amd64"
	run_skiff pull -q --arch arm64 "$ref"
	is "$output" "$MULTI_ID" "--arch arm64"
	run_skiff pull -q --os linux --arch amd64 "$ref"
	is "$output" "$BUSYBOX_ID" "--os linux --arch amd64"
	run_skiff images --format '{{.ID}} {{.Tag}}' --sort id
	is "$output" "${BUSYBOX_ID:0:12} latest
${MULTI_ID:0:12} <none>" "the tag moved to the last one pulled"
	case "$(uname -m)" in
	x86_64)
		run_skiff pull -q "$ref"
		is "$output" "$BUSYBOX_ID" "the host's platform by default"
		;;
	esac
	run_skiff rmi -af
	run_skiff 125 pull --platform linux/s390x "$ref"
	one_error
	assert "$err_line" =~ "no image found in manifest list" "$err_line"
	assert "$err_line" =~ "s390x" "names the platform: $err_line"
	assert_nothing_stored
	run_skiff 125 pull --platform linux "$ref"
	assert "$output" =~ "invalid platform" "$output"
	run_skiff 125 pull --platform linux/amd64 --arch arm64 "$ref"
	assert "$output" =~ "conflicts" "$output"
}

# ---------------------------------------------------------------------------
# run --pull

@test "run --pull: missing, never, always, newer, bogus" {
	start_reg
	push_fixture_image skiff-test/img:v1 >/dev/null
	local ref=$REGISTRY/skiff-test/img:v1
	run_skiff 125 run --rm --pull=never "$ref" true
	assert "$output" =~ "image not known" "--pull=never, image absent: $output"
	assert_nothing_stored

	run_skiff --separate-stderr run --rm --pull=missing "$ref" echo first-run
	is "$output" "first-run"
	assert "$stderr" =~ "Trying to pull $ref" "--pull=missing pulled it: $stderr"
	image_id "$ref"
	is "$output" "$BUSYBOX_ID"

	# the tag now names another image in the registry
	push_fixture_image skiff-test/img:v1 "$FIXTURES/multilayer.oci.tar" >/dev/null
	run_skiff --separate-stderr run --rm "$ref" true
	is "$stderr" "" "default (missing): present, not pulled"
	image_id "$ref"
	is "$output" "$BUSYBOX_ID" "still the old image"
	run_skiff --separate-stderr run --rm --pull=never "$ref" true
	is "$stderr" "" "--pull=never with the image present"

	run_skiff --separate-stderr run --rm --pull=always "$ref" cat /data/file1.txt
	assert "$output" "--pull=always ran the new image"
	assert "$stderr" =~ "Trying to pull $ref" "--pull=always pulled: $stderr"
	image_id "$ref"
	is "$output" "$MULTI_ID" "the tag moved to the new image"
	run_skiff --separate-stderr run --rm -q --pull=always "$ref" true
	is "$stderr" "" "-q: no progress"

	# the registry goes away: newer keeps the local image, always fails
	stop_registry
	run_skiff --separate-stderr run --rm --pull=newer "$ref" echo still-here
	is "$output" "still-here" "--pull=newer with the registry gone uses the local image"
	run_skiff 125 run --rm --pull=always "$ref" true
	assert "$output" =~ "$REGISTRY" "--pull=always with the registry gone: $output"
	run_skiff 125 run --rm --pull=bogus "$ref" true
	assert "$output" =~ 'invalid --pull "bogus"' "$output"
	run_skiff ps -aq
	is "$output" "" "no container left behind"
}
