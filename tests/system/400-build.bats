#!/usr/bin/env bats
# skiff build: instructions into the config, RUN and COPY layers, multi-stage, ARGs, the
# cache (hits, and misses from a changed file or build arg), failures that leave nothing
# behind, and the flags -q, --iidfile, -t. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	CTX=$SKIFF_TEST_ROOT/ctx
	mkdir -p "$CTX"
}

# inspect FORMAT IMAGE: sets $output
function iformat() {
	run_skiff image inspect --format "$1" "$2"
}

@test "build: every metadata instruction ends up in the config, with history" {
	cat >"$CTX/Containerfile" <<EOF
FROM $IMAGE
LABEL a=b "c d"=e
ENV A=1 B="two words"
ENV C \${A}x
EXPOSE 80 53/udp
USER 1000:1000
WORKDIR /w
WORKDIR sub
VOLUME /data
ENTRYPOINT ["/bin/sh", "-c"]
CMD echo hi
HEALTHCHECK --interval=5s --retries=2 CMD true
STOPSIGNAL SIGUSR1
ONBUILD RUN echo triggered
MAINTAINER someone
SHELL ["/bin/sh", "-ec"]
EOF
	run_skiff build -t app$TESTNUM "$CTX"
	assert "${lines[0]}" = "STEP 1/16: FROM $IMAGE" "first step: ${lines[0]}"
	assert "$output" =~ "STEP 16/16: SHELL" "last step"
	assert "$output" =~ "COMMIT localhost/app$TESTNUM:latest" "commit line"
	assert "$output" =~ "Successfully tagged localhost/app$TESTNUM:latest" "tag line"
	local id=${lines[-1]}
	assert "${#id}" -eq 64 "last line is the full id: $id"
	iformat '{{.Config.Env}}' app$TESTNUM
	assert "$output" =~ "A=1 B=two words C=1x" "Env: $output"
	iformat '{{.Config.Labels}}' app$TESTNUM
	assert "$output" =~ "a:b" "Labels: $output"
	assert "$output" =~ "c d:e" "Labels with a quoted key: $output"
	iformat '{{.Config.ExposedPorts}}' app$TESTNUM
	assert "$output" =~ "53/udp" "ExposedPorts: $output"
	assert "$output" =~ "80/tcp" "ExposedPorts: $output"
	iformat '{{.Config.User}} {{.Config.WorkingDir}} {{.Config.StopSignal}}' app$TESTNUM
	is "$output" "1000:1000 /w/sub SIGUSR1" "User, WorkingDir (relative to the previous), StopSignal"
	iformat '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' app$TESTNUM
	is "$output" '["/bin/sh","-c"] ["/bin/sh","-c","echo hi"]' "Entrypoint, Cmd in shell form"
	iformat '{{json .Config.Volumes}}' app$TESTNUM
	assert "$output" =~ '"/data"' "Volumes: $output"
	iformat '{{json .Config.Healthcheck}}' app$TESTNUM
	assert "$output" =~ '"Test":\["CMD-SHELL","true"\]' "Healthcheck test: $output"
	assert "$output" =~ '"Interval":5000000000' "Healthcheck interval: $output"
	assert "$output" =~ '"Retries":2' "Healthcheck retries: $output"
	iformat '{{json .Config.OnBuild}} {{.Author}}' app$TESTNUM
	is "$output" '["RUN echo triggered"] someone' "OnBuild, MAINTAINER"
	run_skiff history --format '{{.CreatedBy}}' app$TESTNUM
	assert "$output" =~ "#\(nop\) ENV A=1" "history names the steps: $output"
	local n
	n=$(grep -c '#(nop)' <<<"$output")
	assert "$n" -eq 15 "one history entry per instruction"
}

@test "build: RUN writes files seen by run; COPY from the context; a failing RUN leaves nothing" {
	echo "from the context" >"$CTX/hello.txt"
	cat >"$CTX/Dockerfile" <<EOF
FROM $IMAGE
ENV GREETING=hi
RUN echo "\$GREETING there" > /greeting && mkdir -p /w
COPY hello.txt /w/
RUN cat /w/hello.txt >> /greeting
EOF
	run_skiff build -t run$TESTNUM "$CTX"
	assert "$output" =~ "STEP 3/5: RUN echo" "RUN step line"
	run_skiff run --rm run$TESTNUM cat /greeting
	is "$output" "hi there
from the context" "RUN saw ENV, COPY's file, earlier RUN's file"

	printf 'FROM %s\nRUN echo before\nRUN exit 3\nRUN echo never\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff 3 build -t bad$TESTNUM "$CTX"
	assert "$output" =~ 'error building at STEP "RUN exit 3": exit status 3' "failure message: $output"
	run_skiff ps -a -q
	is "$output" "" "no container left behind"
	run_skiff 125 image inspect bad$TESTNUM
}

@test "build: multi-stage COPY --from, --target skips later stages, ARG and --build-arg" {
	cat >"$CTX/Dockerfile" <<EOF
ARG BASE=$IMAGE
ARG WHO=world
FROM \$BASE AS builder
ARG WHO
RUN echo "hello \$WHO" > /out
FROM \$BASE AS unused
RUN exit 9
FROM \$BASE
ARG V=default
COPY --from=builder /out /copied
RUN echo "\$V" > /v
EOF
	run_skiff build -t ms$TESTNUM --build-arg V=given "$CTX"
	refute_line --partial "exit 9"
	run_skiff run --rm ms$TESTNUM cat /copied /v
	is "$output" "hello world
given" "COPY --from a stage; a redeclared global ARG; --build-arg over a default"
	run_skiff build -t tg$TESTNUM --target builder --build-arg WHO=you "$CTX"
	assert "$output" =~ "STEP 1/3: FROM" "only the target's steps are counted"
	run_skiff run --rm tg$TESTNUM cat /out
	is "$output" "hello you" "--target"
}

@test "build: the cache: full hits, a changed file misses from its step, a changed build arg misses" {
	echo one >"$CTX/f"
	cat >"$CTX/Dockerfile" <<EOF
FROM $IMAGE
ARG X=1
RUN echo "\$X" > /x
COPY f /f
RUN cat /f /x > /both
EOF
	run_skiff build -t c$TESTNUM "$CTX"
	local first=${lines[-1]}
	refute_line --partial "Using cache"
	run_skiff build -t c$TESTNUM "$CTX"
	local hits
	hits=$(grep -c -- "--> Using cache" <<<"$output")
	assert "$hits" -eq 3 "second build: every step cached ($output)"
	is "${lines[-1]}" "$first" "same image id"

	echo two >"$CTX/f"
	SKIFF_DEBUG_CACHE=1 run_skiff build -t c$TESTNUM "$CTX"
	hits=$(grep -c -- "--> Using cache" <<<"$output")
	assert "$hits" -eq 1 "changed file: the RUN before it hits, COPY and later miss ($output)"
	assert "$output" =~ "cache miss" "the debug line says why"
	run_skiff run --rm c$TESTNUM cat /both
	is "$output" "two
1" "the new content"

	run_skiff build -t c$TESTNUM --build-arg X=2 "$CTX"
	refute_line --partial "Using cache"
	run_skiff run --rm c$TESTNUM cat /both
	is "$output" "two
2" "a changed build arg misses from the RUN that has it"

	run_skiff build --no-cache -t c$TESTNUM --build-arg X=2 "$CTX"
	refute_line --partial "Using cache"
	run_skiff ps -a -q
	is "$output" "" "no build containers left"

	# exec form: the array is the key (["sh","-c","echo a b >/r"] is not
	# ["sh","-c","echo a","b >/r"], nor the shell form of the same words)
	printf 'FROM %s\nRUN ["sh","-c","echo a b >/r"]\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff build -t e$TESTNUM "$CTX"
	printf 'FROM %s\nRUN ["sh","-c","echo a","b >/r"]\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff build -t e$TESTNUM "$CTX"
	refute_line --partial "Using cache"
	printf 'FROM %s\nRUN sh -c "echo a b >/r"\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff build -t e$TESTNUM "$CTX"
	refute_line --partial "Using cache"
	run_skiff history --format '{{.CreatedBy}}' e$TESTNUM
	run_skiff build -t e2$TESTNUM - <<<"$(printf 'FROM %s\nRUN ["sh","-c","echo a b >/r"]\n' "$IMAGE")"
	assert_output --partial "Using cache"
	run_skiff history --no-trunc --format '{{.CreatedBy}}' e2$TESTNUM
	assert_line --index 0 '["sh","-c","echo a b >/r"]'
}

@test "build: parser errors name the line; -q, --iidfile, several -t; stdin Dockerfile" {
	printf 'FROM %s\nENV A=1\nFORM x\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff 125 build "$CTX"
	assert "$output" =~ "Dockerfile:3" "line number: $output"
	printf 'FROM %s\nLABEL x=y\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff build -q --iidfile "$SKIFF_TEST_ROOT/iid" -t one$TESTNUM -t two$TESTNUM "$CTX"
	assert "${#lines[@]}" -eq 1 "-q prints only the id: $output"
	local id=$output
	is "$(cat "$SKIFF_TEST_ROOT/iid")" "sha256:$id" "--iidfile"
	run_skiff images --format '{{.Repository}}:{{.Tag}}' --filter reference=localhost/*
	assert "$output" =~ "localhost/one$TESTNUM:latest" "first tag"
	assert "$output" =~ "localhost/two$TESTNUM:latest" "second tag"
	run_skiff 125 build --platform linux/s390x-nope "$CTX"
	assert "$output" =~ "native platform" "--platform: $output"
	run_skiff image build -q -f - "$CTX" <<<"FROM $IMAGE
LABEL from=stdin"
	iformat '{{.Config.Labels}}' "$output"
	assert "$output" =~ "from:stdin" "-f -"
	# --format: the manifest type, oci by default; the format is part of the cache key
	printf 'FROM %s\nRUN echo f > /f\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff build -q --format docker -t fd$TESTNUM "$CTX"
	iformat '{{.ManifestType}}' fd$TESTNUM
	is "$output" "application/vnd.docker.distribution.manifest.v2+json" "--format docker"
	run_skiff build -t fo$TESTNUM "$CTX"
	refute_line --partial "Using cache"
	iformat '{{.ManifestType}}' fo$TESTNUM
	is "$output" "application/vnd.oci.image.manifest.v1+json" "oci by default, not the docker-format cache hit"
	run_skiff 125 build --format bogus "$CTX"
	assert_output --partial 'unrecognized image type "bogus"'
}
