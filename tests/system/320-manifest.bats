#!/usr/bin/env bats
# manifest create/add/annotate/inspect/remove/rm/exists on local images, and push to a
# real registry (then pull by platform), inspect and add of docker:// references.
# Root and rootless.

load helpers
load registry

function setup() {
	skiff_setup
	require_fixture busybox.docker.tar
	require_fixture multilayer.docker.tar
}

function teardown() {
	stop_registry
	skiff_teardown
}

function load_both() {
	run_skiff load -q -i "$FIXTURES/busybox.docker.tar"
	run_skiff load -q -i "$FIXTURES/multilayer.docker.tar"
}

# image_field IMAGE KEY: sets $field to a field of `image inspect`
function image_field() {
	run_skiff image inspect "$1"
	field=$(jq -r ".[0].$2" <<<"$output")
}

@test "manifest create, add, annotate, inspect, remove" {
	load_both
	local list=t$TESTNUM-list
	run_skiff manifest create $list
	assert "$output" =~ '^[0-9a-f]{64}$' "create prints the list's ID"
	local id=$output

	# an empty list looks as podman shows it
	run_skiff manifest inspect $list
	is "$output" '{
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests": null
}' "empty list"

	run_skiff manifest add $list $IMAGE
	is "$output" "$id" "add prints the list's ID"
	run_skiff manifest add --arch arm64 --variant v8 --os-version 1.0 --annotation a=b $list \
		containers-storage:$MULTI_IMAGE
	is "$output" "$id"

	local bb_digest multi_digest bb_arch
	image_field $IMAGE Digest
	bb_digest=$field
	image_field $MULTI_IMAGE Digest
	multi_digest=$field
	image_field $IMAGE Architecture
	bb_arch=$field
	run_skiff manifest inspect $list
	local doc=$output
	is "$(jq '.manifests | length' <<<"$doc")" 2 "two entries"
	is "$(jq -r '.manifests[0].digest' <<<"$doc")" "$bb_digest" "first entry is busybox's manifest"
	is "$(jq -r '.manifests[0].platform.architecture' <<<"$doc")" "$bb_arch" "platform from the config"
	is "$(jq -r '.manifests[1].digest' <<<"$doc")" "$multi_digest"
	is "$(jq -c '.manifests[1].platform' <<<"$doc")" \
		'{"architecture":"arm64","os":"linux","os.version":"1.0","variant":"v8"}' "overridden platform"
	is "$(jq -c '.manifests[1].annotations' <<<"$doc")" '{"a":"b"}'
	# podman's layout: 4-space indent, keys in its order
	assert "$doc" =~ '        \{
            "mediaType": "application/vnd.docker.distribution.manifest.v2\+json",
            "size": [0-9]+,
            "digest": "sha256:' "entry key order"

	# adding the same image again replaces its entry
	run_skiff manifest add $list $IMAGE
	run_skiff manifest inspect $list
	is "$(jq '.manifests | length' <<<"$output")" 2 "no duplicate entry"

	# annotations replace the entry's; the platform can be changed by digest or by image
	run_skiff manifest annotate --annotation k=v --annotation k2=v2 --os-features f1,f2 $list $multi_digest
	is "$output" "$id"
	run_skiff manifest annotate --arch arm --variant v7 $list $IMAGE
	run_skiff manifest inspect $list
	is "$(jq -c '.manifests[1].annotations' <<<"$output")" '{"k":"v","k2":"v2"}'
	is "$(jq -c '.manifests[1].platform["os.features"]' <<<"$output")" '["f1","f2"]'
	is "$(jq -r '.manifests[0].platform | .architecture + "/" + .variant' <<<"$output")" "arm/v7"

	run_skiff manifest remove $list $bb_digest
	is "$output" "$id"
	run_skiff manifest inspect $list
	is "$(jq -r '[.manifests[].digest] | join(" ")' <<<"$output")" "$multi_digest" "busybox's entry is gone"
	run_skiff 125 manifest remove $list $bb_digest
	assert "$output" =~ "no instance matching digest \"$bb_digest\" found in manifest list"

	# the images are untouched, and images still works with a list present
	run_skiff images --format '{{.Repository}}:{{.Tag}}' --sort repository
	is "$output" "localhost/skiff-test/busybox:latest
localhost/skiff-test/multi:latest" "images lists the images only"
}

@test "manifest exists, create conflicts, rm, rmi of a list" {
	load_both
	local list=t$TESTNUM-l1
	run_skiff manifest create $list $IMAGE
	local id=$output
	run_skiff manifest exists $list
	run_skiff manifest exists localhost/$list:latest
	run_skiff manifest exists ${id:0:12}
	run_skiff 1 manifest exists t$TESTNUM-nolist
	run_skiff 125 manifest exists $IMAGE
	assert "$output" =~ "image is not a manifest list" "an image is not a list"

	run_skiff 125 manifest create $list
	assert "$output" =~ "image name \"localhost/$list:latest\" is already associated with image \"$id\"" \
		"a second list of that name"
	run_skiff manifest create --amend $list
	is "$output" "$id" "--amend keeps the list"
	run_skiff 125 manifest create $IMAGE
	assert "$output" =~ "that name is already in use" "an image's name"

	run_skiff 1 manifest rm $list t$TESTNUM-nolist
	assert "$output" =~ "Error: t$TESTNUM-nolist: image not known"
	assert "$output" =~ "Untagged: localhost/$list:latest
Deleted: $id"
	run_skiff 1 manifest exists $list
	run_skiff 125 manifest rm $IMAGE
	assert "$output" =~ "not a manifest list"

	# rmi of a list's name removes the list, not its images
	run_skiff manifest create t$TESTNUM-l2 $IMAGE
	local id2=$output
	run_skiff rmi t$TESTNUM-l2
	is "$output" "Untagged: localhost/t$TESTNUM-l2:latest
Deleted: $id2"
	run_skiff 1 manifest exists t$TESTNUM-l2
	run_skiff image exists $IMAGE
}

@test "manifest: bad input is refused and changes nothing" {
	load_both
	local list=t$TESTNUM-bad
	run_skiff manifest create $list $IMAGE
	run_skiff manifest inspect $list
	local before=$output
	run_skiff 125 manifest annotate --arch arm64 $list sha256:1234
	assert "$output" =~ 'invalid image digest "sha256:1234"'
	run_skiff 125 manifest annotate --annotation novalue $list $IMAGE
	assert "$output" =~ 'no value given for annotation "novalue"'
	run_skiff 125 manifest add --annotation =x $list $MULTI_IMAGE
	assert "$output" =~ 'no key given for annotation "=x"'
	run_skiff 125 manifest add $list containers-storage:t$TESTNUM-nothere
	assert "$output" =~ "t$TESTNUM-nothere: image not known"
	run_skiff 125 manifest add --retry 0 $list docker://127.0.0.1:1/t$TESTNUM/none:1
	assert "$output" =~ 'reading image "docker://127.0.0.1:1/'
	run_skiff 125 manifest create "t$TESTNUM-x@sha256:$(printf '1%.0s' {1..64})"
	assert "$output" =~ "cannot have a digest"
	run_skiff 125 manifest remove $list not-a-digest
	assert "$output" =~ 'invalid image digest "not-a-digest"'
	run_skiff 125 manifest push --format v3 $list 127.0.0.1:1/x:1
	assert "$output" =~ 'unsupported manifest format "v3"'
	run_skiff manifest inspect $list
	is "$output" "$before" "the list did not change"
}

@test "manifest push --all, then pull --arch picks the annotated image" {
	load_both
	start_registry
	local list=t$TESTNUM-push dest=$REGISTRY/t$TESTNUM/multi:1
	local bb_id multi_id bb_arch
	image_field $IMAGE Id
	bb_id=$field
	image_field $MULTI_IMAGE Id
	multi_id=$field
	image_field $IMAGE Architecture
	bb_arch=$field
	run_skiff manifest create $list $IMAGE $MULTI_IMAGE
	run_skiff manifest annotate --arch arm64 --os linux $list $MULTI_IMAGE

	run_skiff manifest push --all --digestfile $BATS_TEST_TMPDIR/digest $list docker://$dest
	assert "$output" =~ "Copying 2 of 2 images in list" "progress names the instances"
	assert "$output" =~ "Writing manifest list to image destination"
	local digest
	digest=$(cat $BATS_TEST_TMPDIR/digest)
	assert "$digest" =~ '^sha256:[0-9a-f]{64}$' "--digestfile"

	# the registry has the list under the tag, with the digest written
	registry_curl -D $BATS_TEST_TMPDIR/h -o $BATS_TEST_TMPDIR/index \
		-H "Accept: application/vnd.docker.distribution.manifest.list.v2+json" /v2/t$TESTNUM/multi/manifests/1
	is "$(tr -d '\r' <$BATS_TEST_TMPDIR/h | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')" "$digest"
	is "$(jq -r .mediaType $BATS_TEST_TMPDIR/index)" "application/vnd.docker.distribution.manifest.list.v2+json"
	is "$(jq -r '[.manifests[].platform.architecture] | join(" ")' $BATS_TEST_TMPDIR/index)" "$bb_arch arm64"
	# every instance is there, by digest
	local d code
	for d in $(jq -r '.manifests[].digest' $BATS_TEST_TMPDIR/index); do
		code=$(registry_curl -o /dev/null -w '%{http_code}' -I \
			-H "Accept: application/vnd.docker.distribution.manifest.v2+json" /v2/t$TESTNUM/multi/manifests/$d)
		is "$code" 200 "instance $d is in the registry"
	done

	# manifest inspect of the remote list shows the same document
	run_skiff --separate-stderr manifest inspect docker://$dest
	is "$(jq -c . <<<"$output")" "$(jq -c . $BATS_TEST_TMPDIR/index)" "remote inspect"

	# without --all the list names the local manifests, which the registry lacks
	run_skiff 125 manifest push --all=false $list $REGISTRY/t$TESTNUM/multi:none
	assert "$output" =~ "unknown" "the registry refuses a list of what it does not have"
	run_skiff manifest exists $list

	# --format oci pushes the images and the list as OCI; --rm removes the local list after
	run_skiff manifest push --rm --format oci -q $list $REGISTRY/t$TESTNUM/multi:oci
	run_skiff 1 manifest exists $list
	run_skiff --separate-stderr manifest inspect $REGISTRY/t$TESTNUM/multi:oci
	is "$(jq -r .mediaType <<<"$output")" "application/vnd.oci.image.index.v1+json" "--format oci"
	is "$(jq -r '[.manifests[].mediaType] | unique | join(" ")' <<<"$output")" \
		"application/vnd.oci.image.manifest.v1+json" "OCI images"

	# the round trip: pull --arch arm64 of the list gives the annotated image
	run_skiff rmi $MULTI_IMAGE
	run_skiff --separate-stderr pull --arch arm64 $dest
	is "$output" "$multi_id" "pull --arch arm64 gives the multi image"
	run_skiff --separate-stderr pull --arch $bb_arch $dest
	is "$output" "$bb_id" "pull --arch $bb_arch gives busybox"

	run_skiff --separate-stderr pull --arch arm64 $REGISTRY/t$TESTNUM/multi:oci
	is "$output" "$multi_id" "the OCI list gives the same image"
}

@test "manifest inspect and add of docker:// references" {
	start_registry
	local pushed
	pushed=$(push_fixture_image t$TESTNUM/bb:1)

	# a single image: its manifest, with a warning
	run_skiff --separate-stderr manifest inspect docker://$REGISTRY/t$TESTNUM/bb:1
	is "$(jq -r .schemaVersion <<<"$output")" 2
	assert "$(jq -r .config.digest <<<"$output")" =~ '^sha256:' "a manifest, not a list"
	assert "$stderr" =~ "not a manifest list but a single image"

	# add it to a list: the entry is the registry's manifest, platform from its config
	local list=t$TESTNUM-remote
	run_skiff manifest create $list
	run_skiff manifest add --annotation from=registry $list docker://$REGISTRY/t$TESTNUM/bb:1
	run_skiff manifest inspect $list
	is "$(jq -r '.manifests[0].digest' <<<"$output")" "$pushed" "the pushed digest"
	is "$(jq -r '.manifests[0].platform.os' <<<"$output")" linux
	is "$(jq -r '.manifests[0].annotations.from' <<<"$output")" registry

	# pushing to another repository copies (mounts) the instance there
	run_skiff manifest push $list $REGISTRY/t$TESTNUM/copy:1
	local code
	code=$(registry_curl -o /dev/null -w '%{http_code}' -I \
		-H "Accept: application/vnd.oci.image.manifest.v1+json" /v2/t$TESTNUM/copy/manifests/$pushed)
	is "$code" 200 "the instance was copied to the destination repository"

	# an index: without --all the entry for this platform, with --all every entry
	run_skiff manifest create t$TESTNUM-l2
	run_skiff manifest add --all t$TESTNUM-l2 docker://$REGISTRY/t$TESTNUM/copy:1
	run_skiff manifest inspect t$TESTNUM-l2
	is "$(jq -r '.manifests[0].digest' <<<"$output")" "$pushed" "entries of the remote list"
}
