#!/bin/sh
# Fails when BINARY needs an MLIR or LLVM shared library (ldd) or holds code
# from them (mlir:: or llvm:: symbols): the runtime must link neither. Nor
# may it need libcuda: the CUDA device loads the driver with dlopen, so the
# binary starts (and runs on the CPU) where no NVIDIA driver is installed.
set -u
binary=${1:?usage: check_no_mlir.sh BINARY}
[ -x "$binary" ] || { echo "check_no_mlir.sh: $binary: not an executable"; exit 1; }
libraries=$(ldd "$binary" 2>&1) || { echo "ldd $binary failed: $libraries"; exit 1; }
if echo "$libraries" | grep -Ei 'libMLIR|libLLVM|libclang|libcuda|libcudart'; then
  echo "FAIL: $binary links the libraries above; the runtime must not"
  exit 1
fi
symbols=$(nm -C "$binary" 2>/dev/null | grep -E ' (mlir|llvm)::' | head -5)
if [ -n "$symbols" ]; then
  echo "$symbols"
  echo "FAIL: $binary holds MLIR/LLVM code (symbols above)"
  exit 1
fi
echo "ok: $binary links no MLIR, LLVM or CUDA library:"
echo "$libraries"
