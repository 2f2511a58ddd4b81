//===- NarrowWeightKernels_test.cpp - bf16 / e4m3 weights, every CPU level ===//
//
// A linear whose weight is stored narrow (bf16 from kiln-narrow-weights,
// e4m3 from kiln-quantize-fp8), with shapes that leave every remainder path
// work to do (an odd k, rows past the last 12- and 6-row tiles, columns past
// the last panel), compiled for each x86-64 level this CPU runs and run with
// the runtime's CPU device. The f32 levels must match the exact sum of
// x * w; the AVX-512-BF16 (vdpbf16ps) and AMX (tdpbf16ps) levels the exact
// sum of bf16(x) * w, x rounded to nearest even, which is their stated
// numerics.
//
//===----------------------------------------------------------------------===//

#include "compiler/pipeline/Pipelines.h"
#include "compiler/target/cpu/CpuCodegen.h"
#include "compiler/target/cpu/KernelTestContext.h"
#include "dialects/kiln/IR/KilnDialect.h"
#include "runtime/hal/cpu/cpu_device.h"
#include "runtime/hal/cpu/cpu_executable.h"
#include "runtime/hal/cpu/cpu_features.h"
#include "runtime/hal/kernel_abi.h"
#include "runtime/io/float_convert.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mlir::kiln {
namespace {

// 37 rows: two 16-row AMX tiles and 5 left; 549 = 2 whole k blocks of 256
// (AMX's straight line) and 37 (one trip of its loop, 3 pairs after, odd).
constexpr int64_t kRows = 37, kIn = 549, kOut = 100;

/// y = x @ W^T with W stored as `element`, C zero-initialized.
std::string kernelSource(llvm::StringRef element) {
  return llvm::formatv(R"mlir(
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func private @f__dispatch_0(%x: memref<?x{1}xf32>, %w: memref<{2}x{1}x{0}>, %y: memref<?x{2}xf32>, %id: index, %count: index) attributes {{kiln.dispatch} {{
  linalg.generic {{indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x{1}xf32>, memref<{2}x{1}x{0}>) outs(%y : memref<?x{2}xf32>) attrs = {{kiln.zero_init} {{
  ^bb0(%in: f32, %q: {0}, %out: f32):
    %wf = arith.extf %q : {0} to f32
    %0 = arith.mulf %in, %wf : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}
)mlir",
                       element, kIn, kOut)
      .str();
}

class NarrowWeightKernelsTest : public ::testing::TestWithParam<const char *> {
protected:
  std::unique_ptr<MLIRContext> context = makeKernelTestContext();
};

TEST_P(NarrowWeightKernelsTest, EveryLevelMatchesItsNumerics) {
  const std::string element = GetParam();
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(kRows * kIn), w(kOut * kIn);
  for (float &f : x)
    f = normal(rng);
  // The stored weight and its exact value.
  std::vector<uint8_t> stored(kOut * kIn * (element == "bf16" ? 2 : 1));
  for (int64_t i = 0; i < kOut * kIn; ++i) {
    if (element == "bf16") {
      uint16_t bits = ::kiln::io::FloatToBFloat16(normal(rng));
      std::memcpy(&stored[2 * i], &bits, 2);
      w[i] = ::kiln::io::BFloat16ToFloat(bits);
    } else {
      stored[i] = ::kiln::io::FloatToE4M3(16 * normal(rng));
      w[i] = ::kiln::io::E4M3ToFloat(stored[i]);
    }
  }

  int levels = 0;
  for (const char *name : {"cpu-x86_64-avx2", "cpu-x86_64-avx512",
                           "cpu-x86_64-avx512bf16", "cpu-x86_64-amx"}) {
    CpuTarget target = *lookupCpuTarget(name);
    if (!::kiln::hal::cpu::CheckCpuFeatures(target.features).ok())
      continue;
    ++levels;
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(kernelSource(element), context.get());
    ASSERT_TRUE(module);
    FailureOr<CpuExecutableCode> code = compileCpuKernels(*module, target);
    ASSERT_TRUE(succeeded(code)) << name;
    auto executable = ::kiln::hal::cpu::CpuExecutable::Load(
        name, absl::MakeConstSpan(code->sharedObject));
    ASSERT_TRUE(executable.ok()) << executable.status();
    auto kernel = executable->Resolve(code->kernels.front());
    ASSERT_TRUE(kernel.ok()) << kernel.status();

    std::vector<float> y(kRows * kOut, NAN);
    std::vector<float> xs = x;
    std::vector<uint8_t> ws = stored;
    auto dx = ::kiln::hal::MemrefDescriptor::RowMajor(xs.data(), 0, {kRows, kIn});
    auto dw = ::kiln::hal::MemrefDescriptor::RowMajor(ws.data(), 0, {kOut, kIn});
    auto dy = ::kiln::hal::MemrefDescriptor::RowMajor(y.data(), 0, {kRows, kOut});
    std::vector<int64_t *> bindings = {dx->words(), dw->words(), dy->words()};
    ::kiln::hal::cpu::CpuDevice device(1);
    ASSERT_TRUE(device.Dispatch(*kernel, bindings, 1).ok());

    // vdpbf16ps sees x rounded to bf16; the f32 levels see x.
    bool roundsX = target.bf16Dot;
    double worst = 0;
    for (int64_t r = 0; r < kRows; ++r)
      for (int64_t o = 0; o < kOut; ++o) {
        double sum = 0, magnitude = 0;
        for (int64_t i = 0; i < kIn; ++i) {
          float xi = x[r * kIn + i];
          if (roundsX)
            xi = ::kiln::io::BFloat16ToFloat(::kiln::io::FloatToBFloat16(xi));
          sum += double(xi) * w[o * kIn + i];
          magnitude += std::fabs(double(xi) * w[o * kIn + i]);
        }
        // f32 sums of kIn terms: error well below 1e-5 of the magnitude.
        double error = std::fabs(y[r * kOut + o] - sum) / magnitude;
        if (!(error <= worst)) // NaN (an unwritten element) wins too
          worst = error;
      }
    EXPECT_LT(worst, 1e-5) << name << ", " << element << " weight";
  }
  EXPECT_GE(levels, 1) << "this CPU runs none of the levels";
}

INSTANTIATE_TEST_SUITE_P(Weights, NarrowWeightKernelsTest,
                         ::testing::Values("bf16", "f8E4M3FN"));

} // namespace
} // namespace mlir::kiln
