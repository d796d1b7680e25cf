# Sourced by tests/kernels/run (Debian's kernels) and packaging/cross/run (the
# cross toolchain's root): Debian packages fetched without touching the
# machine's apt sources, lists, caches or packages.
#
#   in_suite SUITE COMMAND...   COMMAND (apt-get or apt-cache) with a private
#                               configuration that sees only SUITE; its lists
#                               and downloads are kept in $APT_SUITES_DIR/SUITE
#   APT_ARCH=ARCH in_suite ...  the same for another architecture's packages
#                               (e.g. arm64), in $APT_SUITES_DIR/SUITE-ARCH
# shellcheck shell=bash

DEBIAN_MIRROR=http://deb.debian.org/debian
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

in_suite() {
	local suite=$1 dir=$APT_SUITES_DIR/$1${APT_ARCH:+-$APT_ARCH}
	local -a architecture=()
	[[ -z ${APT_ARCH:-} ]] || architecture=(-o "APT::Architecture=$APT_ARCH" -o "APT::Architectures=$APT_ARCH")
	shift
	if [[ ! -f $dir/sources.list ]]; then
		mkdir -p "$dir/lists/partial"
		echo "deb [signed-by=$DEBIAN_KEYRING] $DEBIAN_MIRROR $suite main" >"$dir/sources.list"
	fi
	"$@" -q -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
		-o Dir::State::status=/dev/null -o APT::Sandbox::User="$(id -un)" "${architecture[@]}"
}
