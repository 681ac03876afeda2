#!/usr/bin/env bats
# login and logout: the credentials file (auth.json) and its fallbacks, as podman keeps them.
# login asks the registry (GET /v2/ with the credentials): two local registries without
# auth stand in for any registry (R1, R2); test 9 checks a real refusal (htpasswd).

load helpers
load registry

PTYRUN=$BATS_TEST_DIRNAME/ptyrun

function setup() {
	skiff_setup
	# a private environment: no credentials of the user running the tests are seen
	AUTHDIR=$BATS_TEST_TMPDIR/auth
	mkdir -p "$AUTHDIR/home" "$AUTHDIR/xdg-run" "$AUTHDIR/xdg-config"
	export HOME=$AUTHDIR/home XDG_RUNTIME_DIR=$AUTHDIR/xdg-run XDG_CONFIG_HOME=$AUTHDIR/xdg-config
	unset REGISTRY_AUTH_FILE DOCKER_CONFIG
	AF=$AUTHDIR/dir$TESTNUM/auth.json
	start_hostile_registry
	R2=$HOSTILE
	start_registry
	R1=$REGISTRY
}

function teardown() {
	stop_registry
	skiff_teardown
}

# b64 TEXT: base64 of TEXT, as auth.json stores "user:password"
function b64() {
	printf '%s' "$1" | base64 -w0
}

# auth_of FILE KEY: the "auth" field of KEY in FILE
function auth_of() {
	jq -r --arg k "$2" '.auths[$k].auth // "none"' "$1"
}

# pty STEPS... -- ARGS...: skiff on a pty, driven by tests/system/ptyrun
function pty() {
	local -a steps=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		steps+=("$1")
		shift
	done
	shift
	run timeout 60 "$PTYRUN" "${steps[@]}" -- "$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "$@"
	echo "$output"
}

@test "login: -u/-p writes auth.json 0600 in a new 0700 directory, --get-login reads it" {
	run_skiff login --authfile "$AF" -u user$TESTNUM -p 'pa:ss word' -v $R1
	is "${lines[0]}" "Used:  $AF" "-v names the file written"
	is "${lines[1]}" "Login Succeeded!"
	is "$(auth_of "$AF" $R1)" "$(b64 "user$TESTNUM:pa:ss word")" "auth is base64(user:password)"
	is "$(stat -c %a "$AF")" "600" "file mode"
	is "$(stat -c %a "$(dirname "$AF")")" "700" "directory mode"

	run_skiff login --authfile "$AF" --get-login $R1
	is "$output" "user$TESTNUM"
	run_skiff login --authfile "$AF" --get-login $R1/some/repo
	is "$output" "user$TESTNUM" "a repository under the registry uses the registry's login"
	# a URL is reduced to its host
	run_skiff login --authfile "$AF" --get-login https://$R1/v2/
	is "$output" "user$TESTNUM"
	run_skiff 125 login --authfile "$AF" --get-login $R2
	is "$output" "Error: not logged into $R2"
	run_skiff 125 login --authfile "$AF" --get-login
	is "$output" "Error: not logged into docker.io" "no registry: docker.io"
}

@test "login: keeps other keys and unknown fields; namespaces are their own keys" {
	mkdir -p "$(dirname "$AF")"
	cat >"$AF" <<EOF
{"auths": {"other.example": {"auth": "$(b64 o:p)", "email": "me@example"}},
 "HttpHeaders": {"User-Agent": "t$TESTNUM"}, "credHelpers": {}}
EOF
	chmod 0644 "$AF"
	run_skiff login --authfile "$AF" -u a -p b $R2
	run_skiff login --authfile "$AF" -u c -p d $R2/org$TESTNUM
	run_skiff login --authfile "$AF" -u e -p f $R2
	is "$(auth_of "$AF" other.example)" "$(b64 o:p)" "other key kept"
	is "$(jq -r '.auths["other.example"].email' "$AF")" "me@example" "its other fields too"
	is "$(jq -r '.HttpHeaders["User-Agent"]' "$AF")" "t$TESTNUM" "unknown top-level field kept"
	is "$(auth_of "$AF" $R2)" "$(b64 e:f)" "entry replaced"
	is "$(auth_of "$AF" $R2/org$TESTNUM)" "$(b64 c:d)" "namespace entry"
	is "$(stat -c %a "$AF")" "600" "rewritten 0600"

	run_skiff login --authfile "$AF" --get-login $R2/org$TESTNUM/repo
	is "$output" "c" "the most specific key wins"
	run_skiff login --authfile "$AF" --get-login $R2/other
	is "$output" "e"

	run_skiff 125 login --authfile "$AF" -u x -p y $R2/org/repo:tag
	assert "$output" =~ "contains tag or digest" "$output"
}

@test "login: --password-stdin, and what cannot be combined" {
	run_skiff login --authfile "$AF" -u s$TESTNUM --password-stdin $R2 <<<"from-stdin"
	is "$output" "Login Succeeded!"
	is "$(auth_of "$AF" $R2)" "$(b64 "s$TESTNUM:from-stdin")" "the newline is not part of the password"

	run_skiff 125 login --authfile "$AF" -u x -p y --password-stdin $R2 </dev/null
	is "$output" "Error: Can't specify both --password-stdin and --password"
	run_skiff 125 login --authfile "$AF" --password-stdin $R2 </dev/null
	is "$output" "Error: Must provide --username with --password-stdin"
	run_skiff 125 login --authfile "$AF" a.example b.example
	assert "$output" =~ "at most 1 argument" "$output"
}

@test "login: without a terminal a missing username or password is an error" {
	run_skiff 125 login --authfile "$AF" $R2 </dev/null
	is "$output" "Error: cannot prompt for the username: stdin is not a terminal (use --username)"
	run_skiff 125 login --authfile "$AF" -u x $R2 </dev/null
	assert "$output" =~ "cannot prompt for the password: stdin is not a terminal" "$output"
	[ ! -e "$AF" ] || die "nothing written: $(cat "$AF")"
}

@test "login: prompts on the terminal, the password without echo" {
	pty expect:'Username: ' send:"tty$TESTNUM\n" expect:'Password: ' send:'hidden-pw\n' expect:'Login Succeeded' \
		-- login --authfile "$AF" $R2
	is "$status" 0 "status"
	assert "$output" !~ "hidden-pw" "the password is not echoed"
	assert "$output" =~ "tty$TESTNUM" "the username is"
	is "$(auth_of "$AF" $R2)" "$(b64 "tty$TESTNUM:hidden-pw")"

	# -p without -u offers the stored user; an empty answer keeps it
	pty "expect:Username \\(tty$TESTNUM\\): " send:'\n' expect:'Login Succeeded' \
		-- login --authfile "$AF" -p second $R2
	is "$status" 0 "status"
	is "$(auth_of "$AF" $R2)" "$(b64 "tty$TESTNUM:second")"

	# no -u nor -p: the stored credentials are used
	run_skiff login --authfile "$AF" $R2
	is "${lines[0]}" "Authenticating with existing credentials for $R2"
	is "${lines[1]}" "Existing credentials are valid. Already logged in to $R2"
}

@test "login: default file and REGISTRY_AUTH_FILE; fallbacks are read, not written" {
	run_skiff login -u d$TESTNUM -p pw -v $R1
	is "${lines[0]}" "Used:  $XDG_RUNTIME_DIR/containers/auth.json" "default: \$XDG_RUNTIME_DIR/containers/auth.json"
	is "$(auth_of "$XDG_RUNTIME_DIR/containers/auth.json" $R1)" "$(b64 "d$TESTNUM:pw")"

	export REGISTRY_AUTH_FILE=$AUTHDIR/env.json
	run_skiff login -u e$TESTNUM -p pw -v $R1
	is "${lines[0]}" "Used:  $REGISTRY_AUTH_FILE"
	run_skiff login --get-login $R1
	is "$output" "e$TESTNUM" "REGISTRY_AUTH_FILE is read"
	run_skiff login --authfile "$AF" -u f$TESTNUM -p pw -v $R1
	is "${lines[0]}" "Used:  $AF" "--authfile beats REGISTRY_AUTH_FILE"
	unset REGISTRY_AUTH_FILE

	# $DOCKER_CONFIG/config.json is podman's default --authfile, checked by logout
	export DOCKER_CONFIG=$AUTHDIR/dc
	run_skiff 125 logout $R1
	is "$output" "Error: checking authfile: stat $DOCKER_CONFIG/config.json: No such file or directory"
	run_skiff login -u g$TESTNUM -p pw -v $R1
	is "${lines[0]}" "Used:  $DOCKER_CONFIG/config.json"
	run_skiff logout $R1
	is "$output" "Removed login credentials for $R1"
	unset DOCKER_CONFIG

	# docker's file, with a URL key, is a fallback for reading
	mkdir -p "$HOME/.docker"
	printf '{"auths": {"https://index.docker.io/v1/": {"auth": "%s"}}}\n' "$(b64 dock$TESTNUM:pw)" \
		>"$HOME/.docker/config.json"
	run_skiff login --get-login docker.io
	is "$output" "dock$TESTNUM" "~/.docker/config.json is read"
	run_skiff 125 login --authfile "$AF" --get-login docker.io
	is "$output" "Error: not logged into docker.io" "--authfile is the only file read"
	# logout leaves docker's file alone, and says so
	run_skiff logout docker.io
	is "$output" "Not logged into docker.io with current tool. Existing credentials were established via docker login. Please use docker logout instead."
	is "$(auth_of "$HOME/.docker/config.json" https://index.docker.io/v1/)" "$(b64 dock$TESTNUM:pw)"
}

@test "logout: one registry, then --all; podman's messages and exit codes" {
	run_skiff login --authfile "$AF" -u a -p b $R2
	run_skiff login --authfile "$AF" -u c -p d $R2/org$TESTNUM
	run_skiff login --authfile "$AF" -u e -p f $R1
	jq '. + {"detachKeys": "ctrl-q"}' "$AF" >"$AF.new" && mv "$AF.new" "$AF"

	run_skiff logout --authfile "$AF" $R2
	is "$output" "Removed login credentials for $R2"
	is "$(auth_of "$AF" $R2)" "none"
	is "$(auth_of "$AF" $R2/org$TESTNUM)" "$(b64 c:d)" "the namespace's login stays"
	is "$(stat -c %a "$AF")" "600"

	run_skiff 125 logout --authfile "$AF" $R2
	is "$output" "Error: not logged into $R2"
	run_skiff 125 logout --authfile "$AF" never$TESTNUM.example
	is "$output" "Error: not logged into never$TESTNUM.example"
	run_skiff 125 logout --authfile "$AF" -a $R2
	is "$output" "Error: --all takes no arguments"

	run_skiff logout --authfile "$AF" --all
	is "$output" "Removed login credentials for all registries"
	is "$(jq -c .auths "$AF")" "{}" "every login removed"
	is "$(jq -r .detachKeys "$AF")" "ctrl-q" "other fields kept"

	run_skiff 125 logout --authfile "$AUTHDIR/missing$TESTNUM.json" $R2
	is "$output" "Error: checking authfile: stat $AUTHDIR/missing$TESTNUM.json: No such file or directory"
	# the default file, missing: not logged in
	run_skiff 125 logout $R2
	is "$output" "Error: not logged into $R2"
}

@test "login/logout: a broken auth file is reported, never overwritten" {
	mkdir -p "$(dirname "$AF")"
	for content in 'not json' '{"auths": []}' "{\"auths\": {\"$R2\": {\"auth\": \"!!!\"}}}" \
		"{\"auths\": {\"$R2\": {\"auth\": \"$(b64 nocolon)\"}}}"; do
		printf '%s' "$content" >"$AF"
		run_skiff 125 login --authfile "$AF" --get-login $R2
		assert "$output" =~ "$AF" "the error names the file: $output"
		is "${#lines[@]}" 1 "one line: $output"
		run_skiff 125 login --authfile "$AF" -u a -p b $R2
		assert "$output" =~ "$AF" "$output"
		is "$(cat "$AF")" "$content" "the file is unchanged"
	done
	# logout cannot rewrite a file it cannot parse
	for content in 'not json' '{"auths": []}'; do
		printf '%s' "$content" >"$AF"
		run_skiff 125 logout --authfile "$AF" --all
		assert "$output" =~ "$AF" "$output"
		run_skiff 125 logout --authfile "$AF" $R2
		assert "$output" =~ "$AF" "$output"
		is "$(cat "$AF")" "$content" "the file is unchanged"
	done
}

@test "login: the registry checks the credentials; a refused login stores nothing" {
	start_registry --htpasswd
	run_skiff 125 login --authfile "$AF" -u "$REGISTRY_USER" -p wrong "$REGISTRY"
	assert "$output" =~ "authentication required|unauthorized" "refused: $output"
	[ ! -e "$AF" ] || is "$(auth_of "$AF" "$REGISTRY")" none "nothing stored"
	run_skiff login --authfile "$AF" -u "$REGISTRY_USER" -p "$REGISTRY_PASS" "$REGISTRY"
	is "$output" "Login Succeeded!"
	is "$(auth_of "$AF" "$REGISTRY")" "$(b64 "$REGISTRY_USER:$REGISTRY_PASS")"
	run_skiff login --authfile "$AF" "$REGISTRY"
	is "${lines[1]}" "Existing credentials are valid. Already logged in to $REGISTRY"
	local reg=$REGISTRY
	stop_registry
	run_skiff 125 login --authfile "$AF" -u a -p b "$reg"
	assert "$output" =~ "pinging container registry $reg" "a registry that is gone"
}
