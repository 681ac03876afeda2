#!/usr/bin/env bats
# skiff push: to a real registry (plain HTTP, TLS, basic auth), round trips through pull
# (same image ID), a second push that uploads nothing, cross-repository mounts, manifest
# formats, --digestfile, and errors. Root and rootless.

load helpers
load registry

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/multilayer.docker.tar"
	MULTI_ID=$(skiff_q images -q --no-trunc localhost/skiff-test/multi)
	MULTI_ID=${MULTI_ID#sha256:}
}

function teardown() {
	stop_registry
	skiff_teardown
}

# skiff_q ARGS: skiff's stdout alone (no test output)
function skiff_q() {
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "$@"
}

# count_requests METHOD PATH-REGEX: requests the registry logged
function count_requests() {
	grep -cE "\"$1 $2" "$REGISTRY_DIR/registry.log" || true
}

# manifest_of REPO:TAG [ACCEPT]: the manifest the registry serves
function manifest_of() {
	curl -sS --max-time 10 -H "Accept: ${2:-application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json}" \
		"$REGISTRY_URL/v2/${1%:*}/manifests/${1##*:}"
}

@test "push: round trip through pull gives the same image ID; --digestfile" {
	start_registry
	run_skiff push localhost/skiff-test/multi "$REGISTRY/rt/multi:v1" --digestfile "$BATS_TEST_TMPDIR/dg"
	assert "$output" =~ "Getting image source signatures" "progress on stderr"
	assert "$output" =~ "Writing manifest to image destination"
	local digest
	digest=$(<"$BATS_TEST_TMPDIR/dg")
	assert "$digest" =~ '^sha256:[0-9a-f]{64}$' "digestfile holds a digest"
	local served
	served=$(curl -sSI --max-time 10 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"$REGISTRY_URL/v2/rt/multi/manifests/v1" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' | tr -d '\r')
	is "$served" "$digest" "the registry serves the pushed manifest under the digest given"
	# every layer blob the manifest names is in the registry, gzip-compressed
	local m
	m=$(manifest_of rt/multi:v1)
	is "$(jq -r '.layers | length' <<<"$m")" 4 "four layers"
	for d in $(jq -r '.layers[].digest' <<<"$m"); do
		curl -sS --max-time 10 -L "$REGISTRY_URL/v2/rt/multi/blobs/$d" | gzip -t || die "blob $d is not gzip"
	done
	# pull into an empty store
	run_skiff rmi -f "$MULTI_ID"
	run_skiff images -q
	is "$output" "" "store empty before the pull"
	run_skiff --separate-stderr pull "$REGISTRY/rt/multi:v1"
	is "$output" "$MULTI_ID" "pull gives back the same image ID"
	run_skiff run --rm "$REGISTRY/rt/multi:v1" readlink /data/abs-link
	is "$output" "/etc/passwd" "the pulled image runs, its symlinks intact"
}

@test "push: a second push uploads nothing; another repository mounts the blobs" {
	start_registry
	run_skiff push -q localhost/skiff-test/multi "$REGISTRY/one/multi:v1"
	is "$output" "" "-q prints nothing"
	local patches
	patches=$(count_requests PATCH '/v2/one/multi/blobs/uploads/')
	is "$patches" 4 "four layers uploaded"
	run_skiff push localhost/skiff-test/multi "$REGISTRY/one/multi:v1"
	is "$(grep -c 'skipped: already exists' <<<"$output")" 4 "every layer skipped the second time"
	is "$(count_requests PATCH '/v2/one/multi/blobs/uploads/')" 4 "no upload the second time"
	# an image pulled from one repository is pushed to another by mounting its blobs
	run_skiff rmi -f "$MULTI_ID"
	run_skiff pull -q "$REGISTRY/one/multi:v1"
	run_skiff push "$REGISTRY/one/multi:v1" "$REGISTRY/two/multi:v1"
	is "$(count_requests POST '/v2/two/multi/blobs/uploads/\?mount=')" 4 "four mount requests"
	is "$(count_requests PATCH '/v2/two/multi/blobs/uploads/')" 0 "nothing uploaded to two"
	run_skiff rmi -af
	run_skiff pull -q "$REGISTRY/two/multi:v1"
	is "$output" "$MULTI_ID" "the mounted image pulls back"
}

@test "push: --format oci and v2s2; the image's own name as destination" {
	start_registry
	run_skiff push -q --format oci localhost/skiff-test/multi "$REGISTRY/fmt/oci:v1"
	is "$(manifest_of fmt/oci:v1 | jq -r .mediaType)" "application/vnd.oci.image.manifest.v1+json"
	is "$(manifest_of fmt/oci:v1 | jq -r '.layers[0].mediaType')" "application/vnd.oci.image.layer.v1.tar+gzip"
	run_skiff push -q --format v2s2 localhost/skiff-test/multi "$REGISTRY/fmt/docker:v1"
	is "$(manifest_of fmt/docker:v1 | jq -r .mediaType)" "application/vnd.docker.distribution.manifest.v2+json"
	is "$(manifest_of fmt/docker:v1 | jq -r '.layers[0].mediaType')" "application/vnd.docker.image.rootfs.diff.tar.gzip"
	run_skiff 125 push --format bogus localhost/skiff-test/multi "$REGISTRY/fmt/x:v1"
	assert "$output" =~ 'unsupported manifest format "bogus"'
	# no destination: the image's name
	run_skiff tag localhost/skiff-test/multi "$REGISTRY/named/multi:v7"
	run_skiff push -q "$REGISTRY/named/multi:v7"
	is "$(manifest_of named/multi:v7 | jq -r '.config.digest')" "sha256:$MULTI_ID" "pushed under its own name"
}

@test "push: TLS needs the CA (--cert-dir) or --tls-verify=false" {
	start_registry --tls
	run_skiff 125 push -q localhost/skiff-test/multi "$REGISTRY/tls/multi:v1"
	assert "$output" =~ "certificate" "a certificate error"
	run_skiff push -q --cert-dir "$REGISTRY_CERT_DIR" localhost/skiff-test/multi "$REGISTRY/tls/multi:v1"
	run_skiff push -q --tls-verify=false localhost/skiff-test/multi "$REGISTRY/tls/multi:v2"
	run_skiff rmi -f "$MULTI_ID"
	run_skiff --separate-stderr pull -q --cert-dir "$REGISTRY_CERT_DIR" "$REGISTRY/tls/multi:v2"
	is "$output" "$MULTI_ID"
}

@test "push: basic auth: refused without credentials, --creds and login work" {
	start_registry --htpasswd
	run_skiff 125 push -q localhost/skiff-test/multi "$REGISTRY/auth/multi:v1"
	assert "$output" =~ "authentication required" "no credentials"
	run_skiff 125 push -q --creds "$REGISTRY_USER:wrong" localhost/skiff-test/multi "$REGISTRY/auth/multi:v1"
	assert "$output" =~ "authentication required|unauthorized" "wrong password"
	run_skiff push -q --creds "$REGISTRY_USER:$REGISTRY_PASS" localhost/skiff-test/multi "$REGISTRY/auth/multi:v1"
	local af=$BATS_TEST_TMPDIR/auth.json
	run_skiff 125 login --authfile "$af" -u "$REGISTRY_USER" -p wrong "$REGISTRY"
	[ ! -e "$af" ] || ! grep -q "$REGISTRY" "$af" || die "a refused login was stored"
	run_skiff login --authfile "$af" -u "$REGISTRY_USER" -p "$REGISTRY_PASS" "$REGISTRY"
	is "$output" "Login Succeeded!"
	run_skiff push -q --authfile "$af" localhost/skiff-test/multi "$REGISTRY/auth/multi:v2"
	REGISTRY_AUTH_FILE=$af run_skiff push -q localhost/skiff-test/multi "$REGISTRY/auth/multi:v3"
}

@test "push: token auth asks for a push scope" {
	start_registry --token
	run_skiff push -q --creds "$REGISTRY_USER:$REGISTRY_PASS" localhost/skiff-test/multi "$REGISTRY/tok/multi:v1"
	run curl -sS --max-time 10 "$REGISTRY_TOKEN_URL/_token/requests"
	assert "$output" =~ "repository:tok/multi:pull,push" "a pull,push token was asked for"
}

@test "push: errors name what is wrong and leave the registry alone" {
	start_registry
	run_skiff 125 push nosuchimage "$REGISTRY/x/y:1"
	assert "$output" =~ "nosuchimage: image not known"
	run_skiff 125 push localhost/skiff-test/multi "$REGISTRY/x/y@sha256:$(printf '%064d' 0)"
	assert "$output" =~ "cannot push to a digest reference"
	run_skiff 125 push localhost/skiff-test/multi "$REGISTRY/UPPER/case:1"
	assert "$output" =~ "invalid reference format"
	run_skiff 125 push "$MULTI_ID"
	assert "$output" =~ "no destination given"
	GNUPGHOME=$BATS_TEST_TMPDIR/nokeys run_skiff 125 push --sign-by ABCD localhost/skiff-test/multi "$REGISTRY/x/y:1"
	assert "$output" =~ 'signing: .*no usable secret key matches "ABCD"' "an unknown signing key"
	local port=$REGISTRY
	stop_registry
	run_skiff 125 push localhost/skiff-test/multi "$port/x/y:1"
	assert "$output" =~ "pinging container registry $port" "a registry that is gone"
}

@test "push: podman pulls what skiff pushed" {
	command -v podman >/dev/null || skip "podman is not installed"
	start_registry
	run_skiff push -q localhost/skiff-test/multi "$REGISTRY/pm/multi:v1"
	local p=$BATS_TEST_TMPDIR/podman r
	# podman wants a runroot under 50 characters
	r=$(mktemp -d /dev/shm/skiff-pm.XXXXXX)
	run timeout 120 podman --root "$p/root" --runroot "$r" --storage-driver vfs pull -q --tls-verify=false \
		"$REGISTRY/pm/multi:v1"
	echo "$output"
	[ "$status" -eq 0 ] || die "podman pull failed"
	is "${lines[-1]}" "$MULTI_ID" "podman sees the same image ID"
	podman --root "$p/root" --runroot "$r" --storage-driver vfs rmi -af >/dev/null 2>&1 || true
	podman --root "$p/root" --runroot "$r" --storage-driver vfs system reset -f >/dev/null 2>&1 || true
	rm -rf "$r"
}
