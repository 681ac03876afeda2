#!/usr/bin/env bats
# diff, export, commit: a container's changes, its filesystem as a tar, and a new image
# made from it. Root and rootless; overlay (the default) and vfs.

load helpers

function setup() {
	skiff_setup
	require_fixture
	# the vfs test makes its store with that driver
	[[ $BATS_TEST_DESCRIPTION == vfs* ]] || run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
}

# Changes made inside the container: an added tree, a changed file, a deleted file, a
# replaced (opaque) directory.
CHANGES='mkdir -p /a/b && echo z > /a/b/f && echo x >> /etc/passwd && rm /bin/cut && rm -rf /home && mkdir /home && touch /home/new'

@test "diff: A, C and D after changes; json; the engine's own files left out" {
	local c=d$TESTNUM
	run_skiff create --name $c "$IMAGE" true
	run_skiff diff $c
	is "$output" "" "a new container has no changes"
	run_skiff diff --format json $c
	is "$output" "{}" "no changes in json"
	run_skiff run --name r$TESTNUM "$IMAGE" sh -c "$CHANGES"
	run_skiff diff r$TESTNUM
	assert_line "A /a"
	assert_line "A /a/b"
	assert_line "A /a/b/f"
	assert_line "C /bin"
	assert_line "D /bin/cut"
	assert_line "C /etc/passwd"
	assert_line "D /home"
	assert_line "A /home/new"
	refute_line "A /etc/hosts"
	refute_line "A /etc/resolv.conf"
	refute_line "A /run/.containerenv"
	# in the order of a walk of the tree
	local walk
	walk=$(printf '%s\n' "${lines[@]}" | grep -n -e '^A /a/b/f$' -e '^C /bin$' | cut -d: -f1 | tr '\n' ' ')
	assert "$walk" =~ "^[0-9]+ [0-9]+ $" "both present: $walk"
	run_skiff container diff --format json r$TESTNUM
	assert "$output" =~ '"added": \[' "json has added: $output"
	assert "$output" =~ '"deleted": \[' "json has deleted"
	assert "$output" =~ '"/bin/cut"' "json names the deleted file"
	run_skiff 125 diff nonexistent$TESTNUM
	assert "$output" =~ "nonexistent$TESTNUM not found: no container or image" "missing container or image"
	run_skiff 125 diff --format yaml r$TESTNUM
	assert "$output" =~ "only json" "bad format: $output"
}

@test "export: the whole filesystem with the changes, to a file or a pipe; not to a terminal" {
	run_skiff run --name r$TESTNUM "$IMAGE" sh -c "$CHANGES"
	local tarfile=$SKIFF_TEST_ROOT/export.tar
	run_skiff export -o "$tarfile" r$TESTNUM
	is "$output" "" "export -o prints nothing"
	run tar -tf "$tarfile"
	assert_success
	assert_line "a/b/f"
	assert_line "bin/busybox"
	assert_line "home/new"
	refute_line "bin/cut"
	assert_line "etc/passwd"
	run tar -xOf "$tarfile" etc/passwd
	assert "${lines[-1]}" = "x" "the changed content is exported"
	# stdout, redirected
	"$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" export r$TESTNUM >"$tarfile.2"
	run tar -tf "$tarfile.2"
	assert_line "a/b/f"
	# a terminal
	run script -qec "$SKIFF --root $SKIFF_TEST_ROOT/root --runroot $SKIFF_TEST_ROOT/runroot export r$TESTNUM" /dev/null
	assert "$status" -eq 125 "refused: $output"
	assert "$output" =~ "refusing to export to terminal" "message: $output"
	run_skiff 125 export nonexistent$TESTNUM
	assert "$output" =~ "no such container" "missing container"
}

@test "commit: run the new image and see the changes; progress, -q, names" {
	run_skiff run --name r$TESTNUM "$IMAGE" sh -c "$CHANGES"
	run_skiff --separate-stderr commit r$TESTNUM img$TESTNUM
	local id=$output
	assert "${#id}" -eq 64 "commit prints the new id: $id"
	assert "$stderr" =~ "Getting image source signatures" "progress: $stderr"
	assert "$stderr" =~ "Copying blob sha256:" "progress"
	assert "$stderr" =~ "Writing manifest to image destination" "progress"
	run_skiff images --format '{{.Repository}}:{{.Tag}}' localhost/img$TESTNUM
	is "$output" "localhost/img$TESTNUM:latest" "a name without registry goes to localhost/"
	run_skiff run --rm img$TESTNUM sh -c 'cat /a/b/f; tail -1 /etc/passwd; ls /home; test -e /bin/cut || echo nocut'
	is "$output" "z
x
new
nocut" "the new image has the container's changes"
	run_skiff image inspect --format '{{len .RootFS.Layers}} {{.Parent}}' img$TESTNUM
	local base
	base=$("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" image inspect --format '{{.Id}}' "$IMAGE")
	is "$output" "2 $base" "one layer more than the base, whose id is the parent"
	run_skiff --separate-stderr commit -q --iidfile "$SKIFF_TEST_ROOT/iid" r$TESTNUM
	assert "$output" =~ "^[0-9a-f]{64}$" "-q prints only the id: $output"
	is "$stderr" "" "-q: no progress"
	is "$(<"$SKIFF_TEST_ROOT/iid")" "sha256:$output" "--iidfile"
	# an unchanged container still gets a (empty) layer, as podman
	run_skiff create --name e$TESTNUM "$IMAGE" true
	run_skiff commit -q e$TESTNUM empty$TESTNUM
	run_skiff image inspect --format '{{len .RootFS.Layers}}' empty$TESTNUM
	is "$output" "2" "empty layer added"
}

@test "commit -c, -a, -m, -f docker; the container's own settings" {
	run_skiff create --name c$TESTNUM -e FOO=bar -w /tmp -l cl=1 "$IMAGE" sh -c 'echo from-cmd'
	run_skiff commit -q -a "Ann Author" -m "the message" \
		-c 'ENV A=1 B="x y"' -c 'LABEL l1=v1' -c 'EXPOSE 8080' -c 'STOPSIGNAL SIGINT' \
		c$TESTNUM img$TESTNUM
	run_skiff image inspect --format '{{json .Config.Env}}' img$TESTNUM
	assert "$output" =~ '"FOO=bar"' "container env: $output"
	assert "$output" =~ '"A=1","B=x y"' "-c ENV: $output"
	run_skiff image inspect --format '{{.Config.Labels.l1}} {{.Config.Labels.cl}} {{.Config.WorkingDir}} {{.Config.StopSignal}}' img$TESTNUM
	is "$output" "v1 1 /tmp 2" "labels, workdir, stop signal"
	run_skiff image inspect --format '{{json .Config.ExposedPorts}} {{json .Config.Cmd}}' img$TESTNUM
	is "$output" '{"8080/tcp":{}} ["sh","-c","echo from-cmd"]' "ports and the container's command"
	run_skiff image inspect --format '{{.Author}}' img$TESTNUM
	is "$output" "Ann Author" "author"
	run_skiff history --format '{{.CreatedBy}}|{{.Comment}}' img$TESTNUM
	is "${lines[0]}" "/bin/sh|the message" "-m in history"
	run_skiff image inspect --format '{{json .History}}' img$TESTNUM
	assert "$output" =~ '"author":"Ann Author","comment":"the message"' "-a in history: $output"
	run_skiff run --rm img$TESTNUM
	is "$output" "from-cmd" "the command is the container's"
	run_skiff commit -q -c 'CMD ["echo","changed"]' c$TESTNUM img2$TESTNUM
	run_skiff run --rm img2$TESTNUM
	is "$output" "changed" "-c CMD"
	run_skiff commit -q -f docker c$TESTNUM d$TESTNUM
	run_skiff image inspect --format '{{.ManifestType}}' d$TESTNUM
	is "$output" "application/vnd.docker.distribution.manifest.v2+json" "-f docker"
}

@test "commit --squash: one layer with the whole filesystem" {
	run_skiff run --name r$TESTNUM "$IMAGE" sh -c "$CHANGES"
	run_skiff commit -q --squash r$TESTNUM sq$TESTNUM
	run_skiff image inspect --format '{{len .RootFS.Layers}} {{len .History}}' sq$TESTNUM
	is "$output" "1 1" "one layer, one history entry"
	run_skiff run --rm sq$TESTNUM sh -c 'cat /a/b/f; ls /home; test -e /bin/cut || echo nocut; echo hi | cut -c1 || true'
	assert_line "z"
	assert_line "new"
	assert_line "nocut"
}

@test "commit: errors name the problem" {
	run_skiff create --name c$TESTNUM "$IMAGE" true
	run_skiff 125 commit nonexistent$TESTNUM
	assert "$output" =~ "no container with name or ID \"nonexistent$TESTNUM\" found" "missing container"
	run_skiff 125 commit -c 'BOGUS x' c$TESTNUM
	assert "$output" =~ 'invalid change "BOGUS x": invalid instruction BOGUS' "bad -c: $output"
	run_skiff 125 commit -c 'CMD' c$TESTNUM
	assert "$output" =~ 'must be formatted as KEY VALUE' "empty -c: $output"
	run_skiff 125 commit -c 'EXPOSE nope' c$TESTNUM
	assert "$output" =~ 'invalid port "nope"' "bad port: $output"
	run_skiff 125 commit c$TESTNUM 'Bad:Name'
	assert "$output" =~ "invalid reference format" "bad name: $output"
	run_skiff 125 commit -f xml c$TESTNUM
	assert "$output" =~ 'unrecognized image type "xml"' "bad format: $output"
	run_skiff images -q
	is "${#lines[@]}" "1" "no image was made by the failures"
}

@test "vfs: diff and commit compare the trees" {
	local vfs=(--storage-driver vfs)
	run_skiff "${vfs[@]}" load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff "${vfs[@]}" run --name r$TESTNUM "$IMAGE" sh -c "$CHANGES"
	run_skiff "${vfs[@]}" diff r$TESTNUM
	assert_line "A /a/b/f"
	assert_line "C /etc/passwd"
	assert_line "D /bin/cut"
	assert_line "A /home/new"
	run_skiff "${vfs[@]}" commit -q r$TESTNUM v$TESTNUM
	run_skiff "${vfs[@]}" run --rm v$TESTNUM sh -c 'cat /a/b/f; ls /home; test -e /bin/cut || echo nocut'
	is "$output" "z
new
nocut" "the vfs commit carries the changes and the deletions"
}

@test "diff IMAGE: the top layer against the layers below it" {
	run_skiff run --name d$TESTNUM "$IMAGE" sh -c 'touch /newfile; rm /bin/ls'
	run_skiff commit -q d$TESTNUM localhost/t$TESTNUM/diffed
	run_skiff diff localhost/t$TESTNUM/diffed
	assert "$output" =~ "A /newfile" "an added file: $output"
	assert "$output" =~ "D /bin/ls" "a deleted file: $output"
	assert "$output" =~ "C /bin" "its directory changed: $output"
	run_skiff diff "$IMAGE"
	assert "$output" =~ "A /bin/busybox" "a one-layer image: everything is added"
	run_skiff 125 diff nosuch$TESTNUM
	assert "$output" =~ "nosuch$TESTNUM not found: no container or image" "neither: $output"
}
