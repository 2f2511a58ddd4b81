#!/usr/bin/env bash
# Kiln's test of the out-of-tree route (ctest: plugin.example): installs the
# build at BUILD/install, builds this example against that install alone
# (find_package(Kiln)), then runs its lit tests with the installed tools.
#
#   examples/pass-plugin/check_installed.sh BUILD
set -euo pipefail
build=$(cd "${1:?usage: check_installed.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
prefix=$build/install
plugin_build=$build/pass-plugin-example

cmake --install "$build" --prefix "$prefix" > "$build/install.log"
echo "installed Kiln at $prefix"
if [ ! -f "$plugin_build/build.ninja" ]; then
  cmake -G Ninja -S "$here" -B "$plugin_build" -DCMAKE_BUILD_TYPE=Release \
    -DKiln_DIR="$prefix/lib/cmake/Kiln" -DKILN_EXAMPLE_VERSION_TEST=ON \
    > "$build/pass-plugin-example.cmake.log" 2>&1 ||
    { cat "$build/pass-plugin-example.cmake.log"; exit 1; }
fi
cmake --build "$plugin_build"
lit=$(command -v lit || echo /usr/lib/llvm-22/bin/lit)
"$lit" -v "$here/test" --param kiln_prefix="$prefix" \
  --param plugin_dir="$plugin_build" --param kiln_src_root="$src"
