//===- TensorCoreKernels_test.cpp - Tensor-core kernels on an emulated warp ===//
//
// kiln-cuda-tile-contractions' and kiln-cuda-tile-attention's kernels cannot
// run here (no GPU), but their index math can: this test rewrites a tiled
// kernel for the CPU (the thread index from the emulated thread, one block
// of 8 warps, shared memory as a global, gpu.barrier as a barrier of the
// block's threads) and each nvvm.mma.sync and gpu.shuffle into a call to
// the emulated warp, runs the kernel on 256 host threads, one per GPU
// thread, and compares the output with a reference of the same math. The emulated mma gathers every lane's fragments and computes
// D = A * B + C with the fragment layouts PTX ISA gives for
// mma.m16n8k16.row.col.f32.bf16.bf16.f32, written here independently of
// the pass. Sizes are not multiples of the tile, so the edges are checked.
//
//===----------------------------------------------------------------------===//

#include "compiler/target/cpu/KernelTestContext.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/TargetSelect.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

namespace mlir::kiln {
namespace {

constexpr int kLanes = 32;
// One block of the kernels' kCudaBlockSize threads: 8 warps.
constexpr int kWarps = 8, kThreads = kWarps * kLanes;

/// `count` threads wait for each other: a warp at an mma.sync or shuffle,
/// the block at a gpu.barrier.
class ThreadBarrier {
public:
  explicit ThreadBarrier(int count) : count_(count) {}
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    int generation = generation_;
    if (++waiting_ == count_) {
      waiting_ = 0;
      ++generation_;
      released_.notify_all();
      return;
    }
    released_.wait(lock, [&] { return generation != generation_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable released_;
  const int count_;
  int waiting_ = 0, generation_ = 0;
};

/// The registers every lane passes to one mma.sync.
struct WarpRegisters {
  std::array<std::array<uint32_t, 4>, kLanes> a;
  std::array<std::array<uint32_t, 2>, kLanes> b;
  std::array<std::array<float, 4>, kLanes> c;
  std::array<float, kLanes> shuffled;
  ThreadBarrier barrier{kLanes};
};

/// The emulated block: its warps' registers and its barrier.
struct Block {
  std::array<WarpRegisters, kWarps> warps;
  ThreadBarrier barrier{kThreads};
};

Block *block = nullptr;
thread_local int64_t threadOfBlock = 0;
// The calling thread's warp (registers) and lane.
WarpRegisters *warpOfThread() { return &block->warps[threadOfBlock / kLanes]; }
int laneOfThread() { return static_cast<int>(threadOfBlock % kLanes); }
thread_local std::array<float, 4> resultOfThread;

float bf16ToFloat(uint32_t bits) {
  uint32_t word = (bits & 0xffff) << 16;
  float value;
  std::memcpy(&value, &word, sizeof value);
  return value;
}

/// The bf16 in the `half` (0: low 16 bits) of a register.
float halfOf(uint32_t reg, int half) { return bf16ToFloat(reg >> (16 * half)); }

// PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type":
// group = lane >> 2, inGroup = lane % 4.
/// A (16x16) element (row, k): lane group*4 + inGroup with group = row % 8,
/// inGroup = (k % 8) / 2; register (row >= 8) + 2 * (k >= 8); half k % 2.
float aElement(const WarpRegisters *warp, int row, int k) {
  int lane = (row % 8) * 4 + (k % 8) / 2;
  int reg = (row >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0);
  return halfOf(warp->a[lane][reg], k % 2);
}
/// B (16x8) element (k, n): lane n * 4 + (k % 8) / 2; register k >= 8;
/// half k % 2.
float bElement(const WarpRegisters *warp, int k, int n) {
  int lane = n * 4 + (k % 8) / 2;
  return halfOf(warp->b[lane][k >= 8 ? 1 : 0], k % 2);
}

extern "C" int64_t kiln_emu_thread() { return threadOfBlock; }

extern "C" void kiln_emu_block_barrier() { block->barrier.wait(); }

extern "C" void kiln_emu_mma(uint32_t a0, uint32_t a1, uint32_t a2,
                             uint32_t a3, uint32_t b0, uint32_t b1, float c0,
                             float c1, float c2, float c3) {
  WarpRegisters *warp = warpOfThread();
  int lane = laneOfThread();
  warp->a[lane] = {a0, a1, a2, a3};
  warp->b[lane] = {b0, b1};
  warp->c[lane] = {c0, c1, c2, c3};
  warp->barrier.wait();
  // C/D element r of a lane: row group + 8 * (r / 2), col 2 * inGroup + r % 2.
  for (int r = 0; r < 4; ++r) {
    int row = lane / 4 + 8 * (r / 2), col = 2 * (lane % 4) + r % 2;
    float sum = warp->c[lane][r];
    for (int k = 0; k < 16; ++k)
      sum += aElement(warp, row, k) * bElement(warp, k, col);
    resultOfThread[r] = sum;
  }
  warp->barrier.wait();  // every lane has read the registers
}

extern "C" float kiln_emu_result(int32_t r) { return resultOfThread[r]; }

/// gpu.shuffle xor: the value of lane `lane ^ offset`.
extern "C" float kiln_emu_shuffle_xor(float value, int32_t offset) {
  WarpRegisters *warp = warpOfThread();
  int lane = laneOfThread();
  warp->shuffled[lane] = value;
  warp->barrier.wait();
  float partner = warp->shuffled[lane ^ offset];
  warp->barrier.wait();
  return partner;
}

/// The tiled kernel with the GPU's thread indices and mma.sync replaced by
/// calls into the emulated warp above.
void emulateBlock(ModuleOp module) {
  int sharedBuffers = 0;
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  auto declare = [&](StringRef name, TypeRange args, TypeRange results) {
    func::FuncOp::create(b, loc, name, b.getFunctionType(args, results))
        .setPrivate();
  };
  declare("kiln_emu_thread", {}, {b.getIndexType()});
  declare("kiln_emu_block_barrier", {}, {});
  declare("kiln_emu_mma", {i32, i32, i32, i32, i32, i32, f32, f32, f32, f32},
          {});
  declare("kiln_emu_result", {i32}, {f32});
  declare("kiln_emu_shuffle_xor", {f32, i32}, {f32});

  IRRewriter rewriter(module.getContext());
  SmallVector<Operation *> ops;
  module.walk([&](Operation *op) {
    if (isa<gpu::ThreadIdOp, gpu::BlockIdOp, gpu::BlockDimOp, gpu::GridDimOp,
            gpu::ShuffleOp, gpu::BarrierOp, memref::AllocaOp, NVVM::MmaOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    rewriter.setInsertionPoint(op);
    if (isa<gpu::ThreadIdOp>(op)) {
      rewriter.replaceOpWithNewOp<func::CallOp>(
          op, "kiln_emu_thread", TypeRange{rewriter.getIndexType()},
          ValueRange{});
    } else if (isa<gpu::BarrierOp>(op)) {
      rewriter.replaceOpWithNewOp<func::CallOp>(op, "kiln_emu_block_barrier",
                                                TypeRange{}, ValueRange{});
    } else if (auto alloca = dyn_cast<memref::AllocaOp>(op)) {
      // Shared memory: one buffer the block's threads share, a global here.
      auto shared = MemRefType::get(alloca.getType().getShape(),
                                    alloca.getType().getElementType());
      std::string name = "kiln_emu_shared_" + std::to_string(sharedBuffers++);
      OpBuilder top(module.getBodyRegion());
      memref::GlobalOp::create(top, loc, name, top.getStringAttr("private"),
                               shared, Attribute(), /*constant=*/false,
                               IntegerAttr());
      Value global = memref::GetGlobalOp::create(rewriter, op->getLoc(),
                                                 shared, name);
      for (OpOperand &use : llvm::make_early_inc_range(alloca->getUses()))
        use.set(global);
      rewriter.eraseOp(op);
    } else if (isa<gpu::BlockIdOp>(op)) {
      rewriter.replaceOpWithNewOp<arith::ConstantIndexOp>(op, 0);
    } else if (isa<gpu::BlockDimOp>(op)) {
      rewriter.replaceOpWithNewOp<arith::ConstantIndexOp>(op, kThreads);
    } else if (isa<gpu::GridDimOp>(op)) {
      rewriter.replaceOpWithNewOp<arith::ConstantIndexOp>(op, 1);
    } else if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op)) {
      ASSERT_EQ(shuffle.getMode(), gpu::ShuffleMode::XOR);
      auto call = func::CallOp::create(
          rewriter, op->getLoc(), "kiln_emu_shuffle_xor", TypeRange{f32},
          ValueRange{shuffle.getValue(), shuffle.getOffset()});
      Value valid = arith::ConstantIntOp::create(rewriter, op->getLoc(), 1, 1);
      rewriter.replaceOp(op, ValueRange{call.getResult(0), valid});
    } else if (auto mma = dyn_cast<NVVM::MmaOp>(op)) {
      func::CallOp::create(rewriter, op->getLoc(), "kiln_emu_mma", TypeRange{},
                           op->getOperands());
      // Its results are read right after it (llvm.extractvalue 0..3).
      for (Operation *user : llvm::make_early_inc_range(mma->getUsers())) {
        auto extract = cast<LLVM::ExtractValueOp>(user);
        rewriter.setInsertionPoint(extract);
        Value r = arith::ConstantIntOp::create(rewriter, extract.getLoc(),
                                               extract.getPosition()[0], 32);
        rewriter.replaceOpWithNewOp<func::CallOp>(
            extract, "kiln_emu_result", TypeRange{f32}, ValueRange{r});
      }
      rewriter.eraseOp(op);
    }
  }
}

/// A strided memref descriptor of rank `Rank` over `data`, row-major.
template <typename T, int Rank>
StridedMemRefType<T, Rank> describe(std::vector<T> &data,
                                    std::array<int64_t, Rank> shape) {
  StridedMemRefType<T, Rank> d;
  d.basePtr = d.data = data.data();
  d.offset = 0;
  int64_t stride = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    d.sizes[i] = shape[i];
    d.strides[i] = stride;
    stride *= shape[i];
  }
  return d;
}

uint16_t floatToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return static_cast<uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

// A linear on [batch, tokens, k] activations with bf16 weights, as
// kiln-cpu-materialize-zero-init leaves it: the bias written first, the
// contraction (which ignores the bias input), then an epilogue reading a
// residual: c = (bias + a w^T) * 0.5 + r.
constexpr const char *kLinear = R"mlir(
func.func @linear(%a: memref<?x?x72xf32>, %w: memref<136x72xbf16>, %bias: memref<136xf32>, %r: memref<?x?x136xf32>, %c: memref<?x?x136xf32>) attributes {kiln.dispatch, llvm.emit_c_interface} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bias : memref<136xf32>) outs(%c : memref<?x?x136xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w, %bias : memref<?x?x72xf32>, memref<136x72xbf16>, memref<136xf32>) outs(%c : memref<?x?x136xf32>) {
  ^bb0(%x: f32, %y: bf16, %unused: f32, %o: f32):
    %yy = arith.extf %y : bf16 to f32
    %m = arith.mulf %x, %yy : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%r : memref<?x?x136xf32>) outs(%c : memref<?x?x136xf32>) {
  ^bb0(%x: f32, %o: f32):
    %half = arith.constant 0.5 : f32
    %h = arith.mulf %o, %half : f32
    %s = arith.addf %h, %x : f32
    linalg.yield %s : f32
  }
  return
}
)mlir";

/// The JIT-compiled kernels of `source` after `passes` (which must produce
/// `mmas` nvvm.mma.sync), rewritten for the emulated warp; null (with a
/// test failure) where a step fails.
std::unique_ptr<ExecutionEngine> compileForEmulatedWarp(MLIRContext &context,
                                                        const char *source,
                                                        const char *passes,
                                                        int mmas) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  PassManager tile(&context);
  if (!module || failed(parsePassPipeline(passes, tile, llvm::errs())) ||
      failed(tile.run(*module))) {
    ADD_FAILURE() << "the kernel did not parse or tile";
    return nullptr;
  }
  int found = 0;
  module->walk([&](NVVM::MmaOp) { ++found; });
  EXPECT_EQ(found, mmas) << "mma.sync in the tiled kernel";
  emulateBlock(*module);
  PassManager lower(&context);
  if (failed(parsePassPipeline(
          "arith-expand{include-bf16=true},expand-strided-metadata,"
          "lower-affine,convert-scf-to-cf,convert-math-to-llvm,"
          "finalize-memref-to-llvm,convert-arith-to-llvm,"
          "convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,"
          "reconcile-unrealized-casts",
          lower, llvm::errs())) ||
      failed(lower.run(*module))) {
    ADD_FAILURE() << "the emulated kernel did not lower to LLVM";
    return nullptr;
  }
  auto engine = ExecutionEngine::create(*module);
  if (!engine) {
    ADD_FAILURE() << llvm::toString(engine.takeError());
    return nullptr;
  }
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    auto add = [&](const char *name, void *address) {
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
    };
    add("kiln_emu_thread", reinterpret_cast<void *>(&kiln_emu_thread));
    add("kiln_emu_block_barrier",
        reinterpret_cast<void *>(&kiln_emu_block_barrier));
    add("kiln_emu_mma", reinterpret_cast<void *>(&kiln_emu_mma));
    add("kiln_emu_result", reinterpret_cast<void *>(&kiln_emu_result));
    add("kiln_emu_shuffle_xor",
        reinterpret_cast<void *>(&kiln_emu_shuffle_xor));
    return symbols;
  });
  return std::move(*engine);
}

/// Runs `name` (emit_c_interface) on 256 host threads, one block, with
/// pointers to the memref descriptors `descriptors`.
void runOnEmulatedWarp(ExecutionEngine &engine, const std::string &name,
                       std::vector<void *> descriptors) {
  auto kernel = engine.lookupPacked("_mlir_ciface_" + name);
  ASSERT_TRUE(static_cast<bool>(kernel)) << llvm::toString(kernel.takeError());
  std::vector<void *> arguments;
  for (void *&descriptor : descriptors)
    arguments.push_back(&descriptor);
  auto emulated = std::make_unique<Block>();
  block = emulated.get();
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread)
    threads.emplace_back([&, thread] {
      threadOfBlock = thread;
      (*kernel)(arguments.data());
    });
  for (std::thread &thread : threads)
    thread.join();
  block = nullptr;
}

std::unique_ptr<MLIRContext> makeJitContext() {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  std::unique_ptr<MLIRContext> context = makeKernelTestContext();
  context->appendDialectRegistry(registry);
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  return context;
}

TEST(TileContractions, LinearMatchesReferenceOnEmulatedBlock) {
  std::unique_ptr<MLIRContext> context = makeJitContext();
  std::unique_ptr<ExecutionEngine> engine = compileForEmulatedWarp(
      *context, kLinear, "kiln-cuda-tile-contractions", 32);
  ASSERT_TRUE(engine);

  // 2 x 75 rows (a 128-row tile and 22 rows of another, rows crossing the
  // batch boundary inside a tile), 136 outputs (a 128-column tile and 8
  // columns of another), k = 72 (two stages of 32 and a quarter of one).
  constexpr int64_t kBatch = 2, kTokens = 75, kIn = 72, kOut = 136;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> a(kBatch * kTokens * kIn), bias(kOut),
      r(kBatch * kTokens * kOut), c(kBatch * kTokens * kOut, NAN);
  std::vector<uint16_t> w(kOut * kIn);
  for (float &v : a) v = uniform(rng);
  for (uint16_t &v : w) v = floatToBf16(uniform(rng));
  for (float &v : bias) v = uniform(rng);
  for (float &v : r) v = uniform(rng);
  auto aDesc = describe<float, 3>(a, {kBatch, kTokens, kIn});
  auto wDesc = describe<uint16_t, 2>(w, {kOut, kIn});
  auto biasDesc = describe<float, 1>(bias, {kOut});
  auto rDesc = describe<float, 3>(r, {kBatch, kTokens, kOut});
  auto cDesc = describe<float, 3>(c, {kBatch, kTokens, kOut});
  runOnEmulatedWarp(*engine, "linear",
                    {&aDesc, &wDesc, &biasDesc, &rDesc, &cDesc});

  double worst = 0;
  for (int64_t row = 0; row < kBatch * kTokens; ++row)
    for (int64_t n = 0; n < kOut; ++n) {
      double sum = bias[n];
      for (int64_t k = 0; k < kIn; ++k)
        sum += double(bf16ToFloat(floatToBf16(a[row * kIn + k]))) *
               bf16ToFloat(w[n * kIn + k]);
      double expected = sum * 0.5 + r[row * kOut + n];
      double got = c[row * kOut + n];
      ASSERT_FALSE(std::isnan(got)) << "row " << row << " col " << n
                                    << " was not written";
      worst = std::max(worst, std::abs(got - expected));
    }
  // Products of bf16 values are exact in f32; only the f32 sums' order
  // differs from the double reference.
  EXPECT_LT(worst, 1e-5);
}

// Attention on [batch, tokens, heads, channels] with a head of 32 and a
// value of 16 channels, an additive key mask (some keys -inf) or causal.
constexpr const char *kAttention = R"mlir(
func.func @masked(%q: memref<?x?x2x32xf32>, %k: memref<?x?x2x32xf32>, %v: memref<?x?x2x16xf32>, %mask: memref<1x1x1x?xf32>, %o: memref<?x?x2x16xf32>) attributes {kiln.dispatch, llvm.emit_c_interface} {
  kiln.flash_attention ins(%q, %k, %v : memref<?x?x2x32xf32>, memref<?x?x2x32xf32>, memref<?x?x2x16xf32>) mask(%mask : memref<1x1x1x?xf32>) outs(%o : memref<?x?x2x16xf32>) {scale = 0.25 : f64}
  return
}
func.func @causal(%q: memref<?x?x2x32xf32>, %k: memref<?x?x2x32xf32>, %v: memref<?x?x2x16xf32>, %o: memref<?x?x2x16xf32>) attributes {kiln.dispatch, llvm.emit_c_interface} {
  kiln.flash_attention ins(%q, %k, %v : memref<?x?x2x32xf32>, memref<?x?x2x32xf32>, memref<?x?x2x16xf32>) outs(%o : memref<?x?x2x16xf32>) {scale = 0.25 : f64, causal}
  return
}
)mlir";

/// softmax(q k^T * 0.25 + mask) v in double over bf16-rounded q, k, v, for
/// [batch, tokens, 2 heads, channels] tensors; the worst difference from
/// `out`, or NaN where `out` was not written.
double attentionError(int64_t batches, int64_t queries, int64_t keys,
                      const std::vector<float> &q, const std::vector<float> &k,
                      const std::vector<float> &v,
                      const std::vector<float> &mask, bool causal,
                      const std::vector<float> &out) {
  constexpr int64_t kHeads = 2, kHead = 32, kValue = 16;
  auto rounded = [](float x) { return bf16ToFloat(floatToBf16(x)); };
  double worst = 0;
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t i = 0; i < queries; ++i)
      for (int64_t h = 0; h < kHeads; ++h) {
        std::vector<double> score(keys, -INFINITY);
        double top = -INFINITY;
        for (int64_t j = 0; j < keys; ++j) {
          if (causal && j > i)
            continue;
          double dot = 0;
          for (int64_t d = 0; d < kHead; ++d)
            dot += double(rounded(q[((bi * queries + i) * kHeads + h) * kHead + d])) *
                   rounded(k[((bi * keys + j) * kHeads + h) * kHead + d]);
          score[j] = dot * 0.25 + (mask.empty() ? 0.0 : mask[j]);
          top = std::max(top, score[j]);
        }
        double sum = 0;
        for (double &s : score)
          sum += (s = std::exp(s - top));
        for (int64_t e = 0; e < kValue; ++e) {
          double expected = 0;
          for (int64_t j = 0; j < keys; ++j)
            expected += score[j] / sum *
                        rounded(v[((bi * keys + j) * kHeads + h) * kValue + e]);
          float got = out[((bi * queries + i) * kHeads + h) * kValue + e];
          if (std::isnan(got))
            return NAN;
          worst = std::max(worst, std::abs(got - expected));
        }
      }
  return worst;
}

TEST(TileAttention, MatchesReferenceOnEmulatedBlock) {
  std::unique_ptr<MLIRContext> context = makeJitContext();
  // Two chains of 2 mma for S (head 32 = two k steps) and 2 for P V (16
  // value channels = two n8 blocks), per kernel.
  std::unique_ptr<ExecutionEngine> engine = compileForEmulatedWarp(
      *context, kAttention, "kiln-cuda-tile-attention", 2 * 6);
  ASSERT_TRUE(engine);

  // 21 queries (a 16-row block and 5 rows of another) and 19 keys (a step
  // of 16 and 3 keys of another), 2 batches, 2 heads.
  constexpr int64_t kBatches = 2, kQueries = 21, kKeys = 19;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-1, 1);
  auto random = [&](int64_t n) {
    std::vector<float> values(n);
    for (float &x : values) x = uniform(rng) * 2;
    return values;
  };
  std::vector<float> q = random(kBatches * kQueries * 2 * 32),
                     k = random(kBatches * kKeys * 2 * 32),
                     v = random(kBatches * kKeys * 2 * 16), mask = random(kKeys);
  mask[3] = mask[17] = -INFINITY;  // padded keys, as a text mask has them
  std::vector<float> out(kBatches * kQueries * 2 * 16, NAN);
  auto qDesc = describe<float, 4>(q, {kBatches, kQueries, 2, 32});
  auto kDesc = describe<float, 4>(k, {kBatches, kKeys, 2, 32});
  auto vDesc = describe<float, 4>(v, {kBatches, kKeys, 2, 16});
  auto maskDesc = describe<float, 4>(mask, {1, 1, 1, kKeys});
  auto outDesc = describe<float, 4>(out, {kBatches, kQueries, 2, 16});
  runOnEmulatedWarp(*engine, "masked",
                    {&qDesc, &kDesc, &vDesc, &maskDesc, &outDesc});
  // P is rounded to bf16 before P V (as FlashAttention-2 does): about 2^-9
  // of each probability, on values of at most 2.
  double error = attentionError(kBatches, kQueries, kKeys, q, k, v, mask,
                                /*causal=*/false, out);
  EXPECT_LT(error, 1e-2) << "masked";

  // Causal: as many keys as queries, keys after the query dropped.
  std::vector<float> kc = random(kBatches * kQueries * 2 * 32),
                     vc = random(kBatches * kQueries * 2 * 16);
  std::fill(out.begin(), out.end(), NAN);
  auto kcDesc = describe<float, 4>(kc, {kBatches, kQueries, 2, 32});
  auto vcDesc = describe<float, 4>(vc, {kBatches, kQueries, 2, 16});
  runOnEmulatedWarp(*engine, "causal", {&qDesc, &kcDesc, &vcDesc, &outDesc});
  error = attentionError(kBatches, kQueries, kQueries, q, kc, vc, {},
                         /*causal=*/true, out);
  EXPECT_LT(error, 1e-2) << "causal";
}

} // namespace
} // namespace mlir::kiln
