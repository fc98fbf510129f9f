#!/usr/bin/env bash
# The installed package and the subproject build, as an outside project uses them:
#   1. `cmake --install` into a temporary prefix; the installed CLI classifies with its labels;
#   2. examples/cpp configured with find_package(onnxrun) (CMAKE_PREFIX_PATH) builds and classifies;
#   3. a consumer built with `c++ ... $(pkg-config --cflags --libs onnxrun)` loads the model;
#      examples/c built with plain `cc classify.c $(pkg-config --cflags --libs onnxrun)` (static
#      libraries: onnxrun.pc lists -lstdc++ -lm for a C link) classifies a test input;
#   4. a parent project add_subdirectory()s the source tree: no tests, no forced build type, the
#      CLI inside the subproject's binary dir; one layer library builds through its include view.
# Usage: install_and_consume.sh CMAKE SOURCE_DIR BUILD_DIR MODEL_DIR IMAGE [PYTHON]
set -euo pipefail
CMAKE=$1 SRC=$2 BUILD=$3 MODEL_DIR=$4 MODEL=$4/model.onnx IMAGE=$5 PYTHON=${6:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

echo "== install into $tmp/prefix"
"$CMAKE" --install "$BUILD" --prefix "$tmp/prefix" > "$tmp/install.log"
for f in include/onnxrun/onnxrun.h include/onnxrun/onnxrun_c.h include/onnxrun/image.h lib/libonnxrun.a lib/libonnxrun_image.a \
         bin/onnxrun share/onnxrun/imagenet_classes.txt lib/cmake/onnxrun/onnxrunConfig.cmake \
         lib/cmake/onnxrun/onnxrunConfigVersion.cmake lib/pkgconfig/onnxrun.pc; do
  [ -e "$tmp/prefix/$f" ] || fail "not installed: $f"
done
# The shared library unless the build left it out (-DONNXRUN_BUILD_SHARED=OFF).
if [ -e "$BUILD/libonnxrun.so" ]; then
  [ -e "$tmp/prefix/lib/libonnxrun.so" ] || fail "not installed: lib/libonnxrun.so"
fi
cli=$("$tmp/prefix/bin/onnxrun" "$MODEL" "$IMAGE" --top 5 2> "$tmp/cli.err")
echo "$cli"
[ "$(echo "$cli" | wc -l)" -eq 5 ] || fail "installed CLI: expected 5 lines"
! grep -q class_ <<< "$cli" || fail "installed CLI did not find share/onnxrun/imagenet_classes.txt"
[ ! -s "$tmp/cli.err" ] || fail "installed CLI wrote to stderr: $(cat "$tmp/cli.err")"

echo "== examples/cpp with find_package(onnxrun)"
"$CMAKE" -S "$SRC/examples/cpp" -B "$tmp/example" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" > "$tmp/example.log" || { cat "$tmp/example.log"; fail configure; }
"$CMAKE" --build "$tmp/example" -j2 >> "$tmp/example.log" || { cat "$tmp/example.log"; fail build; }
top=$("$tmp/example/classify" "$MODEL" "$IMAGE")
echo "$top"
[ "$(grep -cE '^[1-5]  [0-9]+  -?[0-9.e+-]+$' <<< "$top")" -eq 5 ] || fail "example: expected 5 top lines"
[ "$(awk 'NR==1 {print $2}' <<< "$top")" = "$(awk 'NR==1 {print $2}' <<< "$cli")" ] ||
  fail "example and CLI disagree on the top class"
if "$tmp/example/classify" "$tmp/missing.onnx" "$IMAGE" > "$tmp/bad.out" 2> "$tmp/bad.err"; then
  fail "example: a missing model succeeded"
fi
grep -q "^error: .*missing.onnx" "$tmp/bad.err" && [ ! -s "$tmp/bad.out" ] ||
  fail "example: bad path gave '$(cat "$tmp/bad.err")'"

echo "== pkg-config consumer"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$tmp/prefix/lib"  # -lonnxrun is libonnxrun.so with ONNXRUN_BUILD_SHARED
cat > "$tmp/consumer.cc" <<'CC'
#include <iostream>
#include "onnxrun/onnxrun.h"
int main(int argc, char** argv) {
  auto session = onnxrun::Session::Load(argv[1]);
  if (!session.ok()) return std::cerr << session.status() << "\n", 1;
  std::cout << "onnxrun " << onnxrun::Version() << " input " << (*session)->inputs()[0].name << "\n";
}
CC
# shellcheck disable=SC2046
c++ -std=c++20 "$tmp/consumer.cc" -o "$tmp/consumer" $(pkg-config --cflags --libs onnxrun)
"$tmp/consumer" "$MODEL" | grep -q "^onnxrun [0-9.]* input " || fail "pkg-config consumer"
# shellcheck disable=SC2046
c++ -std=c++20 "$SRC/examples/cpp/classify.cc" -o "$tmp/classify_pc" \
  $(pkg-config --cflags --libs onnxrun-image)
[ "$("$tmp/classify_pc" "$MODEL" "$IMAGE")" = "$top" ] || fail "pkg-config example differs"

echo "== examples/c with cc and pkg-config"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -pedantic -Werror "$SRC/examples/c/classify.c" -o "$tmp/classify_c" \
  $(pkg-config --cflags --libs onnxrun) || fail "examples/c did not build with cc + pkg-config"
"$SRC/tests/c_api/check_c_example.sh" "$tmp/classify_c" "$MODEL_DIR" "$PYTHON" || fail "examples/c"

echo "== subproject: add_subdirectory(onnxrun)"
mkdir -p "$tmp/parent"
cat > "$tmp/parent/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.22)
project(parent LANGUAGES C CXX)
add_subdirectory("$SRC" onnxrun)
add_executable(app app.cc)
target_link_libraries(app PRIVATE onnxrun::onnxrun)
file(GENERATE OUTPUT cli_path.txt CONTENT "\$<TARGET_FILE:onnxrun_cli>\n")
CM
cp "$tmp/consumer.cc" "$tmp/parent/app.cc"
"$CMAKE" -S "$tmp/parent" -B "$tmp/parent/build" "${launcher[@]}" > "$tmp/parent.log" ||
  { cat "$tmp/parent.log"; fail "subproject configure"; }
grep -q "^CMAKE_BUILD_TYPE:STRING=$" "$tmp/parent/build/CMakeCache.txt" ||
  fail "subproject set the parent's build type: $(grep ^CMAKE_BUILD_TYPE: "$tmp/parent/build/CMakeCache.txt")"
grep -q "^ONNXRUN_BUILD_TESTS:BOOL=OFF$" "$tmp/parent/build/CMakeCache.txt" || fail "tests on in a subproject"
! grep -qs add_test "$tmp/parent/build/onnxrun/CTestTestfile.cmake" || fail "subproject registered tests"
[ "$(cat "$tmp/parent/build/cli_path.txt")" = "$tmp/parent/build/onnxrun/onnxrun" ] ||
  fail "subproject CLI lands at $(cat "$tmp/parent/build/cli_path.txt")"
"$CMAKE" --build "$tmp/parent/build" --target onnxrun_ir -j2 > "$tmp/parent.log" ||
  { cat "$tmp/parent.log"; fail "subproject build"; }
echo "package: all checks passed"
