//===- CpuCodegen_test.cpp - Compiled kernels run on the runtime's device -===//
//
// Compiles a small kiln function with the real pipeline and CPU target, loads
// the shared object with the runtime's CPU device, and runs the host
// program's dispatches in order on the thread pool with several workgroup
// counts. The result must match a scalar double-precision reference of the
// same math. (The artifact's executor will replace the little host-program
// walk below.)
//
//===----------------------------------------------------------------------===//

#include "compiler/pipeline/Pipelines.h"
#include "compiler/target/cpu/CpuCodegen.h"
#include "compiler/target/cpu/KernelTestContext.h"
#include "compiler/target/cpu/Passes.h"
#include "dialects/kiln/IR/KilnDialect.h"
#include "runtime/hal/cpu/cpu_device.h"
#include "runtime/hal/cpu/cpu_executable.h"
#include "runtime/hal/cpu/cpu_features.h"
#include "runtime/hal/kernel_abi.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

namespace mlir::kiln {
namespace {

constexpr const char *kSource = R"mlir(
func.func @block(%x: tensor<?x16xf32>, %w: tensor<8x16xf32>, %b: tensor<8xf32>) -> tensor<?x8xf32> {
  %0 = kiln.linear %x, %w, %b : (tensor<?x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %1 = kiln.gelu %0 {approximation = #kiln.gelu_approximation<tanh>} : tensor<?x8xf32>
  %2 = kiln.layer_norm %1 : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %2 : tensor<?x8xf32>
}
)mlir";

constexpr int64_t kRows = 5, kIn = 16, kOut = 8;

/// The same math in double precision.
std::vector<double> reference(const std::vector<float> &x,
                              const std::vector<float> &w,
                              const std::vector<float> &b) {
  std::vector<double> y(kRows * kOut);
  for (int64_t r = 0; r < kRows; ++r) {
    double mean = 0, var = 0;
    for (int64_t o = 0; o < kOut; ++o) {
      double acc = b[o];
      for (int64_t i = 0; i < kIn; ++i)
        acc += double(x[r * kIn + i]) * w[o * kIn + i];
      double t = std::tanh(std::sqrt(2.0 / M_PI) * (acc + 0.044715 * acc * acc * acc));
      y[r * kOut + o] = 0.5 * acc * (1 + t);
      mean += y[r * kOut + o] / kOut;
    }
    for (int64_t o = 0; o < kOut; ++o)
      var += (y[r * kOut + o] - mean) * (y[r * kOut + o] - mean) / kOut;
    for (int64_t o = 0; o < kOut; ++o)
      y[r * kOut + o] = (y[r * kOut + o] - mean) / std::sqrt(var + 1e-6);
  }
  return y;
}

/// A buffer of the host program, with its shape.
struct Buffer {
  std::vector<float> data;
  std::vector<int64_t> shape;
};

class CpuCodegenTest : public ::testing::Test {
protected:
  std::unique_ptr<MLIRContext> context = makeKernelTestContext();
};

TEST_F(CpuCodegenTest, KernelsMatchReferenceForEveryWorkgroupCount) {
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(kSource, context.get());
  ASSERT_TRUE(module);
  PassManager pm(context.get());
  addKilnToLinalgPasses(pm);
  addDispatchFormationPasses(pm);
  ASSERT_TRUE(succeeded(pm.run(*module)));

  // The host program stays here; a clone goes to code generation.
  OwningOpRef<ModuleOp> kernels(cast<ModuleOp>((*module)->clone()));
  // The widest target this CPU can run.
  std::string targetName = "cpu-x86_64";
  for (const char *candidate : {"cpu-x86_64-avx512", "cpu-x86_64-avx2"}) {
    if (::kiln::hal::cpu::CheckCpuFeatures(lookupCpuTarget(candidate)->features)
            .ok()) {
      targetName = candidate;
      break;
    }
  }
  FailureOr<CpuExecutableCode> code =
      compileCpuKernels(*kernels, *lookupCpuTarget(targetName));
  ASSERT_TRUE(succeeded(code));
  auto executable = ::kiln::hal::cpu::CpuExecutable::Load(
      "test", absl::MakeConstSpan(code->sharedObject));
  ASSERT_TRUE(executable.ok()) << executable.status();

  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(kRows * kIn), w(kOut * kIn), b(kOut);
  for (auto *v : {&x, &w, &b})
    for (float &f : *v)
      f = normal(rng);
  std::vector<double> expected = reference(x, w, b);

  auto host = (*module).lookupSymbol<func::FuncOp>("block");
  ASSERT_TRUE(host);
  for (int threads : {1, 2}) {
    ::kiln::hal::cpu::CpuDevice device(threads);
    for (int64_t workgroups : {1, 3, 8}) {
      // Walk the host program: arguments and allocations get buffers,
      // each kernel call is one dispatch.
      std::map<Operation *, Buffer> allocs;
      std::vector<Buffer> args = {{x, {kRows, kIn}}, {w, {kOut, kIn}},
                                  {b, {kOut}}};
      auto bufferOf = [&](Value v) -> Buffer & {
        if (auto arg = dyn_cast<BlockArgument>(v))
          return args[arg.getArgNumber()];
        return allocs.at(v.getDefiningOp());
      };
      Buffer *result = nullptr;
      int dispatches = 0;
      host.walk([&](Operation *op) {
        if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
          Buffer buffer;
          for (int64_t d : alloc.getType().getShape())
            buffer.shape.push_back(ShapedType::isDynamic(d) ? kRows : d);
          int64_t n = 1;
          for (int64_t d : buffer.shape)
            n *= d;
          buffer.data.assign(n, NAN);
          allocs[op] = std::move(buffer);
        } else if (auto call = dyn_cast<func::CallOp>(op)) {
          std::vector<::kiln::hal::MemrefDescriptor> descriptors;
          std::vector<int64_t *> bindings;
          for (Value operand : call.getOperands()) {
            if (!isa<MemRefType>(operand.getType()))
              continue;  // the host's own workgroup id and count
            Buffer &buffer = bufferOf(operand);
            descriptors.push_back(*::kiln::hal::MemrefDescriptor::RowMajor(
                buffer.data.data(), 0, buffer.shape));
          }
          for (auto &d : descriptors)
            bindings.push_back(d.words());
          auto kernel =
              executable->Resolve(cpuKernelSymbol(call.getCallee()));
          ASSERT_TRUE(kernel.ok()) << kernel.status();
          ASSERT_TRUE(device.Dispatch(*kernel, bindings, workgroups).ok());
          ++dispatches;
        } else if (auto ret = dyn_cast<func::ReturnOp>(op)) {
          result = &bufferOf(ret.getOperand(0));
        }
      });
      ASSERT_NE(result, nullptr);
      EXPECT_GE(dispatches, 5);
      double worst = 0;
      for (size_t i = 0; i < expected.size(); ++i) {
        double diff = std::fabs(result->data[i] - expected[i]);
        if (!(diff <= worst))  // NaN (an unwritten element) wins too
          worst = diff;
      }
      EXPECT_LT(worst, 1e-4) << "threads " << threads << ", workgroups "
                             << workgroups << " (target " << targetName << ")";
    }
  }
}

} // namespace
} // namespace mlir::kiln
