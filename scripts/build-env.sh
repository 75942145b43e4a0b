# Sourced by the scripts: the build settings shared by every build of sinter.

# ccache keyed on paths relative to the checkout, so that a fresh clone in
# another folder (CI) reuses the objects of this one.
export CCACHE_BASEDIR="$root"
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

# sinter_configure BUILD_DIR [CMAKE_ARGS...]
sinter_configure() {
  local build=$1
  shift
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
}
