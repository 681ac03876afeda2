# -*- bash -*-
# Registries for skiff's bats tests; nothing here reaches the internet.
#
# A test file does `load helpers` then `load registry`, and starts what it needs in
# setup_file (or setup), calling stop_registry from teardown_file (or teardown).
# Everything lives in bats' temp dirs and runs as the test user (root and rootless).
#
#   start_registry [--tls] [--htpasswd [USER:PASS]] [--token [USER:PASS]] [--anonymous-pull]
#       A real registry (docker-registry serve CONFIG) on 127.0.0.1, a free port, storage in
#       a temp dir. --tls: HTTPS with a server certificate (127.0.0.1 and localhost) from a
#       CA made here. --htpasswd: basic auth. --token: bearer auth from a token server
#       (tests/fixtures/token-server.py; HTTPS too with --tls) that takes USER:PASS with
#       basic auth and, with --anonymous-pull, gives anonymous clients pull tokens.
#       USER:PASS defaults to skiff:skiff-secret. Exports:
#         REGISTRY          127.0.0.1:PORT (use it in image names: $REGISTRY/NAME:TAG)
#         REGISTRY_URL      http://$REGISTRY or https://$REGISTRY
#         REGISTRY_DIR      its temp dir (config.yml, registry.log, storage/)
#         REGISTRY_PID      the server process (kill it to test a registry that goes away)
#       with --tls:
#         REGISTRY_CA       the CA certificate (PEM)
#         REGISTRY_CERT_DIR a directory holding ca.crt, laid out like
#                           /etc/containers/certs.d/HOST:PORT: the one to give --cert-dir
#         REGISTRY_CERTS_D  a certs.d directory with HOST:PORT/ca.crt for 127.0.0.1 and localhost
#       with --htpasswd or --token:
#         REGISTRY_USER, REGISTRY_PASS
#         REGISTRY_AUTHFILE an auth.json (podman's format) holding them for $REGISTRY
#       with --token:
#         REGISTRY_TOKEN_REALM    the realm URL the registry's challenge names
#         REGISTRY_TOKEN_SERVICE  the service name
#         REGISTRY_TOKEN_URL      the token server's base URL: GET $REGISTRY_TOKEN_URL/_token/requests
#                                 lists the tokens issued ("USER SCOPE...", "-" for anonymous)
#   start_hostile_registry [MODE] [SERVER-OPTIONS...]
#       tests/fixtures/hostile-registry.py on 127.0.0.1 (plain HTTP), serving the busybox
#       fixture (build/fixtures/busybox.oci.tar) as HOSTILE/hostile/MODE:latest for every
#       mode it knows (its header lists them). Exports HOSTILE (127.0.0.1:PORT), HOSTILE_URL,
#       HOSTILE_DIGEST (the manifest's digest), HOSTILE_DIR, and with MODE, HOSTILE_IMAGE
#       ($HOSTILE/hostile/MODE:latest). SERVER-OPTIONS: --fail-count N, --retry-after S,
#       --slow-rate BYTES, --huge-size BYTES.
#   stop_registry           stops the servers started in this scope: in teardown, those the
#                           test (or setup) started; in teardown_file, those of setup_file.
#                           stop_hostile_registry is the same.
#   push_fixture_image NAME:TAG [OCI-ARCHIVE]
#       uploads an OCI archive's image (default: the busybox fixture) to $REGISTRY as NAME:TAG
#       with curl, as the distribution spec says (monolithic upload: POST, then PUT with the
#       blob); prints the manifest's digest. Uses the credentials of --htpasswd or --token.
#   registry_curl [CURL-ARGS...] PATH
#       curl -sS on $REGISTRY_URL/PATH with the CA and (htpasswd) credentials.
#   registry_token SCOPE...  a token from the token server for these scopes, as REGISTRY_USER.
#
# A server never outlives the test run: stop_registry kills it, a watchdog kills it when
# bats ($BATS_ROOT_PID) is gone, and it dies anyway after SKIFF_REGISTRY_LIFETIME seconds
# (default 900). Environment: SKIFF_REGISTRY_BIN (default /usr/bin/docker-registry).

# Variables set here are for the test files.
# shellcheck disable=SC2034

REGISTRY_BIN=${SKIFF_REGISTRY_BIN:-/usr/bin/docker-registry}
REGISTRY_LIFETIME=${SKIFF_REGISTRY_LIFETIME:-900}
REGISTRY_FIXTURE_DIR=$SKIFF_REPO/tests/fixtures
REGISTRY_DEFAULT_AUTH=skiff:skiff-secret

# ---------------------------------------------------------------------------
# processes

# Servers started in a test (or its setup) are the test's: stop_registry in teardown stops
# them. Those started in setup_file are the file's: stop_registry in teardown_file.
function _registry_scope_dir() {
	echo "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:?registry.bash runs under bats}}"
}

function _registry_pidfile() {
	echo "$(_registry_scope_dir)/.skiff-registry-pids"
}

# _registry_alive PID: the process exists and is not a zombie.
function _registry_alive() {
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}

# _registry_spawn LOG COMMAND...: starts COMMAND in the background under a lifetime cap
# and a watchdog; sets _REGISTRY_SPAWNED to its pid.
function _registry_spawn() {
	local log=$1 pidfile
	shift
	pidfile=$(_registry_pidfile)
	# docker-registry takes every REGISTRY_* variable as configuration (the tests
	# export REGISTRY_AUTH_FILE, say): the server gets none of them.
	local -a unset_env=()
	local v
	for v in $(compgen -e | grep '^REGISTRY_' || true); do
		unset_env+=(-u "$v")
	done
	# No inherited bats descriptors (fd 3 would make bats wait for the server).
	env "${unset_env[@]}" timeout -k 5 "$REGISTRY_LIFETIME" "$@" </dev/null >>"$log" 2>&1 3>&- 4>&- 5>&- &
	_REGISTRY_SPAWNED=$!
	echo "$_REGISTRY_SPAWNED" >>"$pidfile"
	if [ -n "${BATS_ROOT_PID:-}" ]; then
		# A fresh bash: no bats traps. It ends the server when bats is gone (tail --pid
		# waits for that); stop_registry ends it with the server.
		bash -c 'tail --pid="$2" -f /dev/null; kill "$1" 2>/dev/null' registry-watchdog "$_REGISTRY_SPAWNED" "$BATS_ROOT_PID" \
			</dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- &
		echo "$!" >>"$pidfile"
	fi
}

# _registry_wait NAME PID LOG CURL-ARGS... : polls until curl gets any HTTP answer (bounded);
# returns 2 when the process died (its log says why), 1 on timeout.
function _registry_wait() {
	local name=$1 pid=$2 log=$3
	shift 3
	poll_until 60 _registry_answers "$pid" "$@" || true
	_registry_alive "$pid" || return 2
	curl -s -o /dev/null --max-time 2 "$@" 2>/dev/null && return 0
	echo "# $name did not answer within 60s; its log:" >&2
	sed 's/^/#   /' "$log" >&2
	return 1
}

# _registry_answers PID CURL-ARGS...: the server answers, or it died (stop polling)
function _registry_answers() {
	local pid=$1
	shift
	! _registry_alive "$pid" || curl -s -o /dev/null --max-time 2 "$@" 2>/dev/null
}

# _registry_port_file FILE PID LOG: waits for a server to write its port; prints it.
function _registry_port_file() {
	local file=$1 pid=$2 log=$3
	poll_until 60 _registry_port_written "$file" "$pid" || true
	if [ ! -s "$file" ]; then
		echo "# server (pid $pid) did not start; its log:" >&2
		sed 's/^/#   /' "$log" >&2
		return 1
	fi
	cat "$file"
}

# _registry_port_written FILE PID: the port file is there, or the server died
function _registry_port_written() {
	[ -s "$1" ] || ! _registry_alive "$2"
}

function _registry_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

function _registry_gone() {
	! _registry_alive "$1"
}

function stop_registry() {
	local pidfile pid
	pidfile=$(_registry_pidfile)
	[ -f "$pidfile" ] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done <"$pidfile"
	while read -r pid; do
		poll_until 10 _registry_gone "$pid" || true
		if _registry_alive "$pid"; then
			echo "# stop_registry: $pid ignored SIGTERM; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done <"$pidfile"
	rm -f "$pidfile"
}

function stop_hostile_registry() {
	stop_registry
}

# ---------------------------------------------------------------------------
# certificates

# _registry_make_certs DIR: DIR/ca.{key,crt} and DIR/server.{key,crt} (EC P-256, 2 days).
function _registry_make_certs() {
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=skiff test CA" -keyout "$d/ca.key" -out "$d/ca.crt" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		2>>"$d/openssl.log" || { sed 's/^/# /' "$d/openssl.log" >&2; die "openssl: cannot make a CA"; return 1; }
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>>"$d/openssl.log" ||
		{ die "openssl: cannot make a server key"; return 1; }
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
		"basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" >"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/server.ext" -out "$d/server.crt" 2>>"$d/openssl.log" ||
		{ sed 's/^/# /' "$d/openssl.log" >&2; die "openssl: cannot sign the server certificate"; return 1; }
}

# ---------------------------------------------------------------------------
# the real registry

function _registry_unset() {
	unset REGISTRY REGISTRY_URL REGISTRY_DIR REGISTRY_PID REGISTRY_CA REGISTRY_CERT_DIR \
		REGISTRY_CERTS_D REGISTRY_USER REGISTRY_PASS REGISTRY_AUTHFILE REGISTRY_TOKEN_REALM \
		REGISTRY_TOKEN_SERVICE REGISTRY_TOKEN_URL _REGISTRY_AUTH_MODE
}

function start_registry() {
	local tls='' auth='' creds=$REGISTRY_DEFAULT_AUTH anon=''
	while [ $# -gt 0 ]; do
		case "$1" in
		--tls) tls=1 ;;
		--htpasswd | --token)
			[ -z "$auth" ] || { die "start_registry: --htpasswd and --token exclude each other"; return 1; }
			auth=${1#--}
			if [[ ${2:-} == *:* && ${2:-} != -* ]]; then
				creds=$2
				shift
			fi
			;;
		--anonymous-pull) anon=1 ;;
		*) die "start_registry: unknown option '$1'"; return 1 ;;
		esac
		shift
	done
	[ -z "$anon" ] || [ "$auth" = token ] || { die "start_registry: --anonymous-pull needs --token"; return 1; }
	[ -x "$REGISTRY_BIN" ] || { die "$REGISTRY_BIN not found: run scripts/install-deps"; return 1; }
	_registry_unset

	local dir scheme=http
	dir=$(mktemp -d "$(_registry_scope_dir)/registry.XXXXXX")
	mkdir "$dir/storage"
	local -a curl_tls=()
	if [ -n "$tls" ]; then
		_registry_make_certs "$dir/tls" || return 1
		scheme=https
		curl_tls=(--cacert "$dir/tls/ca.crt")
	fi
	local user=${creds%%:*} pass=${creds#*:}

	# auth: section of the config
	local auth_yaml=
	if [ "$auth" = htpasswd ]; then
		htpasswd -Bbn "$user" "$pass" >"$dir/htpasswd" 2>"$dir/htpasswd.err" ||
			{ die "htpasswd -B failed (apache2-utils: scripts/install-deps): $(cat "$dir/htpasswd.err")"; return 1; }
		auth_yaml=$(printf 'auth:\n  htpasswd:\n    realm: skiff-test\n    path: "%s"\n' "$dir/htpasswd")
	elif [ "$auth" = token ]; then
		local td=$dir/token tport
		mkdir "$td"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=skiff test token signer" -keyout "$td/signer.key" -out "$td/signer.crt" \
			2>"$td/openssl.log" || { die "openssl: cannot make the token signing key"; return 1; }
		local -a targs=(--key "$td/signer.key" --cert "$td/signer.crt" --issuer skiff-test-token-issuer
			--service skiff-test-registry --user "$user:$pass" --port-file "$td/port")
		[ -z "$anon" ] || targs+=(--anonymous-pull)
		[ -z "$tls" ] || targs+=(--tls-cert "$dir/tls/server.crt" --tls-key "$dir/tls/server.key")
		_registry_spawn "$td/token-server.log" python3 "$REGISTRY_FIXTURE_DIR/token-server.py" "${targs[@]}"
		tport=$(_registry_port_file "$td/port" "$_REGISTRY_SPAWNED" "$td/token-server.log") ||
			{ die "the token server did not start"; return 1; }
		REGISTRY_TOKEN_URL=$scheme://127.0.0.1:$tport
		REGISTRY_TOKEN_REALM=$REGISTRY_TOKEN_URL/token
		REGISTRY_TOKEN_SERVICE=skiff-test-registry
		auth_yaml=$(printf 'auth:\n  token:\n    realm: "%s"\n    service: %s\n    issuer: %s\n    rootcertbundle: "%s"\n' \
			"$REGISTRY_TOKEN_REALM" "$REGISTRY_TOKEN_SERVICE" skiff-test-token-issuer "$td/signer.crt")
	fi

	# A free port is only free until someone takes it: retry when the registry cannot bind.
	local port attempt rc
	for attempt in 1 2 3 4 5; do
		port=$(_registry_free_port)
		{
			printf 'version: 0.1\n'
			printf 'log:\n  level: info\n  fields:\n    service: registry\n'
			printf 'storage:\n  filesystem:\n    rootdirectory: "%s"\n' "$dir/storage"
			printf '  delete:\n    enabled: true\n'
			printf '  maintenance:\n    uploadpurging:\n      enabled: false\n'
			printf 'http:\n  addr: 127.0.0.1:%s\n  secret: %s\n' "$port" "$(random_string 24)"
			printf '  headers:\n    X-Content-Type-Options: [nosniff]\n'
			if [ -n "$tls" ]; then
				printf '  tls:\n    certificate: "%s"\n    key: "%s"\n' "$dir/tls/server.crt" "$dir/tls/server.key"
			fi
			[ -z "$auth_yaml" ] || printf '%s\n' "$auth_yaml"
		} >"$dir/config.yml"
		: >"$dir/registry.log"
		_registry_spawn "$dir/registry.log" env -u REGISTRY_HTTP_ADDR "$REGISTRY_BIN" serve "$dir/config.yml"
		rc=0
		_registry_wait registry "$_REGISTRY_SPAWNED" "$dir/registry.log" "${curl_tls[@]}" \
			"$scheme://127.0.0.1:$port/v2/" || rc=$?
		[ "$rc" -eq 0 ] && break
		if [ "$rc" -eq 2 ] && grep -q 'address already in use' "$dir/registry.log"; then
			continue
		fi
		[ "$rc" -eq 1 ] || { echo "# docker-registry exited; its log:" >&2; sed 's/^/#   /' "$dir/registry.log" >&2; }
		die "start_registry: docker-registry did not start"
		return 1
	done
	[ "$rc" -eq 0 ] || { die "start_registry: no free port after $attempt attempts"; return 1; }

	export REGISTRY=127.0.0.1:$port REGISTRY_URL=$scheme://127.0.0.1:$port REGISTRY_DIR=$dir
	export REGISTRY_PID=$_REGISTRY_SPAWNED
	if [ -n "$tls" ]; then
		local h
		for h in "127.0.0.1:$port" "localhost:$port"; do
			mkdir -p "$dir/certs.d/$h"
			cp "$dir/tls/ca.crt" "$dir/certs.d/$h/ca.crt"
		done
		export REGISTRY_CA=$dir/tls/ca.crt REGISTRY_CERT_DIR=$dir/certs.d/$REGISTRY REGISTRY_CERTS_D=$dir/certs.d
	fi
	if [ -n "$auth" ]; then
		export REGISTRY_USER=$user REGISTRY_PASS=$pass REGISTRY_AUTHFILE=$dir/auth.json _REGISTRY_AUTH_MODE=$auth
		printf '{\n\t"auths": {\n\t\t"%s": {\n\t\t\t"auth": "%s"\n\t\t}\n\t}\n}\n' \
			"$REGISTRY" "$(printf '%s' "$user:$pass" | base64 -w0)" >"$REGISTRY_AUTHFILE"
	fi
	if [ "$auth" = token ]; then
		export REGISTRY_TOKEN_URL REGISTRY_TOKEN_REALM REGISTRY_TOKEN_SERVICE
	fi
}

# registry_curl [CURL-ARGS...] PATH: curl on the registry with its CA and basic credentials.
function registry_curl() {
	[ $# -ge 1 ] || { die "registry_curl: no path"; return 1; }
	local path=${!#}
	local -a args=(-sS --max-time 30)
	[ -z "${REGISTRY_CA:-}" ] || args+=(--cacert "$REGISTRY_CA")
	[ "${_REGISTRY_AUTH_MODE:-}" != htpasswd ] || args+=(-u "$REGISTRY_USER:$REGISTRY_PASS")
	curl "${args[@]}" "${@:1:$#-1}" "$REGISTRY_URL${path}"
}

# registry_token SCOPE...: prints a token for the scopes, asked as REGISTRY_USER.
function registry_token() {
	[ -n "${REGISTRY_TOKEN_REALM:-}" ] || { die "registry_token: start_registry --token first"; return 1; }
	local -a args=(-sS --max-time 30 -f -G -u "$REGISTRY_USER:$REGISTRY_PASS"
		--data-urlencode "service=$REGISTRY_TOKEN_SERVICE")
	[ -z "${REGISTRY_CA:-}" ] || args+=(--cacert "$REGISTRY_CA")
	local s out
	for s in "$@"; do
		args+=(--data-urlencode "scope=$s")
	done
	out=$(curl "${args[@]}" "$REGISTRY_TOKEN_REALM") || { die "registry_token: the token server refused"; return 1; }
	jq -er .token <<<"$out" || { die "registry_token: no token in '$out'"; return 1; }
}

# ---------------------------------------------------------------------------
# seeding the registry without skiff

# _registry_http EXPECTED-CODE WHAT CURL-ARGS...: runs curl, fails unless the status is
# EXPECTED-CODE; the response headers are left in $_REGISTRY_HEADERS.
function _registry_http() {
	local want=$1 what=$2 code body=$_REGISTRY_WORK/body
	shift 2
	_REGISTRY_HEADERS=$_REGISTRY_WORK/headers
	code=$(curl -sS --max-time 60 -o "$body" -D "$_REGISTRY_HEADERS" -w '%{http_code}' \
		"${_REGISTRY_CURL[@]}" "$@") || { die "push_fixture_image: $what: curl failed"; return 1; }
	if [ "$code" != "$want" ]; then
		die "push_fixture_image: $what: HTTP $code, expected $want: $(head -c 2000 "$body")"
		return 1
	fi
}

# _registry_push_blob NAME DIGEST
function _registry_push_blob() {
	local name=$1 digest=$2 file loc code
	file=$_REGISTRY_WORK/oci/blobs/${digest%%:*}/${digest#*:}
	[ -f "$file" ] || { die "push_fixture_image: blob $digest is not in the archive"; return 1; }
	code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -I "${_REGISTRY_CURL[@]}" \
		"$REGISTRY_URL/v2/$name/blobs/$digest") || code=000
	[ "$code" != 200 ] || return 0
	_registry_http 202 "start upload of $digest" -X POST "$REGISTRY_URL/v2/$name/blobs/uploads/" || return 1
	loc=$(sed -n 's/^[Ll]ocation: *//p' "$_REGISTRY_HEADERS" | tr -d '\r')
	[ -n "$loc" ] || { die "push_fixture_image: no Location after POST .../blobs/uploads/"; return 1; }
	[[ $loc == /* ]] && loc=$REGISTRY_URL$loc
	if [[ $loc == *\?* ]]; then loc+="&"; else loc+="?"; fi
	_registry_http 201 "upload of $digest" -X PUT -H "Content-Type: application/octet-stream" \
		--data-binary "@$file" "${loc}digest=${digest/:/%3A}"
}

# _registry_push_manifest NAME DIGEST MEDIA-TYPE REFERENCE: pushes what the manifest (or
# index) refers to, then the manifest itself as REFERENCE.
function _registry_push_manifest() {
	local name=$1 digest=$2 mt=$3 ref=$4 file n i d cmt
	file=$_REGISTRY_WORK/oci/blobs/${digest%%:*}/${digest#*:}
	[ -f "$file" ] || { die "push_fixture_image: manifest $digest is not in the archive"; return 1; }
	case "$mt" in
	*index* | *manifest.list*)
		n=$(jq '.manifests | length' "$file")
		for ((i = 0; i < n; i++)); do
			d=$(jq -r ".manifests[$i].digest" "$file")
			cmt=$(jq -r ".manifests[$i].mediaType" "$file")
			_registry_push_manifest "$name" "$d" "$cmt" "$d" || return 1
		done
		;;
	*)
		for d in $(jq -r '.config.digest, .layers[].digest' "$file"); do
			_registry_push_blob "$name" "$d" || return 1
		done
		;;
	esac
	_registry_http 201 "PUT manifest $name:$ref" -X PUT -H "Content-Type: $mt" \
		--data-binary "@$file" "$REGISTRY_URL/v2/$name/manifests/$ref"
}

function push_fixture_image() {
	local ref=${1:?push_fixture_image NAME:TAG [OCI-ARCHIVE]} archive=${2:-$FIXTURES/busybox.oci.tar}
	local name=$ref tag=latest
	if [[ ${ref##*/} == *:* ]]; then
		name=${ref%:*} tag=${ref##*:}
	fi
	[ -n "${REGISTRY_URL:-}" ] || { die "push_fixture_image: start_registry first"; return 1; }
	[ -f "$archive" ] || { die "push_fixture_image: $archive is missing: run 'make fixtures'"; return 1; }
	_REGISTRY_WORK=$(mktemp -d "$(_registry_scope_dir)/push.XXXXXX")
	mkdir "$_REGISTRY_WORK/oci"
	tar -xf "$archive" -C "$_REGISTRY_WORK/oci" || { die "push_fixture_image: cannot unpack $archive"; return 1; }
	_REGISTRY_CURL=()
	[ -z "${REGISTRY_CA:-}" ] || _REGISTRY_CURL+=(--cacert "$REGISTRY_CA")
	case "${_REGISTRY_AUTH_MODE:-}" in
	htpasswd) _REGISTRY_CURL+=(-u "$REGISTRY_USER:$REGISTRY_PASS") ;;
	token) _REGISTRY_CURL+=(-H "Authorization: Bearer $(registry_token "repository:$name:pull,push")") ;;
	esac
	local top mt
	top=$(jq -r '.manifests[0].digest' "$_REGISTRY_WORK/oci/index.json")
	mt=$(jq -r '.manifests[0].mediaType' "$_REGISTRY_WORK/oci/index.json")
	_registry_push_manifest "$name" "$top" "$mt" "$tag" || return 1
	rm -rf "$_REGISTRY_WORK"
	echo "$top"
}

# ---------------------------------------------------------------------------
# the hostile registry

function start_hostile_registry() {
	local mode=
	if [ $# -gt 0 ] && [[ $1 != -* ]]; then
		mode=$1
		shift
	fi
	unset HOSTILE HOSTILE_URL HOSTILE_DIGEST HOSTILE_DIR HOSTILE_IMAGE
	local dir port
	dir=$(mktemp -d "$(_registry_scope_dir)/hostile.XXXXXX")
	local -a args=(--port-file "$dir/port" "$@")
	if [ -f "$FIXTURES/busybox.oci.tar" ]; then
		args+=(--oci-archive "$FIXTURES/busybox.oci.tar")
	else
		echo "# $FIXTURES/busybox.oci.tar is missing: the hostile registry serves a generated image" >&2
	fi
	_registry_spawn "$dir/hostile.log" python3 "$REGISTRY_FIXTURE_DIR/hostile-registry.py" "${args[@]}"
	port=$(_registry_port_file "$dir/port" "$_REGISTRY_SPAWNED" "$dir/hostile.log") ||
		{ die "the hostile registry did not start"; return 1; }
	export HOSTILE=127.0.0.1:$port HOSTILE_URL=http://127.0.0.1:$port HOSTILE_DIR=$dir
	HOSTILE_DIGEST=$(curl -sS --max-time 10 -I "$HOSTILE_URL/v2/hostile/img/manifests/latest" |
		sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' | tr -d '\r')
	[ -n "$HOSTILE_DIGEST" ] || { die "the hostile registry does not answer"; return 1; }
	export HOSTILE_DIGEST
	[ -z "$mode" ] || export HOSTILE_IMAGE=$HOSTILE/hostile/$mode:latest
}
