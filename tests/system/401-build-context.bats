#!/usr/bin/env bats
# skiff build, continued: the context (.dockerignore with exceptions, a hostile symlink,
# a tarball, stdin), heredocs, WORKDIR, what a RUN layer leaves out (mount targets,
# secrets), --layers=false, --rm/--force-rm, -q, --squash/--squash-all, the history of
# a built image. Root and rootless.

load helpers

function setup() {
	skiff_setup
	require_fixture
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	CTX=$SKIFF_TEST_ROOT/ctx
	mkdir -p "$CTX"
}

@test "build context: .dockerignore with a ! exception, a symlink out of the context, a tarball, stdin" {
	mkdir -p "$CTX/logs" "$CTX/src"
	echo keep >"$CTX/src/main.c"
	echo secret >"$CTX/logs/a.log"
	echo wanted >"$CTX/logs/keep.log"
	echo junk >"$CTX/notes.tmp"
	ln -s /etc/passwd "$CTX/passwd-link"
	printf 'logs/*\n!logs/keep.log\n*.tmp\n' >"$CTX/.dockerignore"
	cat >"$CTX/Dockerfile" <<EOF
FROM $IMAGE
COPY . /ctx/
EOF
	run_skiff build -q -t ign$TESTNUM "$CTX"
	run_skiff run --rm ign$TESTNUM sh -c 'cd /ctx && find . -type f -o -type l | sort'
	is "$output" "./.dockerignore
./Dockerfile
./logs/keep.log
./passwd-link
./src/main.c" ".dockerignore excludes logs/* and *.tmp, ! re-includes logs/keep.log"
	run_skiff run --rm ign$TESTNUM readlink /ctx/passwd-link
	is "$output" "/etc/passwd" "a symlink is copied as a symlink, not followed out of the context"

	# a COPY through the symlink resolves it inside the context: there is no etc/passwd there
	printf 'FROM %s\nCOPY passwd-link /got\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff 125 build -q "$CTX"
	assert "$output" =~ "passwd" "a source symlink leading out of the context fails: $output"
	mkdir -p "$CTX/etc"
	echo "context passwd" >"$CTX/etc/passwd"
	run_skiff build -q -t sym$TESTNUM "$CTX"
	run_skiff run --rm sym$TESTNUM cat /got
	is "$output" "context passwd" "the symlink resolved inside the context, not to the host's file"

	# the same context as a tarball, and as a tar on stdin
	printf 'FROM %s\nCOPY src/main.c /main.c\n' "$IMAGE" >"$CTX/Dockerfile"
	tar -C "$CTX" -czf "$SKIFF_TEST_ROOT/ctx.tar.gz" .
	run_skiff build -q -t tar$TESTNUM "$SKIFF_TEST_ROOT/ctx.tar.gz"
	run_skiff run --rm tar$TESTNUM cat /main.c
	is "$output" "keep" "context from a tarball"
	run_skiff build -q -t stdin$TESTNUM - <"$SKIFF_TEST_ROOT/ctx.tar.gz"
	run_skiff run --rm stdin$TESTNUM cat /main.c
	is "$output" "keep" "context from stdin (-)"
}

@test "build: heredocs in RUN and COPY, WORKDIR makes its directory, RUN layers leave out mount targets" {
	cat >"$CTX/Containerfile" <<'EOF'
ARG IMG
FROM $IMG
ENV WHO=heredoc
WORKDIR /app/sub
RUN <<EOT
echo "run by $WHO" > /run.txt
pwd >> /run.txt
EOT
COPY <<EOT /app/copied.txt
copied for ${WHO}
EOT
RUN cat <<EOT > /cat.txt
inline $WHO
EOT
WORKDIR /empty/dir
EOF
	run_skiff build -t hd$TESTNUM --build-arg IMG=$IMAGE "$CTX"
	run_skiff run --rm hd$TESTNUM sh -c 'cat /run.txt /app/copied.txt /cat.txt; pwd; ls -d /app/sub'
	is "$output" "run by heredoc
/app/sub
copied for heredoc
inline heredoc
/empty/dir
/app/sub" "RUN <<EOT script, COPY <<EOT expanded, RUN cmd <<EOT, WORKDIR dirs exist"
	run_skiff diff hd$TESTNUM
	is "$output" "A /empty
A /empty/dir" "a WORKDIR at the end is its own layer"

	printf 'FROM %s\nRUN echo x > /x\n' "$IMAGE" >"$CTX/Containerfile"
	run_skiff build -q -t mt$TESTNUM "$CTX"
	run_skiff diff mt$TESTNUM
	is "$output" "A /x" "the RUN layer has its file and not /etc/hosts, /etc/resolv.conf, /etc/hostname, /run/.containerenv"
}

@test "build: RUN --mount=type=secret is readable in RUN and absent from the image" {
	echo "s3cr3t-$TESTNUM" >"$SKIFF_TEST_ROOT/secret"
	cat >"$CTX/Dockerfile" <<EOF
FROM $IMAGE
RUN --mount=type=secret,id=tok cat /run/secrets/tok > /seen && ls /run/secrets > /listed
EOF
	run_skiff build -q -t sec$TESTNUM --secret id=tok,src="$SKIFF_TEST_ROOT/secret" "$CTX"
	run_skiff run --rm sec$TESTNUM sh -c 'cat /seen /listed; ls /run/secrets 2>&1 || true'
	assert "$output" =~ "s3cr3t-$TESTNUM" "the RUN read the secret"
	assert "$output" =~ "No such file" "/run/secrets is not in the image: $output"
	run_skiff diff sec$TESTNUM
	is "$output" "A /listed
A /seen" "the layer holds only what the RUN wrote"
	run_skiff save -o "$SKIFF_TEST_ROOT/sec.tar" sec$TESTNUM
	run grep -c "s3cr3t-$TESTNUM" "$SKIFF_TEST_ROOT/sec.tar"
	is "$output" "1" "the secret's text is in the image only where the RUN copied it (/seen)"
	run_skiff 125 build -q "$CTX"
	assert "$output" =~ "secret tok" "a missing --secret is named: $output"
}

@test "build: RUN --mount=type=bind from the context (keyed on its content, rw writes a copy) and from a stage" {
	mkdir -p "$CTX/src"
	echo one >"$CTX/src/f"
	echo hidden >"$CTX/src/secret.txt"
	printf 'src/secret.txt\n' >"$CTX/.dockerignore"
	cat >"$CTX/Dockerfile" <<EOF
FROM $IMAGE AS data
RUN mkdir /data && echo from-stage > /data/x
FROM $IMAGE
RUN --mount=type=bind,source=src,target=/s cat /s/f > /out && ls /s > /listing
RUN --mount=type=bind,target=/c,rw touch /c/written-by-run && echo ok > /rw
RUN --mount=type=bind,from=data,source=/data,target=/d cat /d/x > /y
EOF
	run_skiff build -t bm$TESTNUM "$CTX"
	run_skiff run --rm bm$TESTNUM sh -c 'cat /out /listing /rw /y; ls /s /c /d 2>/dev/null | wc -l'
	is "$output" "one
f
ok
from-stage
0" "the binds' content at build time; nothing of them in the image; the ignored file not bound"
	[ ! -e "$CTX/written-by-run" ] || die "a rw bind wrote into the context"
	run_skiff build -t bm$TESTNUM "$CTX"
	hits=$(grep -c -- "--> Using cache" <<<"$output")
	assert "$hits" -eq 4 "all cached: $output"
	echo two >"$CTX/src/f"
	run_skiff build -t bm$TESTNUM "$CTX"
	hits=$(grep -c -- "--> Using cache" <<<"$output")
	assert "$hits" -eq 1 "a changed file under the bind misses from that RUN on (the data stage hits): $output"
	run_skiff run --rm bm$TESTNUM cat /out
	is "$output" "two" "the new content"
	printf 'FROM %s\nRUN --mount=type=bind,from=nosuch%s,target=/x true\n' "$IMAGE" "$TESTNUM" >"$CTX/Dockerfile"
	run_skiff 125 build --pull=never "$CTX"
	assert_output --partial "nosuch$TESTNUM"
	printf 'FROM %s\nRUN --mount=type=bind,source=../..,target=/x true\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff 125 build "$CTX"
	assert_output --partial "escapes"
	run_skiff ps -a -q
	is "$output" "" "no build containers left"
}

@test "build: --layers=false, --rm=false, --force-rm, -q hides RUN output, image build, history" {
	cat >"$CTX/Dockerfile" <<EOF
FROM $IMAGE
RUN echo visible-output
RUN echo two > /two
LABEL done=yes
EOF
	run_skiff images -q -a
	local before=${#lines[@]}
	run_skiff build --layers=false -t nl$TESTNUM "$CTX"
	assert "$output" =~ "visible-output" "RUN output is shown"
	run_skiff images -q -a
	assert "${#lines[@]}" -eq $((before + 1)) "--layers=false keeps only the final image: $output"
	run_skiff build --layers=false -t nl$TESTNUM "$CTX"
	refute_line --partial "Using cache"

	run_skiff image build -q -t q$TESTNUM "$CTX"
	assert "${#lines[@]}" -eq 1 "image build -q: only the id, no RUN output: $output"
	assert "${#output}" -eq 64 "the id: $output"

	run_skiff build --rm=false --no-cache -q "$CTX"
	run_skiff ps -a -q
	assert "${#lines[@]}" -eq 2 "--rm=false keeps the two RUN containers: $output"
	run_skiff rm -a -f

	printf 'FROM %s\nRUN exit 4\n' "$IMAGE" >"$CTX/Dockerfile"
	run_skiff 4 build --force-rm "$CTX"
	run_skiff 4 build --rm "$CTX"
	run_skiff ps -a -q
	is "$output" "" "no container left after failed builds"

	run_skiff history --format '{{.CreatedBy}}|{{.Size}}' q$TESTNUM
	assert "${lines[0]}" =~ "^/bin/sh -c #\(nop\) LABEL done=yes\|0 ?B" "history, newest first: $output"
	assert "${lines[1]}" =~ "^/bin/sh -c echo two > /two\|" "RUN entry"
	assert "${lines[2]}" =~ "^/bin/sh -c echo visible-output\|" "RUN entry"
}

@test "build: --squash keeps the base's layers and squashes the rest, --squash-all makes one layer" {
	cat >"$CTX/Dockerfile" <<EOF
FROM $IMAGE
RUN echo a > /a
RUN echo b > /b && rm /a
COPY Dockerfile /
EOF
	run_skiff image inspect --format '{{len .RootFS.Layers}}' $IMAGE
	local base=$output
	run_skiff build -q -t nosq$TESTNUM "$CTX"
	run_skiff image inspect --format '{{len .RootFS.Layers}}' nosq$TESTNUM
	is "$output" "$((base + 3))" "one layer per RUN and COPY"
	run_skiff build -q --squash -t sq$TESTNUM "$CTX"
	run_skiff image inspect --format '{{len .RootFS.Layers}}' sq$TESTNUM
	is "$output" "$((base + 1))" "--squash: the base's layers + one"
	run_skiff diff sq$TESTNUM
	is "$output" "A /Dockerfile
A /b" "the squashed layer: /a was made and removed, so it is not there"
	run_skiff build -q --squash-all -t sqa$TESTNUM "$CTX"
	run_skiff image inspect --format '{{len .RootFS.Layers}}' sqa$TESTNUM
	is "$output" "1" "--squash-all: one layer"
	run_skiff run --rm sqa$TESTNUM sh -c 'cat /b; test ! -e /a && ls /Dockerfile'
	is "$output" "b
/Dockerfile" "the squashed image has the result"
	run_skiff 125 build --squash --squash-all "$CTX"
	assert "$output" =~ "cannot be used together" "$output"
}
