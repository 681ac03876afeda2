#!/usr/bin/env bats
# skiff-runtime: the OCI runtime's command line (spec so far).

load helpers

RUNTIME=${SKIFF_RUNTIME_BIN:-$(dirname "$SKIFF")/skiff-runtime}

@test "skiff-runtime spec writes a valid default config.json" {
	local b=$SKIFF_TEST_ROOT/bundle100
	mkdir -p "$b"
	run "$RUNTIME" spec -b "$b"
	assert "$status" -eq 0 "spec: $output"
	run jq -r '.ociVersion, .process.args[0], .root.path, (.process.capabilities.bounding | length), .process.noNewPrivileges' "$b/config.json"
	is "$output" "1.0.0
sh
rootfs
11
true" "default spec fields"
	run jq -r '[.linux.namespaces[].type] | join(",")' "$b/config.json"
	if is_rootless; then
		assert "$output" =~ "user" "rootless spec has a user namespace"
		run jq -r ".linux.uidMappings[0].hostID" "$b/config.json"
		is "$output" "$(id -u)" "maps our uid"
	else
		assert "$output" !~ "user" "rootful spec has no user namespace"
	fi
	run jq -r '.linux.maskedPaths | index("/proc/kcore") != null' "$b/config.json"
	is "$output" "true" "masked paths"
}

@test "skiff-runtime spec --rootless, errors and usage" {
	local b=$SKIFF_TEST_ROOT/bundle100b
	mkdir -p "$b"
	run "$RUNTIME" spec --rootless --bundle "$b"
	assert "$status" -eq 0 "spec --rootless"
	run jq -r '[.linux.namespaces[].type] | index("user") != null' "$b/config.json"
	is "$output" "true" "--rootless adds the user namespace"
	run "$RUNTIME" spec -b "$b"
	assert "$status" -eq 1 "existing config.json"
	assert "$output" =~ "already exists" "says so"
	run "$RUNTIME" spec -b "$SKIFF_TEST_ROOT/nonexistent"
	assert "$status" -eq 1 "missing bundle"
	assert "$output" =~ "nonexistent" "names the bundle"
	run "$RUNTIME" bogus
	assert "$status" -eq 1 "unknown command"
	run "$RUNTIME" --version
	assert "$output" =~ "skiff-runtime version" "version"
}

@test "crun accepts what skiff-runtime spec writes" {
	command -v crun >/dev/null || skip "crun is not installed"
	local b=$SKIFF_TEST_ROOT/bundle100c
	mkdir -p "$b/rootfs"
	run "$RUNTIME" spec -b "$b"
	# crun parses the whole config before it touches the system; a parse error names the file
	run crun --root "$SKIFF_TEST_ROOT/crun-state" create --bundle "$b" t100-$(random_string 6)
	assert "$output" !~ "config.json|parse|invalid|unknown version" "crun parsed the config: $output"
	crun --root "$SKIFF_TEST_ROOT/crun-state" list -q 2>/dev/null | xargs -r -n1 crun --root "$SKIFF_TEST_ROOT/crun-state" delete -f 2>/dev/null || true
}
