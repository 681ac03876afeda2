#!/usr/bin/env bats
# The registry fixtures of registry.bash, proved with curl (no skiff): a real registry over
# plain HTTP, TLS, htpasswd and token auth; seeding it; each mode of the hostile registry;
# servers that never outlive the run. Root and rootless.

load helpers
load registry

function setup_file() {
	start_hostile_registry
}

function teardown_file() {
	stop_registry
}

function setup() {
	require_fixture busybox.oci.tar
}

function teardown() {
	stop_registry
}

# fetch [CURL-ARGS...] URL: GET (or what the args say); sets $code, $body (a file) and
# $hdrs (a file, header names lower-cased) and $curl_rc.
function fetch() {
	body=$BATS_TEST_TMPDIR/body hdrs=$BATS_TEST_TMPDIR/headers
	curl_rc=0
	code=$(curl -s --max-time 20 -o "$body" -D "$hdrs.raw" -w '%{http_code}' "$@") || curl_rc=$?
	tr -d '\r' <"$hdrs.raw" | sed 's/^\([^:]*\):/\L\1:/' >"$hdrs"
	echo "# $* -> $code (curl $curl_rc)"
}

# header NAME: the value of a response header of the last fetch (the last one sent).
function header() {
	sed -n "s/^$1: *//p" "$hdrs" | tail -1
}

function sha256_of() {
	echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

# ---------------------------------------------------------------------------
# the real registry

@test "registry: plain HTTP answers /v2/ and stop_registry ends it" {
	start_registry
	assert "$REGISTRY" =~ '^127\.0\.0\.1:[0-9]+$' "REGISTRY is host:port"
	is "$REGISTRY_URL" "http://$REGISTRY"
	[ -d "$REGISTRY_DIR/storage" ] || die "no storage dir in $REGISTRY_DIR"
	fetch "$REGISTRY_URL/v2/"
	is "$code" 200 "GET /v2/"
	is "$(header docker-distribution-api-version)" "registry/2.0"
	is "$(cat "$body")" "{}"
	local pid=$REGISTRY_PID
	_registry_alive "$pid" || die "the registry process $pid is not running"
	stop_registry
	! _registry_alive "$pid" || die "the registry process $pid outlived stop_registry"
	fetch "$REGISTRY_URL/v2/"
	is "$curl_rc" 7 "nothing listens on $REGISTRY any more"
}

@test "registry: TLS works with the CA, fails without it" {
	start_registry --tls
	is "$REGISTRY_URL" "https://$REGISTRY"
	fetch --cacert "$REGISTRY_CA" "$REGISTRY_URL/v2/"
	is "$code" 200 "https with the CA"
	fetch "$REGISTRY_URL/v2/"
	is "$curl_rc" 60 "https without the CA: certificate problem"
	fetch "http://$REGISTRY/v2/"
	is "$code" 400 "plain HTTP to the TLS port"
	# --cert-dir layout: DIR/ca.crt, named after HOST:PORT like /etc/containers/certs.d
	is "$(basename "$REGISTRY_CERT_DIR")" "$REGISTRY"
	cmp "$REGISTRY_CERT_DIR/ca.crt" "$REGISTRY_CA" || die "REGISTRY_CERT_DIR/ca.crt is not the CA"
	[ -f "$REGISTRY_CERTS_D/localhost:${REGISTRY#*:}/ca.crt" ] || die "no certs.d entry for localhost"
	fetch --cacert "$REGISTRY_CERT_DIR/ca.crt" "https://localhost:${REGISTRY#*:}/v2/"
	is "$code" 200 "the certificate names localhost too"
	run openssl x509 -noout -ext subjectAltName -in "$REGISTRY_DIR/tls/server.crt"
	assert "$output" =~ "IP Address:127.0.0.1" "SAN: $output"
	assert "$output" =~ "DNS:localhost" "SAN: $output"
}

@test "registry: htpasswd: 401 with a Basic challenge, 200 with the credentials" {
	start_registry --htpasswd alice:s3cret
	is "$REGISTRY_USER:$REGISTRY_PASS" "alice:s3cret"
	fetch "$REGISTRY_URL/v2/"
	is "$code" 401 "no credentials"
	is "$(header www-authenticate)" 'Basic realm="skiff-test"'
	fetch -u alice:wrong "$REGISTRY_URL/v2/"
	is "$code" 401 "wrong password"
	fetch -u alice:s3cret "$REGISTRY_URL/v2/"
	is "$code" 200 "right password"
	run jq -r ".auths[\"$REGISTRY\"].auth" "$REGISTRY_AUTHFILE"
	is "$(base64 -d <<<"$output")" "alice:s3cret" "the auth file holds the credentials"
	local digest
	digest=$(push_fixture_image skiff/auth:v1)
	run registry_curl -o /dev/null -w '%{http_code}' -I \
		-H "Accept: application/vnd.oci.image.manifest.v1+json" /v2/skiff/auth/manifests/v1
	is "$output" 200 "push_fixture_image and registry_curl use the credentials"
	assert "$digest" =~ '^sha256:[0-9a-f]{64}$'
}

@test "registry: token auth: Bearer challenge, a token from the realm, then 200" {
	start_registry --token
	is "$REGISTRY_USER:$REGISTRY_PASS" "$REGISTRY_DEFAULT_AUTH" "default credentials"
	fetch "$REGISTRY_URL/v2/"
	is "$code" 401 "no token"
	is "$(header www-authenticate)" "Bearer realm=\"$REGISTRY_TOKEN_REALM\",service=\"$REGISTRY_TOKEN_SERVICE\""
	# the token endpoint wants the password
	fetch -G -u "$REGISTRY_USER:nope" --data-urlencode "service=$REGISTRY_TOKEN_SERVICE" "$REGISTRY_TOKEN_REALM"
	is "$code" 401 "token server: wrong password"
	assert "$(header www-authenticate)" =~ "^Basic " "token server: Basic challenge"
	is "$(jq -r '.errors[0].code' "$body")" UNAUTHORIZED
	fetch -G -u "$REGISTRY_USER:$REGISTRY_PASS" --data-urlencode "service=$REGISTRY_TOKEN_SERVICE" \
		"$REGISTRY_TOKEN_REALM"
	is "$code" 200 "token server: right password"
	local token
	token=$(jq -r .token "$body")
	is "$(jq -r .access_token "$body")" "$token" "access_token is the token"
	is "$(jq -r .expires_in "$body")" 300
	fetch -H "Authorization: Bearer $token" "$REGISTRY_URL/v2/"
	is "$code" 200 "GET /v2/ with the token"
	fetch -H "Authorization: Bearer $token.x" "$REGISTRY_URL/v2/"
	is "$code" 401 "a tampered token"

	# repository scopes: push with a push token; anonymous tokens grant nothing here
	local digest
	digest=$(push_fixture_image skiff/tok:v1)
	token=$(registry_token repository:skiff/tok:pull)
	fetch -H "Authorization: Bearer $token" -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		"$REGISTRY_URL/v2/skiff/tok/manifests/v1"
	is "$code" 200 "pull with a pull token"
	is "$(sha256_of "$body")" "$digest"
	fetch -G --data-urlencode "service=$REGISTRY_TOKEN_SERVICE" \
		--data-urlencode "scope=repository:skiff/tok:pull" "$REGISTRY_TOKEN_REALM"
	is "$code" 200 "an anonymous token"
	fetch -H "Authorization: Bearer $(jq -r .token "$body")" "$REGISTRY_URL/v2/skiff/tok/manifests/v1"
	is "$code" 401 "without --anonymous-pull an anonymous token cannot pull"
	assert "$(header www-authenticate)" =~ 'error="insufficient_scope"' "challenge: $(header www-authenticate)"
	fetch -G --data-urlencode "service=other" "$REGISTRY_TOKEN_REALM"
	is "$code" 400 "another service"
	run curl -sS "$REGISTRY_TOKEN_URL/_token/requests"
	assert "$output" =~ "skiff repository:skiff/tok:pull,push" "the token server's log: $output"
	assert "$output" =~ "- repository:skiff/tok:pull" "the token server's log: $output"
}

@test "registry: token auth over TLS with anonymous pull" {
	start_registry --tls --token bob:pw --anonymous-pull
	assert "$REGISTRY_TOKEN_REALM" =~ "^https://127\.0\.0\.1:[0-9]+/token$"
	push_fixture_image skiff/anon:v1 >/dev/null
	fetch --cacert "$REGISTRY_CA" -G --data-urlencode "service=$REGISTRY_TOKEN_SERVICE" \
		--data-urlencode "scope=repository:skiff/anon:pull,push" "$REGISTRY_TOKEN_REALM"
	is "$code" 200 "an anonymous token"
	local token
	token=$(jq -r .token "$body")
	# (docker-registry 2.8 answers 404 for an OCI manifest unless Accept names the OCI type)
	fetch --cacert "$REGISTRY_CA" -H "Authorization: Bearer $token" -I \
		-H "Accept: application/vnd.oci.image.manifest.v1+json" "$REGISTRY_URL/v2/skiff/anon/manifests/v1"
	is "$code" 200 "anonymous pull"
	fetch --cacert "$REGISTRY_CA" -H "Authorization: Bearer $token" -X POST "$REGISTRY_URL/v2/skiff/anon/blobs/uploads/"
	is "$code" 401 "anonymous push is refused"
	# the OAuth2 password grant gives a refresh token, which gives tokens
	fetch --cacert "$REGISTRY_CA" --data-urlencode grant_type=password --data-urlencode username=bob \
		--data-urlencode password=pw --data-urlencode access_type=offline --data-urlencode client_id=skiff \
		--data-urlencode "service=$REGISTRY_TOKEN_SERVICE" --data-urlencode "scope=repository:skiff/anon:pull" \
		"$REGISTRY_TOKEN_REALM"
	is "$code" 200 "POST password grant"
	local rt
	rt=$(jq -r .refresh_token "$body")
	fetch --cacert "$REGISTRY_CA" --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt" \
		--data-urlencode "service=$REGISTRY_TOKEN_SERVICE" --data-urlencode "scope=repository:skiff/anon:push,pull" \
		"$REGISTRY_TOKEN_REALM"
	is "$code" 200 "POST refresh_token grant"
	fetch --cacert "$REGISTRY_CA" -H "Authorization: Bearer $(jq -r .access_token "$body")" -X POST \
		"$REGISTRY_URL/v2/skiff/anon/blobs/uploads/"
	is "$code" 202 "bob may push"
}

@test "push_fixture_image: the manifest by tag and by digest, blobs, tags" {
	start_registry
	local digest
	digest=$(push_fixture_image skiff-test/busybox:latest)
	local want
	want=$(tar -xOf "$FIXTURES/busybox.oci.tar" index.json | jq -r '.manifests[0].digest')
	is "$digest" "$want" "prints the archive's manifest digest"
	fetch -H "Accept: application/vnd.oci.image.manifest.v1+json" "$REGISTRY_URL/v2/skiff-test/busybox/manifests/latest"
	is "$code" 200 "manifest by tag"
	is "$(header docker-content-digest)" "$digest"
	is "$(header content-type)" "application/vnd.oci.image.manifest.v1+json"
	is "$(sha256_of "$body")" "$digest" "the bytes pushed are the bytes served"
	local layer config
	layer=$(jq -r '.layers[0].digest' "$body")
	config=$(jq -r '.config.digest' "$body")
	fetch -H "Accept: application/vnd.oci.image.manifest.v1+json" "$REGISTRY_URL/v2/skiff-test/busybox/manifests/$digest"
	is "$code" 200 "manifest by digest"
	is "$(sha256_of "$body")" "$digest"
	for d in "$layer" "$config"; do
		fetch -L "$REGISTRY_URL/v2/skiff-test/busybox/blobs/$d"
		is "$code" 200 "blob $d"
		is "$(sha256_of "$body")" "$d"
	done
	fetch "$REGISTRY_URL/v2/skiff-test/busybox/tags/list"
	is "$(jq -c .tags "$body")" '["latest"]'
	# a second tag and a multi-layer image; blobs already there are not uploaded again
	push_fixture_image skiff-test/busybox:v2 >/dev/null
	digest=$(push_fixture_image skiff-test/multi:1.0 "$FIXTURES/multilayer.oci.tar")
	fetch -H "Accept: application/vnd.oci.image.manifest.v1+json" "$REGISTRY_URL/v2/skiff-test/multi/manifests/1.0"
	is "$(sha256_of "$body")" "$digest" "multilayer by tag"
	assert "$(jq '.layers | length' "$body")" -gt 1 "multilayer has layers"
	fetch "$REGISTRY_URL/v2/skiff-test/busybox/tags/list"
	is "$(jq -c '.tags | sort' "$body")" '["latest","v2"]'
	fetch "$REGISTRY_URL/v2/_catalog"
	is "$(jq -c .repositories "$body")" '["skiff-test/busybox","skiff-test/multi"]'
}

# ---------------------------------------------------------------------------
# the hostile registry (one server for the file, started in setup_file)

@test "hostile: hostile/img behaves" {
	assert "$HOSTILE" =~ '^127\.0\.0\.1:[0-9]+$'
	fetch "$HOSTILE_URL/v2/"
	is "$code" 200
	fetch "$HOSTILE_URL/v2/hostile/img/manifests/latest"
	is "$code" 200
	is "$(sha256_of "$body")" "$HOSTILE_DIGEST"
	is "$(header docker-content-digest)" "$HOSTILE_DIGEST"
	local want
	want=$(tar -xOf "$FIXTURES/busybox.oci.tar" index.json | jq -r '.manifests[0].digest')
	is "$HOSTILE_DIGEST" "$want" "it serves the busybox fixture"
	local d
	for d in $(jq -r '.config.digest, .layers[].digest' "$body"); do
		fetch "$HOSTILE_URL/v2/hostile/img/blobs/$d"
		is "$code" 200
		is "$(sha256_of "$body")" "$d"
	done
	fetch "$HOSTILE_URL/v2/hostile/img/manifests/$HOSTILE_DIGEST"
	is "$code" 200 "by digest"
	fetch "$HOSTILE_URL/v2/hostile/img/tags/list"
	is "$(jq -c .tags "$body")" '["latest"]'
	fetch "$HOSTILE_URL/v2/hostile/no-such-mode/manifests/latest"
	is "$code" 404
	is "$(jq -r '.errors[0].code' "$body")" NAME_UNKNOWN
}

# layer_of: the layer digest (and size) of the hostile image
function layer_of() {
	curl -sS "$HOSTILE_URL/v2/hostile/img/manifests/latest" | jq -r ".layers[0].$1"
}

@test "hostile: bad-blob-digest serves other bytes under the digest asked for" {
	local d size
	d=$(layer_of digest) size=$(layer_of size)
	fetch "$HOSTILE_URL/v2/hostile/bad-blob-digest/blobs/$d"
	is "$code" 200
	is "$(header docker-content-digest)" "$d" "it claims the digest asked for"
	is "$(stat -c %s "$body")" "$size" "same length"
	assert "$(sha256_of "$body")" != "$d" "other bytes"
	fetch "$HOSTILE_URL/v2/hostile/bad-blob-digest/manifests/latest"
	is "$(sha256_of "$body")" "$HOSTILE_DIGEST" "its manifest is fine"
}

@test "hostile: truncated-blob sends half of its Content-Length and closes" {
	local d size
	d=$(layer_of digest) size=$(layer_of size)
	fetch "$HOSTILE_URL/v2/hostile/truncated-blob/blobs/$d"
	is "$curl_rc" 18 "curl: partial file"
	is "$(header content-length)" "$size"
	is "$(stat -c %s "$body")" "$((size / 2))" "half of it"
}

@test "hostile: redirect-loop, blob-404" {
	local d
	d=$(layer_of digest)
	fetch "$HOSTILE_URL/v2/hostile/redirect-loop/blobs/$d"
	is "$code" 307
	is "$(header location)" "/v2/hostile/redirect-loop/blobs/$d" "redirects to itself"
	fetch -L --max-redirs 20 "$HOSTILE_URL/v2/hostile/redirect-loop/blobs/$d"
	is "$curl_rc" 47 "curl: too many redirects"
	fetch "$HOSTILE_URL/v2/hostile/blob-404/blobs/$d"
	is "$code" 404
	is "$(jq -r '.errors[0].code' "$body")" BLOB_UNKNOWN
	fetch "$HOSTILE_URL/v2/hostile/blob-404/manifests/latest"
	is "$code" 200 "its manifest is there"
}

@test "hostile: huge-manifest (100 MiB) and endless-manifest" {
	fetch -I "$HOSTILE_URL/v2/hostile/huge-manifest/manifests/latest"
	is "$(header content-length)" 104857600
	run curl -sS --max-time 20 -o /dev/null -w '%{size_download}' "$HOSTILE_URL/v2/hostile/huge-manifest/manifests/latest"
	is "$output" 104857600 "100 MiB sent"
	run bash -c "curl -s --max-time 20 '$HOSTILE_URL/v2/hostile/huge-manifest/manifests/latest' | head -c 40"
	is "$output" '{"schemaVersion":2,"mediaType":"applicat' "it starts like a manifest"
	fetch -I "$HOSTILE_URL/v2/hostile/endless-manifest/manifests/latest"
	is "$(header content-length)" "" "no Content-Length"
	run curl -s --max-time 1 -o /dev/null "$HOSTILE_URL/v2/hostile/endless-manifest/manifests/latest"
	is "$status" 28 "still sending after a second"
	# 64 MiB and still going: the client has to stop it
	run bash -c "curl -s --max-time 20 '$HOSTILE_URL/v2/hostile/endless-manifest/manifests/latest' | head -c 67108864 | wc -c"
	is "$output" 67108864
}

@test "hostile: bad-manifest-digest, wrong-media-type" {
	fetch "$HOSTILE_URL/v2/hostile/bad-manifest-digest/manifests/latest"
	is "$code" 200
	is "$(header docker-content-digest)" "$HOSTILE_DIGEST" "the header claims the real digest"
	assert "$(sha256_of "$body")" != "$HOSTILE_DIGEST" "by tag: the body is another"
	jq -e .layers "$body" >/dev/null || die "the body is still a manifest"
	fetch "$HOSTILE_URL/v2/hostile/bad-manifest-digest/manifests/$HOSTILE_DIGEST"
	is "$code" 200
	assert "$(sha256_of "$body")" != "$HOSTILE_DIGEST" "by digest: the body is not the one asked for"
	fetch "$HOSTILE_URL/v2/hostile/wrong-media-type/manifests/latest"
	is "$(header content-type)" "application/vnd.docker.distribution.manifest.v2+json"
	is "$(jq -r .mediaType "$body")" "application/vnd.oci.image.manifest.v1+json" "the body says OCI"
}

@test "hostile: http-429 with Retry-After, 500-then-ok: fail twice, then succeed" {
	local repo i
	repo=hostile/http-429/t$(random_string 6)
	for i in 1 2; do
		fetch "$HOSTILE_URL/v2/$repo/manifests/latest"
		is "$code" 429 "request $i"
		is "$(header retry-after)" 1
		is "$(jq -r '.errors[0].code' "$body")" TOOMANYREQUESTS
	done
	fetch "$HOSTILE_URL/v2/$repo/manifests/latest"
	is "$code" 200 "the third request"
	is "$(sha256_of "$body")" "$HOSTILE_DIGEST"
	run curl -sS "$HOSTILE_URL/_hostile/requests/$repo"
	is "$output" "GET /v2/$repo/manifests/latest 429
GET /v2/$repo/manifests/latest 429
GET /v2/$repo/manifests/latest 200" "the server's record of the requests"

	repo=hostile/500-then-ok/t$(random_string 6)
	for i in 1 2; do
		fetch "$HOSTILE_URL/v2/$repo/blobs/$(layer_of digest)"
		is "$code" 500 "request $i"
		is "$(jq -r '.errors[0].code' "$body")" UNKNOWN
	done
	fetch "$HOSTILE_URL/v2/$repo/blobs/$(layer_of digest)"
	is "$code" 200 "the third request"
	is "$(sha256_of "$body")" "$(layer_of digest)"
}

@test "hostile: error-401, error-403, error-404 with registry error bodies" {
	fetch "$HOSTILE_URL/v2/hostile/error-401/manifests/latest"
	is "$code" 401
	is "$(header www-authenticate)" 'Basic realm="hostile"'
	is "$(jq -c '.errors[0] | [.code, .message]' "$body")" '["UNAUTHORIZED","authentication required"]'
	fetch "$HOSTILE_URL/v2/hostile/error-403/blobs/$(layer_of digest)"
	is "$code" 403
	is "$(jq -r '.errors[0].code' "$body")" DENIED
	fetch "$HOSTILE_URL/v2/hostile/error-404/manifests/latest"
	is "$code" 404
	is "$(jq -r '.errors[0].code' "$body")" MANIFEST_UNKNOWN
	fetch "$HOSTILE_URL/v2/hostile/error-404/tags/list"
	is "$(jq -r '.errors[0].code' "$body")" NAME_UNKNOWN
}

@test "hostile: slow sends a few bytes a second" {
	fetch -I "$HOSTILE_URL/v2/hostile/slow/manifests/latest"
	local size
	size=$(header content-length)
	fetch --max-time 2 "$HOSTILE_URL/v2/hostile/slow/manifests/latest"
	is "$curl_rc" 28 "curl: timed out"
	local got
	got=$(stat -c %s "$body")
	assert "$got" -gt 0 "some bytes came"
	assert "$got" -le 48 "at 16 bytes a second (of $size)"
}

# ---------------------------------------------------------------------------
# servers never outlive the run

@test "a server dies with bats, or at the end of its lifetime" {
	local fake
	# stands in for bats: the watchdog ends the server when it goes
	timeout 60 tail -f /dev/null </dev/null >/dev/null 2>&1 3>&- &
	fake=$!
	BATS_ROOT_PID=$fake start_hostile_registry
	local pid=$_REGISTRY_SPAWNED
	_registry_alive "$pid" || die "the server is not running"
	kill "$fake"
	wait_for --timeout 5 eval "! _registry_alive $pid"

	REGISTRY_LIFETIME=2 start_hostile_registry
	pid=$_REGISTRY_SPAWNED
	fetch "$HOSTILE_URL/v2/"
	is "$code" 200 "it runs"
	wait_for --timeout 8 eval "! _registry_alive $pid"
}
