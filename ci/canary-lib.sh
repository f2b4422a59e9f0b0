# shellcheck shell=bash
# Shared by ci/canaries.sh (libFuzzer) and ci/canaries-afl.sh (AFL++):
# which canaries to run, the scratch tree a canary is patched into, and the
# first line of a failure worth showing. Sourced from the repository root;
# the caller defines die().

# Sets canaries=(...) from ci/canaries/NN-name.patch, or the subset CANARIES
# names (NN or NN-name).
canary_select() {
	local all want hit c
	mapfile -t all < <(find ci/canaries -maxdepth 1 -type f -name '[0-9][0-9]-*.patch' 2>/dev/null |
		sed 's|.*/||; s/\.patch$//' | sort)
	[ ${#all[@]} -gt 0 ] || die "no canaries in ci/canaries/ (NN-name.patch)"
	canaries=()
	if [ -z "${CANARIES:-}" ]; then
		canaries=("${all[@]}")
		return
	fi
	for want in $CANARIES; do
		hit=
		for c in "${all[@]}"; do
			if [ "$c" = "$want" ] || [ "${c%%-*}" = "$want" ]; then
				hit=$c
			fi
		done
		[ -n "$hit" ] || die "unknown canary '$want'; known: ${all[*]}"
		canaries+=("$hit")
	done
}

# What a canary's tree is made of: the paths the build, the targets and the
# seeds need. Absent optional ones (dict/, corpus/) are skipped.
tree_paths=(src harness tests corpus dict CMakeLists.txt ci docs)

make_tree() {
	local tree=$1 p
	rm -rf "$tree"
	mkdir -p "$tree"
	for p in "${tree_paths[@]}"; do
		[ -e "$p" ] && cp -r "$p" "$tree/"
	done
	if [ ! -f "$tree/CMakeLists.txt" ] || [ ! -x "$tree/ci/build.sh" ]; then
		die "incomplete tree copy in $tree"
	fi
}

# Removes from a canary's tree the inputs its patch withholds (lines
# "# Withheld: GLOB", relative to the tree): the regressions filed after its
# bug was found, so that the canary measures what the seeds and the fuzzers
# find, not an input written for the bug.
canary_withhold() {   # tree patch
	local g f
	while read -r g; do
		for f in "$1"/$g; do
			[ -f "$f" ] || continue
			rm -f "$f"
			echo "  withheld: ${f#"$1"/}"
		done
	done < <(sed -n 's/^# Withheld: //p' "$2")
}

# first_message LOG FALLBACK: the first line that says what failed (the
# oracle, a sanitizer, an assert), else the first line matching the
# engine's FALLBACK pattern; at most 110 characters.
first_message() {
	local m
	m=$(grep -m1 -E 'lsecho oracle:|ERROR: (AddressSanitizer|LeakSanitizer):|runtime error:|Assertion .* failed' "$1" 2>/dev/null) ||
		m=$(grep -m1 -E "$2" "$1" 2>/dev/null) ||
		m="(no sanitizer or oracle message; see $1)"
	m=$(sed -E 's/^==[0-9]+== ?//' <<<"$m")   # ASan's ==pid== prefix
	m=${m#"${m%%[![:space:]]*}"}
	# An assert names the binary and the source path: keep from the file name.
	[[ $m == *Assertion* ]] && m=$(sed -E 's|^[^ ]*: [^ ]*/([^/ ]+:[0-9]+: )|\1|' <<<"$m")
	printf '%s' "${m:0:110}"
}
