#!/usr/bin/env bats
# images, image ls, tag, untag, rmi, image exists, inspect, history, image prune

load helpers

function load_busybox() {
	require_fixture busybox.docker.tar
	run_skiff load -i "$FIXTURES/busybox.docker.tar"
}

@test "images on an empty store" {
	run_skiff images
	is "${lines[0]}" "REPOSITORY +TAG +IMAGE ID +CREATED +SIZE" "header"
	assert "${#lines[@]}" -eq 1 "no rows"
	run_skiff images -q
	is "$output" "" "-q prints nothing"
	run_skiff images --format json
	is "$output" "\[\]" "json of nothing"
}

@test "load then images shows the image" {
	load_busybox
	is "$output" "Loaded image: $IMAGE" "load output"
	run_skiff images
	is "${lines[1]}" "localhost/skiff-test/busybox +latest +[0-9a-f]{12} +.* ago +[0-9.]+ [kMG]?B" "row"
	run_skiff images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	local id=${output##* }
	is "$output" "localhost/skiff-test/busybox:latest [0-9a-f]{12}" "template"
	run_skiff images -q
	is "$output" "$id" "-q prints the short id"
	run_skiff images -q --no-trunc
	is "$output" "sha256:$id[0-9a-f]{52}" "--no-trunc id"
	run_skiff images --format json
	run jq -r '.[0].Names[0]' <<<"$output"
	is "$output" "$IMAGE" "json Names"
	run_skiff images --noheading
	assert "${#lines[@]}" -eq 1 "--noheading drops the header"
	run_skiff images --format 'table {{.ID}} {{.Repository}}'
	is "${lines[0]}" "IMAGE ID +REPOSITORY" "table header from fields"
}

@test "tag, untag and image exists" {
	load_busybox
	run_skiff tag $IMAGE t010:one localhost/t010/two:v2
	run_skiff images --format '{{.Repository}}:{{.Tag}}' --sort repository
	assert "$output" =~ "docker.io/library/t010:one" "short name normalised to docker.io"
	assert "$output" =~ "localhost/t010/two:v2" "second tag"
	run_skiff image exists t010:one
	run_skiff image exists docker.io/library/t010:one
	run_skiff 1 image exists t010:nope
	run_skiff untag $IMAGE t010:one
	run_skiff 1 image exists t010:one
	run_skiff image exists localhost/t010/two:v2
	run_skiff 125 tag $IMAGE 'Bad:Name'
	assert "$output" =~ "invalid reference format" "bad tag name"
	run_skiff 125 tag nosuchimage t010:x
	is "$output" "Error: nosuchimage: image not known" "tag of unknown image"
}

@test "images filters" {
	load_busybox
	require_fixture multilayer.docker.tar
	run_skiff load -i "$FIXTURES/multilayer.docker.tar"
	run_skiff images --format '{{.Repository}}' --filter reference=localhost/skiff-test/multi
	is "$output" "localhost/skiff-test/multi" "reference filter"
	run_skiff images --format '{{.Repository}}' --filter 'reference=*busybox*'
	is "$output" "localhost/skiff-test/busybox" "reference glob"
	run_skiff images --format '{{.Repository}}' --filter label=org.skiff.test=busybox
	is "$output" "localhost/skiff-test/busybox" "label filter"
	run_skiff images --format '{{.Repository}}' --filter dangling=true
	is "$output" "" "no dangling images"
	run_skiff untag $MULTI_IMAGE
	run_skiff images --format '{{.Repository}}:{{.Tag}}' --filter dangling=true
	is "$output" "<none>:<none>" "untagged image is dangling"
	run_skiff 125 images --filter bogus=1
	assert "$output" =~ "invalid filter" "unknown filter"
	run_skiff 125 images --sort bogus
	assert "$output" =~ "not a valid sort key" "bad sort key"
}

@test "inspect shows podman's shape" {
	load_busybox
	run_skiff image inspect $IMAGE
	run jq -r '.[0].RepoTags[0], .[0].Config.Cmd[0], .[0].RootFS.Type, .[0].Os, (.[0].RootFS.Layers|length)' <<<"$output"
	is "$output" "$IMAGE
/bin/sh
layers
linux
1" "inspect fields"
	run_skiff inspect --format '{{.Id}}' $IMAGE
	local id=$output
	is "$id" "[0-9a-f]{64}" "Id"
	run_skiff inspect --format '{{index .Config.Labels "org.skiff.test"}}' ${id:0:12}
	is "$output" "busybox" "index function and short id lookup"
	run_skiff 125 inspect nosuchimage
	assert "$output" =~ "no such object" "unknown image"
}

@test "history" {
	load_busybox
	run_skiff history $IMAGE
	is "${lines[0]}" "ID +CREATED +CREATED BY +SIZE +COMMENT" "header"
	assert "${#lines[@]}" -ge 2 "at least one history row"
	run_skiff history --format '{{.ID}}' --no-trunc $IMAGE
	is "${lines[0]}" "sha256:[0-9a-f]{64}" "top row carries the image id"
	run_skiff history -q $IMAGE
	is "${lines[0]}" "[0-9a-f]{12}" "-q"
}

@test "rmi by name, by id, -a, and errors" {
	load_busybox
	run_skiff images -q
	local id=$output
	run_skiff tag $IMAGE localhost/t010/extra:1
	run_skiff rmi localhost/t010/extra:1
	is "$output" "Untagged: localhost/t010/extra:1" "rmi of one of two names only untags"
	run_skiff image exists $IMAGE
	run_skiff tag $IMAGE localhost/t010/extra:1
	run_skiff 2 rmi $id
	assert "$output" =~ "more than one tag" "rmi by id of a multi-tag image needs -f"
	run_skiff rmi -f $id
	assert "$output" =~ "Deleted: $id" "rmi -f by id deletes"
	run_skiff 1 image exists $IMAGE
	run_skiff 1 rmi nosuchimage
	is "$output" "Error: nosuchimage: image not known" "rmi unknown"
	run_skiff rmi -i nosuchimage
	load_busybox
	run_skiff rmi -a
	run_skiff images -q
	is "$output" "" "rmi -a removes everything"
	run_skiff system check
}

@test "image prune" {
	load_busybox
	run_skiff image prune -f
	is "$output" "" "nothing dangling"
	run_skiff untag $IMAGE
	run_skiff image prune -f
	is "$output" "[0-9a-f]{64}" "prune prints the removed id"
	run_skiff images -q
	is "$output" "" "store empty"
	load_busybox
	run_skiff image prune -a -f
	run_skiff images -q
	is "$output" "" "prune -a removes unused images"
}

@test "images --digests, --sort, -a, before and since" {
	load_busybox
	require_fixture multilayer.docker.tar
	run_skiff load -q -i "$FIXTURES/multilayer.docker.tar"
	run_skiff images --digests
	is "${lines[0]}" "REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE" "--digests adds a column"
	is "${lines[1]}" ".* sha256:[0-9a-f]{64} .*" "digest shown"
	run_skiff images -a --sort repository --format '{{.Repository}}'
	is "$output" "localhost/skiff-test/busybox
localhost/skiff-test/multi" "--sort repository"
	run_skiff images --sort size --format '{{.Repository}}'
	is "${lines[0]}" "localhost/skiff-test/busybox" "--sort size: smallest first"
	# both fixtures have the same created time: neither is before or since the other
	run_skiff images --filter before=$MULTI_IMAGE --format '{{.Repository}}'
	is "$output" "" "nothing created before"
	run_skiff import --change 'LABEL t=010' "$FIXTURES/busybox-rootfs.tar" localhost/t010/new
	run_skiff images --filter since=$IMAGE --format '{{.Repository}}'
	is "$output" "localhost/t010/new" "since: the imported image is newer"
	run_skiff images --filter before=localhost/t010/new --format '{{.Repository}}' --sort repository
	is "$output" "localhost/skiff-test/busybox
localhost/skiff-test/multi" "before: the fixtures are older"
	run_skiff 125 images --filter since=nosuchimage
	assert "$output" =~ "nosuchimage: image not known" "unknown image in a filter"
}
