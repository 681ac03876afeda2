# -*- bash -*-
# Helpers for skiff's bats system tests, in podman's test/system style.
#
# A test file starts with `load helpers`. It gets:
#   SKIFF           the skiff binary ($SKIFF_BIN, else <repo>/bin/skiff)
#   FIXTURES        the test images ($SKIFF_FIXTURES, else <repo>/${B:-build}/fixtures)
#   HELPER_DIR      tests/helpers binaries ($SKIFF_HELPER_DIR, else <repo>/${B:-build}/tests)
#   SKIFF_TEST_ROOT a fresh directory per test (per file with SKIFF_STORE_PER_FILE=1);
#                   run_skiff points --root and --runroot inside it
#   TESTNUM         the file's number (005 for 005-run.bats): put it in object names
#   IMAGE, MULTI_IMAGE  the fixture images' names
# and the functions run_skiff, is, assert, die, skip_if_rootless, skip_if_root,
# is_rootless, wait_for, random_string, tname, require_fixture, and bats-support /
# bats-assert (assert_output, assert_line, refute_output, fail ...; note that our
# `assert` replaces bats-assert's expression form).
#
# A file that needs its own setup/teardown defines them and calls skiff_setup /
# skiff_teardown (and skiff_setup_file / skiff_teardown_file) from them.
#
# Environment knobs: SKIFF_TIMEOUT (seconds per skiff command, default 60),
# SKIFF_TEST_TMPDIR (where per-file stores go, default $TMPDIR or /tmp),
# SKIFF_KEEP_ROOT=1 (do not delete stores, for debugging).

# Variables set here are for the test files.
# shellcheck disable=SC2034

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

SKIFF_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SKIFF=${SKIFF_BIN:-$SKIFF_REPO/bin/skiff}
FIXTURES=${SKIFF_FIXTURES:-$SKIFF_REPO/${B:-build}/fixtures}
HELPER_DIR=${SKIFF_HELPER_DIR:-$SKIFF_REPO/${B:-build}/tests}
SKIFF_TIMEOUT=${SKIFF_TIMEOUT:-60}

IMAGE=localhost/skiff-test/busybox:latest
MULTI_IMAGE=localhost/skiff-test/multi:latest

# 005-run.bats -> 005; files without a number get 000.
TESTNUM=$(basename "$BATS_TEST_FILENAME" .bats)
TESTNUM=${TESTNUM%%-*}
[[ $TESTNUM =~ ^[0-9]+$ ]] || TESTNUM=000

# ---------------------------------------------------------------------------
# setup and teardown

# Each test gets a fresh store, SKIFF_TEST_ROOT, removed after it (kept with
# SKIFF_KEEP_ROOT=1). A file whose tests build on each other sets
# SKIFF_STORE_PER_FILE=1 at its top instead: setup_file then makes one store for
# the whole file. Stores live outside bats' temp dirs: a rootless store can hold
# files owned by subordinate ids that only `skiff unshare` can remove.
function _skiff_new_root() { # tag
	local base=${SKIFF_TEST_TMPDIR:-${TMPDIR:-/tmp}} d
	d=$(mktemp -d "$base/skiff-t$TESTNUM-$1.XXXXXX") || die "cannot create a test store in $base"
	chmod 0700 "$d"
	echo "$d"
}

function _skiff_drop_root() { # dir
	local dir=$1
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	if [ -n "${SKIFF_KEEP_ROOT:-}" ]; then
		echo "# kept the store $dir" >&3
		return 0
	fi
	if [ -d "$dir/root" ]; then
		# Best effort: stop what the test left running before deleting its store.
		timeout 20 "$SKIFF" --root "$dir/root" --runroot "$dir/runroot" rm --all --force --time 0 \
			</dev/null >/dev/null 2>&1 || true
	fi
	_skiff_remove_tree "$dir"
}

function skiff_setup_file() {
	if [ -n "${SKIFF_STORE_PER_FILE:-}" ]; then
		SKIFF_TEST_ROOT=$(_skiff_new_root file)
		export SKIFF_TEST_ROOT
	fi
}

function skiff_teardown_file() {
	if [ -n "${SKIFF_STORE_PER_FILE:-}" ]; then
		_skiff_drop_root "${SKIFF_TEST_ROOT:-}"
	fi
}

function skiff_setup() {
	if [ -z "${SKIFF_STORE_PER_FILE:-}" ] || [ -z "${SKIFF_TEST_ROOT:-}" ] || [ ! -d "$SKIFF_TEST_ROOT" ]; then
		SKIFF_TEST_ROOT=$(_skiff_new_root "${BATS_TEST_NUMBER:-0}")
		_SKIFF_ROOT_PER_TEST=1
	fi
}

function skiff_teardown() {
	if [ -n "${_SKIFF_ROOT_PER_TEST:-}" ]; then
		_skiff_drop_root "${SKIFF_TEST_ROOT:-}"
		unset _SKIFF_ROOT_PER_TEST
	fi
}

function setup_file() { skiff_setup_file; }
function teardown_file() { skiff_teardown_file; }
function setup() { skiff_setup; }
function teardown() { skiff_teardown; }

# Remove a test store: unmount what is mounted below it (root), then delete it,
# from inside the user namespace when plain rm cannot (rootless).
function _skiff_remove_tree() {
	local dir=$1 m
	if ! is_rootless && [ -r /proc/self/mountinfo ]; then
		# Deepest first.
		while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	fi
	rm -rf "$dir" 2>/dev/null && return 0
	if is_rootless; then
		# Files owned by subordinate ids: delete from inside a user namespace that
		# maps them, skiff's own or one util-linux makes from /etc/subuid.
		timeout 60 "$SKIFF" --root "$dir/root" --runroot "$dir/runroot" unshare rm -rf "$dir" \
			</dev/null >/dev/null 2>&1 || true
		[ -e "$dir" ] || return 0
		timeout 60 unshare --map-root-user --map-auto rm -rf "$dir" </dev/null >/dev/null 2>&1 || true
		[ -e "$dir" ] || return 0
	fi
	echo "# warning: could not remove $dir" >&3
}

# ---------------------------------------------------------------------------
# running skiff

# run_skiff [--separate-stderr] [EXPECTED-STATUS] ARGS...
#
# Runs skiff on this file's store, with a timeout. EXPECTED-STATUS is a number
# (default 0) or '?' for any. Sets $output (stdout and stderr together, or only
# stdout with --separate-stderr, which puts stderr in $stderr), $status and
# $lines. On a status other than the expected one, prints the command, its
# output and both statuses, and fails the test.
function run_skiff() {
	local separate=
	if [ "${1:-}" = "--separate-stderr" ]; then
		separate=1
		shift
	fi
	local expected=0
	if [[ ${1:-} =~ ^[0-9]+$ || ${1:-} = '?' ]]; then
		expected=$1
		shift
	fi
	[ -n "${SKIFF_TEST_ROOT:-}" ] || skiff_setup
	local -a cmd=("$SKIFF" --root "$SKIFF_TEST_ROOT/root" --runroot "$SKIFF_TEST_ROOT/runroot" "$@")
	local outfile="$BATS_TEST_TMPDIR/run_skiff.out" errfile="$BATS_TEST_TMPDIR/run_skiff.err"

	echo "# $(date +%T) \$ skiff $*"
	# Output goes to files, not a pipe: a child that keeps stdout open (a leaked
	# monitor, say) cannot hang the test. Without --foreground, timeout signals the
	# whole process group, so a hung skiff's children go too; stdin comes from
	# /dev/null unless the test redirected it (a background group must not read a tty).
	stderr=
	status=0
	if [ -n "$separate" ]; then
		_skiff_timeout "${cmd[@]}" >"$outfile" 2>"$errfile" || status=$?
		stderr=$(<"$errfile")
	else
		_skiff_timeout "${cmd[@]}" >"$outfile" 2>&1 || status=$?
	fi
	output=$(<"$outfile")
	rm -f "$outfile" "$errfile"
	if [ -n "$output" ]; then
		lines=()
		mapfile -t lines <<<"$output"
	else
		lines=()
	fi
	[ -z "$output" ] || echo "$output"
	[ -z "$stderr" ] || echo "$stderr" >&2
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		if [ "$expected" != "$status" ]; then
			_skiff_fail_box "skiff $*" "timed out after ${SKIFF_TIMEOUT}s (status $status)"
			return 1
		fi
	fi
	if [ "$expected" != '?' ] && [ "$status" -ne "$expected" ]; then
		_skiff_fail_box "skiff $*" "exit status $status, expected $expected" "$output" "$stderr"
		return 1
	fi
	return 0
}

function _skiff_timeout() {
	if [ -t 0 ]; then
		timeout -v --kill-after=10 "$SKIFF_TIMEOUT" "$@" </dev/null
	else
		timeout -v --kill-after=10 "$SKIFF_TIMEOUT" "$@"
	fi
}

function _skiff_fail_box() { # command problem [output] [stderr]
	{
		echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
		echo "#|  FAIL: $1"
		echo "#|        $2"
		if [ -n "${3:-}" ]; then
			echo "#| output:"
			echo "#|   ${3//$'\n'/$'\n'#|   }"
		fi
		if [ -n "${4:-}" ]; then
			echo "#| stderr:"
			echo "#|   ${4//$'\n'/$'\n'#|   }"
		fi
		echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
	} >&2
	false
}

# ---------------------------------------------------------------------------
# checks

# die MESSAGE: fail the test now.
function die() {
	echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv" >&2
	echo "#| FAIL: $*" >&2
	echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^" >&2
	false
}

# is ACTUAL EXPECTED [MESSAGE]: ACTUAL equals EXPECTED, or matches it as an
# extended regex anchored at both ends. EXPECTED '' means "no output".
function is() {
	local actual=$1 expect=$2 msg=${3:-${BATS_TEST_DESCRIPTION:-check}}
	if [ -z "$expect" ]; then
		[ -z "$actual" ] && return 0
		expect='[no output]'
	elif [ "$actual" = "$expect" ]; then
		return 0
	elif [[ $actual =~ ^($expect)$ ]]; then
		return 0
	fi
	{
		echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
		echo "#|     FAIL: $msg"
		echo "#| expected: '$expect'"
		echo "#|   actual: '${actual//$'\n'/$'\n'#|           }'"
		echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
	} >&2
	false
}

# assert ACTUAL OP EXPECTED [MESSAGE]
#   OP: == = != (strings), =~ !~ (extended regex, unanchored),
#       -eq -ne -lt -le -gt -ge (integers)
# assert ACTUAL [MESSAGE]: ACTUAL is not empty.
function assert() {
	local actual=$1 op expect msg ok=
	if [ $# -le 2 ]; then
		msg=${2:-${BATS_TEST_DESCRIPTION:-check}}
		[ -n "$actual" ] && return 0
		die "$msg: value is empty"
		return 1
	fi
	op=$2 expect=$3 msg=${4:-${BATS_TEST_DESCRIPTION:-check}}
	case "$op" in
	'=='|'=') [ "$actual" = "$expect" ] && ok=1 ;;
	'!=') [ "$actual" != "$expect" ] && ok=1 ;;
	'=~') [[ $actual =~ $expect ]] && ok=1 ;;
	'!~') [[ $actual =~ $expect ]] || ok=1 ;;
	-eq|-ne|-lt|-le|-gt|-ge)
		[[ $actual =~ ^-?[0-9]+$ ]] || { die "$msg: '$actual' is not an integer"; return 1; }
		[[ $expect =~ ^-?[0-9]+$ ]] || { die "$msg: '$expect' is not an integer"; return 1; }
		case "$op" in
		-eq) [ "$actual" -eq "$expect" ] ;;
		-ne) [ "$actual" -ne "$expect" ] ;;
		-lt) [ "$actual" -lt "$expect" ] ;;
		-le) [ "$actual" -le "$expect" ] ;;
		-gt) [ "$actual" -gt "$expect" ] ;;
		-ge) [ "$actual" -ge "$expect" ] ;;
		esac && ok=1 ;;
	*) die "assert: unknown operator '$op' (in: assert $*)"; return 1 ;;
	esac
	[ -n "$ok" ] && return 0
	{
		echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
		echo "#|     FAIL: $msg"
		echo "#|   actual: '$actual'"
		echo "#| expected: $op '$expect'"
		echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
	} >&2
	false
}

# ---------------------------------------------------------------------------
# environment

function is_rootless() {
	[ "$(id -u)" -ne 0 ]
}

# skip_if_rootless REASON: skip when not root; the reason names what is missing.
function skip_if_rootless() {
	if is_rootless; then
		skip "${1:-not available rootless}"
	fi
}

function skip_if_root() {
	if ! is_rootless; then
		skip "${1:-only meaningful rootless}"
	fi
}

# require_fixture NAME: fail (not skip) when a fixture is missing: run `make fixtures`.
function require_fixture() {
	[ -e "$FIXTURES/$1" ] || die "fixture $FIXTURES/$1 is missing: run 'make fixtures'"
}

# wait_for [--timeout SECONDS] [--interval SECONDS] COMMAND...
# Polls COMMAND until it succeeds; fails the test after the timeout (default 10s).
# poll_until TIMEOUT CMD...: 0 as soon as CMD succeeds, 1 when TIMEOUT seconds pass first
# (no message: for callers with their own); every 0.1 s.
function poll_until() {
	local deadline=$((SECONDS + $1)) interval=0.1
	shift
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			return 1
		fi
		sleep "$interval" # the poll's interval
	done
}

function wait_for() {
	local timeout=10 interval=0.1
	while :; do
		case "${1:-}" in
		--timeout) timeout=$2; shift 2 ;;
		--interval) interval=$2; shift 2 ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || { die "wait_for: no command"; return 1; }
	local deadline=$((SECONDS + timeout))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			die "wait_for: '$*' did not succeed within ${timeout}s"
			return 1
		fi
		sleep "$interval"
	done
}

# random_string [LENGTH]: lower-case letters and digits (valid in image and container names).
function random_string() {
	local len=${1:-10} s=
	while [ ${#s} -lt "$len" ]; do
		s+=$(head -c 64 /dev/urandom | tr -dc 'a-z0-9')
	done
	echo "${s:0:$len}"
}

# tname [PREFIX]: a unique object name carrying the test file number: t005-PREFIX-abc123
function tname() {
	echo "t$TESTNUM-${1:-obj}-$(random_string 6)"
}
