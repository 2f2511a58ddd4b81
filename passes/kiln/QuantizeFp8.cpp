//===- QuantizeFp8.cpp - Linear weights to FP8 E4M3 with channel scales ---===//
//
// Each eligible kiln.linear's weight `kiln.weight "W" : tensor<NxKxf32>`
// becomes kiln.dequantize(kiln.weight "W" : tensor<NxKxf8E4M3FN>,
// kiln.weight "W#e4m3_scale" : tensor<Nxf32>): the artifact stores W as
// e4m3 with one f32 scale per output channel, amax(|W[n, :]|) / 448
// (kiln-compile's writer computes both from the checkpoint tensor). The
// policy keeps the layers the usual FP8 FLUX checkpoints keep in bf16 (the
// input embedders, the timestep/guidance/text embedders, and the final
// layer: its modulation norm_out and proj_out), a small share of the bytes.
// The blocks' modulation linears are quantized like the other block
// linears: they are ~27 % of FLUX.1's weights, and keeping them bf16 would
// leave an FP8 artifact at 0.64x of the bf16 one instead of ~0.5x.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "passes/kiln/Passes.h"
#include "passes/kiln/WeightNames.h"

#include "llvm/Support/Regex.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_QUANTIZEFP8PASS
#include "passes/kiln/Passes.h.inc"

namespace {

/// What the usual FP8 FLUX recipes keep in bf16 (see Passes.td).
const char *const kDefaultKeep[] = {"x_embedder", "context_embedder",
                                    "time_text_embed", "norm_out",
                                    "^[^.]+\\.proj_out\\."};

struct QuantizeFp8Pass : impl::QuantizeFp8PassBase<QuantizeFp8Pass> {
  using QuantizeFp8PassBase::QuantizeFp8PassBase;

  void runOnOperation() override {
    // Pass options cannot carry a list default through the options struct
    // kiln-compile builds, so an empty `keep` means the default policy.
    SmallVector<std::string> patterns(keep.begin(), keep.end());
    if (patterns.empty())
      patterns.assign(std::begin(kDefaultKeep), std::end(kDefaultKeep));
    if (patterns.size() == 1 && patterns.front() == "none")
      patterns.clear();
    SmallVector<llvm::Regex> keepers;
    for (const std::string &pattern : patterns) {
      keepers.emplace_back(pattern);
      std::string error;
      if (!keepers.back().isValid(error)) {
        getOperation().emitError("kiln-quantize-fp8: bad keep pattern '")
            << pattern << "': " << error;
        return signalPassFailure();
      }
    }
    std::string prefix = component + ".";
    uint64_t before = 0, after = 0;
    int64_t quantizedCount = 0, keptCount = 0;
    getOperation().walk([&](LinearOp linear) {
      auto weight = linear.getWeight().getDefiningOp<WeightOp>();
      if (!weight || !weight.getName().starts_with(prefix))
        return;
      RankedTensorType type = weight.getType();
      llvm::StringRef name = weight.getName();
      if (type.getRank() != 2 || !type.getElementType().isF32() ||
          !weight->hasOneUse()) {
        if (report)
          llvm::errs() << "kiln-quantize-fp8: kept " << name
                       << " (not a 2-d f32 weight used by this linear only)\n";
        return;
      }
      for (auto [pattern, regex] : llvm::zip(patterns, keepers))
        if (regex.match(name)) {
          if (report)
            llvm::errs() << "kiln-quantize-fp8: kept " << name
                         << " (policy: '" << pattern << "')\n";
          ++kept;
          ++keptCount;
          return;
        }
      OpBuilder b(weight);
      Location loc = weight.getLoc();
      auto data = WeightOp::create(
          b, loc, type.clone(Float8E4M3FNType::get(&getContext())), name);
      auto scale = WeightOp::create(
          b, loc, RankedTensorType::get({type.getDimSize(0)}, b.getF32Type()),
          (name + kFp8ScaleSuffix).str());
      auto dequantize = DequantizeOp::create(b, loc, type, data, scale);
      weight.getResult().replaceAllUsesWith(dequantize.getResult());
      weight.erase();
      int64_t elements = type.getNumElements();
      before += 4 * elements;
      after += elements + 4 * type.getDimSize(0);
      if (report)
        llvm::errs() << "kiln-quantize-fp8: quantized " << name << " ["
                     << type.getDimSize(0) << " x " << type.getDimSize(1)
                     << "]\n";
      ++quantized;
      ++quantizedCount;
    });
    if (report)
      llvm::errs() << "kiln-quantize-fp8: " << quantizedCount
                   << " linears to e4m3 (" << before << " bytes of f32 -> "
                   << after << " with scales), " << keptCount
                   << " kept by the policy\n";
  }
};

} // namespace
} // namespace mlir::kiln
