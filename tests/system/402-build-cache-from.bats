#!/usr/bin/env bats
# skiff build --cache-from: an empty store (a CI machine) reuses the layers of an image
# built elsewhere and pushed: no RUN runs, no COPY copies, the layers are the pushed ones;
# a changed context file misses from its COPY on; a cache-from image that cannot be had
# is a warning. Root and rootless.

load helpers
load registry

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	CTX=$SKIFF_TEST_ROOT/ctx
	mkdir -p "$CTX"
	echo "content a" >"$CTX/a.txt"
	echo "content b" >"$CTX/b.txt"
	cat >"$CTX/Dockerfile" <<EOF
FROM $IMAGE
ARG V=1
ENV E=\$V
RUN echo marker-run-one && echo "one \$E" > /one
COPY a.txt /a.txt
RUN echo marker-run-two && cat /a.txt > /two
WORKDIR /w
COPY --chmod=600 b.txt .
CMD ["cat", "/two"]
EOF
}

function teardown() {
	stop_registry
	skiff_teardown
}

# layers IMAGE: its diff ids, one line
function layers() {
	run_skiff image inspect --format '{{json .RootFS.Layers}}' "$1"
	echo "$output"
}

# uses_cache: how many "--> Using cache" lines $output has
function uses_cache() {
	grep -c -- '--> Using cache' <<<"$output" || true
}

# ran MARKER: 1 when a RUN printed MARKER (a line of its own, not the STEP line), else 0
function ran() {
	grep -cx -- "$1" <<<"$output" || true
}

# fresh_store: an empty store holding only the base image (a new CI machine)
function fresh_store() {
	run_skiff system reset -f
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff images -q
	assert "${#lines[@]}" -eq 1 "only the base image is left: $output"
}

@test "build --cache-from: an empty store reuses every RUN and COPY of a pushed image" {
	start_registry
	run_skiff build -t cf$TESTNUM "$CTX"
	is "$(ran marker-run-one)" 1 "the first build runs its RUNs"
	run_skiff push -q cf$TESTNUM "$REGISTRY/cf/app:v1"
	local want
	want=$(layers cf$TESTNUM | tail -n1)

	fresh_store
	run_skiff build --cache-from "$REGISTRY/cf/app:v1" -t again$TESTNUM "$CTX"
	is "$(ran marker-run-one)$(ran marker-run-two)" 00 "no RUN ran: $output"
	is "$(uses_cache)" 4 "both RUNs and both COPYs came from the cache-from image"
	is "$(layers again$TESTNUM | tail -n1)" "$want" "the same layers (diff ids) as the pushed image"
	run_skiff run --rm again$TESTNUM
	is "$output" "content a" "the image runs"
	run_skiff run --rm again$TESTNUM sh -c 'cat /one; stat -c %a /w/b.txt; echo $E; pwd'
	is "$output" "one 1
600
1
/w" "files, ENV and WORKDIR as built"
	# the config is the one this build makes: CMD from the Dockerfile, history of each step
	run_skiff image inspect --format '{{json .Config.Cmd}}' again$TESTNUM
	is "$output" '["cat","/two"]' "Cmd"
	run_skiff history --format '{{.CreatedBy}}' again$TESTNUM
	assert "$output" =~ "#\(nop\) ENV E=1" "metadata history is expanded: $output"
	assert "$output" =~ "COPY --chmod=600 sha256:" "COPY history names its flags and digest: $output"

	# the keys were recorded: a rebuild here hits the local cache without --cache-from
	run_skiff build -t local$TESTNUM "$CTX"
	is "$(ran marker-run-one)$(ran marker-run-two)" 00 "local cache: $output"
	is "$(uses_cache)" 5 "every step (and the end) from the local cache"
}

@test "build --cache-from: a changed file misses from its COPY on; other build args miss" {
	start_registry
	run_skiff build -q -t cf$TESTNUM "$CTX"
	run_skiff push -q cf$TESTNUM "$REGISTRY/cf/app:v1"
	fresh_store

	echo "changed a" >"$CTX/a.txt"
	run_skiff build --cache-from "$REGISTRY/cf/app:v1" -t ch$TESTNUM "$CTX"
	is "$(ran marker-run-one)" 0 "the RUN before the change came from the cache-from image"
	is "$(ran marker-run-two)" 1 "the RUN after the changed COPY ran: $output"
	is "$(uses_cache)" 1 "only the first RUN hit"
	run_skiff run --rm ch$TESTNUM
	is "$output" "changed a" "the new content"

	# a build arg changes history (ENV E=2, |1 V=2): nothing matches
	fresh_store
	echo "content a" >"$CTX/a.txt"
	run_skiff build --cache-from "$REGISTRY/cf/app:v1" --build-arg V=2 -t arg$TESTNUM "$CTX"
	is "$(ran marker-run-one)" 1 "another build arg: the RUN runs"
	is "$(uses_cache)" 0 "no step hit"
	run_skiff run --rm arg$TESTNUM cat /one
	is "$output" "one 2" "built with V=2"
}

@test "build --cache-from: a missing image is a warning; a comma list; without it every step runs" {
	start_registry
	run_skiff build -q -t cf$TESTNUM "$CTX"
	run_skiff push -q cf$TESTNUM "$REGISTRY/cf/app:v1"
	fresh_store

	run_skiff build --cache-from "$REGISTRY/cf/nope:v1" -t miss$TESTNUM "$CTX"
	assert "$output" =~ "WARN.*--cache-from $REGISTRY/cf/nope:v1: not used" "a warning names the image: $output"
	is "$(ran marker-run-one)" 1 "the build runs"
	run_skiff run --rm miss$TESTNUM
	is "$output" "content a" "and its image works"

	fresh_store
	run_skiff build -t plain$TESTNUM "$CTX"
	is "$(ran marker-run-one)" 1 "without --cache-from the RUNs run"
	is "$(ran marker-run-two)" 1 "marker-run-two ran"
	is "$(uses_cache)" 0 "nothing from a cache"

	fresh_store
	run_skiff build --cache-from "$REGISTRY/cf/nope:v1, $REGISTRY/cf/app:v1" -t list$TESTNUM "$CTX"
	is "$(ran marker-run-one)$(ran marker-run-two)" 00 "the second image of a comma list is used: $output"
	is "$(uses_cache)" 4 "every RUN and COPY"

	# --no-cache ignores --cache-from
	run_skiff build --no-cache --cache-from "$REGISTRY/cf/app:v1" -t nc$TESTNUM "$CTX"
	is "$(ran marker-run-one)" 1 "--no-cache runs every step"
}
