#!/usr/bin/env bats
# Signatures: push --sign-by writes a simple signing signature to the lookaside storage
# registries.d names; pull checks policy.json (signedBy, reject, insecureAcceptAnything)
# before it stores anything. Root and rootless.

load helpers
load registry

function setup() {
	skiff_setup
	require_fixture
	command -v gpg >/dev/null || die "gpg is missing (scripts/install-deps installs gnupg)"
	T=$BATS_TEST_TMPDIR
	export HOME=$T/home GNUPGHOME=$T/gnupg
	mkdir -p "$HOME/.config/containers/registries.d" "$GNUPGHOME" "$T/sigs"
	chmod 700 "$GNUPGHOME"
	gpg --batch --quiet --passphrase '' --quick-gen-key 'skiff test <signer@example.com>' ed25519 sign never 2>/dev/null
	gpg --batch --quiet --export signer@example.com >"$T/pub.gpg"
	KEY=$(gpg --batch --with-colons --list-secret-keys signer@example.com | awk -F: '/^fpr/ { print $10; exit }')
	cat >"$HOME/.config/containers/registries.d/default.yaml" <<EOC
default-docker:
  lookaside: file://$T/sigs
  lookaside-staging: file://$T/sigs
EOC
	start_registry
	cat >"$T/policy.json" <<EOC
{"default": [{"type": "insecureAcceptAnything"}],
 "transports": {"docker": {
   "$REGISTRY/signed": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "$T/pub.gpg"}],
   "$REGISTRY/rejected": [{"type": "reject"}]}}}
EOC
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

function teardown() {
	gpgconf --kill gpg-agent 2>/dev/null || true
	stop_registry
	skiff_teardown
}

# empty_store: no image and no layer left
function empty_store() {
	run_skiff rmi -af
	run_skiff images -q
	is "$output" "" "no image"
}

@test "trust: a signed push verifies on pull; an unsigned one is refused and nothing is stored" {
	run_skiff push -q --sign-by "$KEY" --digestfile "$T/dg" localhost/skiff-test/busybox "$REGISTRY/signed/img:1"
	local d
	d=$(<"$T/dg")
	[ -s "$T/sigs/signed/img@sha256=${d#sha256:}/signature-1" ] || die "no signature in the lookaside storage"
	# the signature is a signed message naming the reference and the digest
	gpg --batch --decrypt "$T/sigs/signed/img@sha256=${d#sha256:}/signature-1" 2>/dev/null >"$T/payload"
	is "$(jq -r '.critical.identity."docker-reference"' "$T/payload")" "$REGISTRY/signed/img:1"
	is "$(jq -r '.critical.image."docker-manifest-digest"' "$T/payload")" "$d"
	run_skiff push -q localhost/skiff-test/busybox "$REGISTRY/signed/unsigned:1"
	empty_store
	run_skiff --separate-stderr pull -q --signature-policy "$T/policy.json" "$REGISTRY/signed/img:1"
	assert "$output" =~ '^[0-9a-f]{64}$' "the signed image is pulled"
	empty_store
	run_skiff 125 pull -q --signature-policy "$T/policy.json" "$REGISTRY/signed/unsigned:1"
	assert "$output" =~ "Source image rejected" "podman's words"
	run_skiff images -q
	is "$output" "" "nothing stored"
	[ -z "$(ls -A "$SKIFF_TEST_ROOT/root/layers" 2>/dev/null)" ] || die "layers left behind"
}

@test "trust: reject, another key, a policy that does not parse" {
	run_skiff push -q localhost/skiff-test/busybox "$REGISTRY/rejected/img:1"
	run_skiff push -q localhost/skiff-test/busybox "$REGISTRY/free/img:1"
	empty_store
	run_skiff 125 pull -q --signature-policy "$T/policy.json" "$REGISTRY/rejected/img:1"
	assert "$output" =~ "rejected"
	run_skiff --separate-stderr pull -q --signature-policy "$T/policy.json" "$REGISTRY/free/img:1"
	assert "$output" =~ '^[0-9a-f]{64}$' "insecureAcceptAnything by default"
	# a signature by a key the policy does not trust
	local other=$T/other
	mkdir -p "$other" && chmod 700 "$other"
	GNUPGHOME=$other gpg --batch --quiet --passphrase '' --quick-gen-key 'other <o@example.com>' ed25519 sign never 2>/dev/null
	local okey
	okey=$(GNUPGHOME=$other gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr/ { print $10; exit }')
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	GNUPGHOME=$other run_skiff push -q --sign-by "$okey" localhost/skiff-test/busybox "$REGISTRY/signed/other:1"
	GNUPGHOME=$other gpgconf --kill gpg-agent 2>/dev/null || true
	empty_store
	run_skiff 125 pull -q --signature-policy "$T/policy.json" "$REGISTRY/signed/other:1"
	assert "$output" =~ "Source image rejected"
	run_skiff images -q
	is "$output" ""
	echo '{"default": [{"type": "bogus"}]}' >"$T/bad.json"
	run_skiff 125 pull -q --signature-policy "$T/bad.json" "$REGISTRY/free/img:1"
	assert "$output" =~ "$T/bad.json" "the error names the file"
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff 125 push --sign-by nosuchkey localhost/skiff-test/busybox "$REGISTRY/signed/x:1"
	assert "$output" =~ "signing" "an unknown key"
	run curl -sS -o /dev/null -w '%{http_code}' "$REGISTRY_URL/v2/signed/x/manifests/1"
	is "$output" 404 "no manifest pushed without its signature"
}
