#!/bin/sh
# Builds web/dist/octave.wasm's library with microKernelWasm's eight
# multiply+add pairs replaced by f32x4.relaxed_madd, for builds.mjs; the
# repository's sources are left as they were. Go 1.27.3's assembler writes
# relaxed_madd as fd 85 01 02 (a stray byte: the module does not validate);
# the eight occurrences are rewritten as fd 85 82 00, the same opcode as a
# padded LEB128 of the same length, so no offset in the module moves. The
# changed kernel_wasm.s reaches the compiler through go build -overlay.
#
#   bench/relaxed/build-relaxed.sh OUT.wasm
set -eu
out=$(realpath -m "$1")
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Only microKernelWasm's step: from its TEXT line to the next TEXT line.
awk '/^TEXT ·microKernelWasm/{k=1} /^TEXT /&&!/microKernelWasm/{k=0}
  k && /F32x4Mul; Get V[0-9]+; F32x4Add; Set/ {
    sub(/F32x4Mul; Get /, "Get "); sub(/; F32x4Add; Set/, "; F32x4RelaxedMadd; Set") }
  {print}' octcore/kernel_wasm.s > "$tmp/kernel_wasm.s"
printf '{"Replace":{"%s":"%s"}}' "$PWD/octcore/kernel_wasm.s" "$tmp/kernel_wasm.s" > "$tmp/overlay.json"
n=$(grep -c F32x4RelaxedMadd "$tmp/kernel_wasm.s")
[ "$n" = 8 ] || { echo "build-relaxed: $n relaxed_madd in kernel_wasm.s, want 8" >&2; exit 1; }
GOOS=js GOARCH=wasm GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=nojsonv2,simd GOFLAGS=-buildvcs=false \
  go build -overlay "$tmp/overlay.json" -trimpath -ldflags='-s -w' -tags=octave_nomathrand,octave_stdformats -o "$tmp/raw.wasm" ./wasm
python3 - "$tmp/raw.wasm" "$out" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
bad, good = bytes.fromhex("fd850102"), bytes.fromhex("fd858200")
n = d.count(bad)
if n != 8 or good in d:
    sys.exit(f"build-relaxed: {n} occurrences of fd 85 01 02, want 8")
open(sys.argv[2], "wb").write(d.replace(bad, good))
PY
node --experimental-wasm-relaxed-simd -e 'const ok = WebAssembly.validate(require("fs").readFileSync(process.argv[1])); console.log(process.argv[1] + (ok ? ": validates" : ": does NOT validate")); process.exit(ok ? 0 : 1)' "$out"
