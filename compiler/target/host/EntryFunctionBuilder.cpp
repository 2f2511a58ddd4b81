//===- EntryFunctionBuilder.cpp - Host program to artifact entry ----------===//

#include "compiler/target/host/EntryFunctionBuilder.h"

#include "compiler/target/host/BufferViews.h"
#include "compiler/target/host/ExpressionMath.h"
#include "compiler/target/host/ExpressionPolynomial.h"
#include "compiler/target/host/MemoryPlanner.h"
#include "compiler/target/host/ShapeExpressions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <set>

namespace mlir::kiln {

namespace art = ::kiln::artifact;
using ::kiln::io::DType;
using art::Expression;

uint32_t ParameterTable::getOrAdd(llvm::StringRef name, MemRefType type,
                                  Operation *global) {
  auto [it, inserted] = index.try_emplace(name, list.size());
  if (inserted)
    list.push_back({name.str(), type, global});
  return it->second;
}

FailureOr<DType> artifactDType(Type type) {
  if (type.isF32())
    return DType::F32;
  if (type.isF16())
    return DType::F16;
  if (type.isBF16())
    return DType::BF16;
  if (isa<Float8E4M3FNType>(type))
    return DType::F8_E4M3;
  if (type.isF64())
    return DType::F64;
  if (type.isInteger(64) || type.isIndex())
    return DType::I64;
  if (type.isInteger(32))
    return DType::I32;
  if (type.isInteger(8))
    return DType::I8;
  if (type.isInteger(1))
    return DType::BOOL;
  return failure();
}

namespace {

constexpr llvm::StringLiteral kDispatchAttr = "kiln.dispatch";
constexpr llvm::StringLiteral kExtentAttr = "kiln.workgroup_extent";
constexpr llvm::StringLiteral kSizeEqualitiesAttr = "kiln.size_equalities";

/// What a kernel does to the buffer behind argument `arg`: follows views
/// and asks each user for its memory effects (unknown users: both).
art::Access accessOf(func::FuncOp kernel, unsigned arg) {
  bool read = false, write = false;
  SmallVector<Value> worklist{kernel.getArgument(arg)};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == value) {
        worklist.append(user->result_begin(), user->result_end());
        continue;
      }
      auto effects = dyn_cast<MemoryEffectOpInterface>(user);
      if (!effects) {
        read = write = true;
        continue;
      }
      SmallVector<MemoryEffects::EffectInstance> list;
      effects.getEffectsOnValue(value, list);
      for (const MemoryEffects::EffectInstance &effect : list) {
        read |= isa<MemoryEffects::Read>(effect.getEffect());
        write |= isa<MemoryEffects::Write>(effect.getEffect());
      }
    }
  }
  if (read && write)
    return art::Access::kReadWrite;
  return write ? art::Access::kWrite : art::Access::kRead;
}

/// Index buffers the host fills with memref.store only to give
/// memref.reshape its shape; no kernel sees them.
bool isReshapeShape(Value alloc) {
  return llvm::all_of(alloc.getUses(), [](OpOperand &use) {
    Operation *user = use.getOwner();
    if (auto store = dyn_cast<memref::StoreOp>(user))
      return store.getMemRef() == use.get();
    if (auto reshape = dyn_cast<memref::ReshapeOp>(user))
      return reshape.getShape() == use.get();
    return false;
  });
}

Expression product(ArrayRef<Expression> sizes) {
  Expression n = expr::constant(1);
  for (const Expression &size : sizes)
    n = expr::mul(n, size);
  return n;
}

class EntryBuilder {
public:
  EntryBuilder(ModuleOp module, func::FuncOp host, ParameterTable &parameters,
               int64_t firstDim, const EntryBuildOptions &options)
      : module(module), host(host), parameters(parameters),
        firstDim(firstDim), options(options), shapes(host), views(shapes) {}

  FailureOr<BuiltEntry> build() {
    result.entry.name = host.getName().str();
    if (failed(addArguments()) || failed(addOutputs()) ||
        failed(addDispatches()) || failed(checkOutputsWritten()))
      return failure();
    std::vector<int64_t> sample(result.dims.size(), 256);
    result.entry.memory_plan = planMemory(lifetimes, sample);
    renumberDims();
    return std::move(result);
  }

private:
  std::string dimName(llvm::StringRef tensor, int64_t d) {
    return (host.getName() + "." + tensor + "[" + llvm::Twine(d) + "]").str();
  }

  FailureOr<art::TensorSpec> spec(Value value, llvm::StringRef name) {
    auto type = cast<MemRefType>(value.getType());
    FailureOr<DType> dtype = artifactDType(type.getElementType());
    if (failed(dtype))
      return emitError(value.getLoc(), "'")
             << name << "' has element type " << type.getElementType()
             << ", which the artifact cannot store";
    return art::TensorSpec{name.str(), *dtype, {}};
  }

  /// Inputs name the entry's symbols, in argument order; weights become
  /// parameters.
  LogicalResult addArguments() {
    for (BlockArgument arg : host.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      unsigned i = arg.getArgNumber();
      if (auto name = host.getArgAttrOfType<StringAttr>(i, "kiln.weight")) {
        if (!type || !type.hasStaticShape())
          return emitError(arg.getLoc(), "weight '")
                 << name.getValue() << "' needs a static memref type";
        parameterArgs[arg] = parameters.getOrAdd(name.getValue(), type);
        continue;
      }
      auto name = host.getArgAttrOfType<StringAttr>(i, "kiln.input");
      if (!name || !type)
        return host.emitOpError("argument ")
               << i << " is neither a kiln.input nor a kiln.weight memref";
      FailureOr<art::TensorSpec> input = spec(arg, name.getValue());
      if (failed(input))
        return failure();
      for (int64_t d = 0; d < type.getRank(); ++d) {
        if (!type.isDynamicDim(d)) {
          input->shape.push_back(art::ShapeDim::Constant(type.getDimSize(d)));
          continue;
        }
        FailureOr<Expression> size = shapes.dimension(arg, d);
        if (failed(size))
          return failure();
        int64_t symbol = *expr::singleDim(*size);
        if (static_cast<size_t>(symbol) == result.dims.size()) {
          std::string dim = dimName(name.getValue(), d);
          int64_t max = options.defaultDimMax;
          if (auto it = options.dimLimits.find(dim);
              it != options.dimLimits.end())
            max = it->second;
          // Every size is at least 1 (no empty prompt or image reaches an
          // entry), which lets the memory planner compare sizes.
          result.dims.push_back({dim, 1, max, {}});
        }
        input->shape.push_back(art::ShapeDim::Symbolic(symbol));
      }
      inputArgs[arg] = result.entry.inputs.size();
      result.entry.inputs.push_back(std::move(*input));
    }
    return success();
  }

  /// Each returned value must be a whole allocation; its sizes become the
  /// output's shape (a new derived dim where one is an expression).
  LogicalResult addOutputs() {
    auto ret = cast<func::ReturnOp>(host.getBody().back().getTerminator());
    for (auto [k, value] : llvm::enumerate(ret.getOperands())) {
      auto name = host.getResultAttrOfType<StringAttr>(k, "kiln.output");
      if (!name)
        return ret.emitOpError("result ") << k << " has no kiln.output name";
      Value root = BufferViewTracer::rootOf(value);
      if (!root.getDefiningOp<memref::AllocOp>() || outputAllocs.count(root))
        return ret.emitOpError("output '")
               << name.getValue()
               << "' is not a buffer of its own (an input, a weight, a "
                  "constant or another output): not supported yet";
      FailureOr<BufferView> view = views.trace(value);
      FailureOr<art::TensorSpec> output = spec(value, name.getValue());
      if (failed(view) || failed(output))
        return failure();
      if (expr::constantValue(view->offset) != 0)
        return ret.emitOpError("output '")
               << name.getValue() << "' is a view at an offset";
      for (auto [d, size] : llvm::enumerate(view->sizes)) {
        if (auto c = expr::constantValue(size)) {
          output->shape.push_back(art::ShapeDim::Constant(*c));
        } else if (auto dim = expr::singleDim(size)) {
          output->shape.push_back(art::ShapeDim::Symbolic(*dim));
        } else {
          // One derived dim per distinct size (the encoder's mean and
          // normalized latents share theirs).
          auto same = llvm::find_if(result.dims, [&](const art::Dim &dim) {
            return dim.is_derived() && dim.definition == size;
          });
          output->shape.push_back(
              art::ShapeDim::Symbolic(same - result.dims.begin()));
          if (same == result.dims.end())
            result.dims.push_back({dimName(name.getValue(), d), 0,
                                   std::numeric_limits<int64_t>::max(), size});
        }
      }
      outputAllocs[root] = k;
      result.entry.outputs.push_back(std::move(*output));
    }
    return success();
  }

  LogicalResult addDispatches() {
    WalkResult walk = host.getBody().walk([&](Operation *op) {
      if (auto call = dyn_cast<func::CallOp>(op)) {
        auto kernel = module.lookupSymbol<func::FuncOp>(call.getCallee());
        if (!kernel || !kernel->hasAttr(kDispatchAttr)) {
          call.emitOpError("calls something other than a kiln.dispatch "
                           "kernel");
          return WalkResult::interrupt();
        }
        return failed(addDispatch(call, kernel)) ? WalkResult::interrupt()
                                                 : WalkResult::advance();
      }
      return failed(checkHostOp(op)) ? WalkResult::interrupt()
                                     : WalkResult::advance();
    });
    return failure(walk.wasInterrupted());
  }

  /// Host ops other than calls only compute sizes and views.
  LogicalResult checkHostOp(Operation *op) {
    if (isa<arith::ArithDialect, affine::AffineDialect>(op->getDialect()) ||
        isa<memref::DimOp, memref::AllocOp, memref::GetGlobalOp,
            memref::DeallocOp, ViewLikeOpInterface, memref::ReshapeOp,
            scf::ForOp, scf::YieldOp, func::ReturnOp>(op))
      return success();
    if (auto store = dyn_cast<memref::StoreOp>(op))
      if (isReshapeShape(BufferViewTracer::rootOf(store.getMemRef())))
        return success();
    return op->emitOpError("in the host program is not something the "
                           "artifact can express (only sizes, buffers, views "
                           "and kernel calls)");
  }

  LogicalResult addDispatch(func::CallOp call, func::FuncOp kernel) {
    art::Dispatch dispatch;
    dispatch.executable = options.executable;
    dispatch.kernel = options.kernelSymbol(kernel.getName());
    const int64_t index = result.entry.dispatches.size();
    for (auto [i, operand] : llvm::enumerate(call.getOperands())) {
      if (!isa<MemRefType>(operand.getType()))
        continue;  // the trailing workgroup id and count
      FailureOr<art::Binding> binding = bind(operand, kernel, i, index);
      if (failed(binding))
        return failure();
      dispatch.bindings.push_back(std::move(*binding));
    }
    Expression count = expr::constant(1);
    if (auto extent = kernel->getAttrOfType<DenseI64ArrayAttr>(kExtentAttr)) {
      ArrayRef<int64_t> at = extent.asArrayRef();
      count = expr::min(dispatch.bindings[at[0]].shape[at[1]],
                        expr::constant(options.maxWorkgroups));
    }
    dispatch.workgroup_count = {count, expr::constant(1), expr::constant(1)};
    addSizeEqualities(kernel, dispatch, index);
    result.entry.dispatches.push_back(std::move(dispatch));
    return success();
  }

  /// The binding sizes the kernel needs equal (kiln-outline-dispatches
  /// records them) that are not already the same expression become runtime
  /// checks; each distinct pair once.
  void addSizeEqualities(func::FuncOp kernel, const art::Dispatch &dispatch,
                         int64_t index) {
    auto quads = kernel->getAttrOfType<DenseI64ArrayAttr>(kSizeEqualitiesAttr);
    if (!quads)
      return;
    ArrayRef<int64_t> q = quads.asArrayRef();
    for (size_t i = 0; i + 3 < q.size(); i += 4) {
      Expression lhs = expr::simplify(dispatch.bindings[q[i]].shape[q[i + 1]]);
      Expression rhs =
          expr::simplify(dispatch.bindings[q[i + 2]].shape[q[i + 3]]);
      if (lhs == rhs)
        continue;
      if (rhs.ToString() < lhs.ToString())
        std::swap(lhs, rhs);
      if (!seenEqualities.insert(lhs.ToString() + "==" + rhs.ToString())
               .second)
        continue;
      result.entry.size_equalities.push_back(
          {lhs, rhs, static_cast<uint32_t>(index)});
    }
  }

  FailureOr<art::Binding> bind(Value operand, func::FuncOp kernel,
                               unsigned arg, int64_t dispatchIndex) {
    FailureOr<BufferView> view = views.trace(operand);
    if (failed(view))
      return failure();
    auto kernelType = cast<MemRefType>(kernel.getArgumentTypes()[arg]);
    FailureOr<DType> dtype = artifactDType(kernelType.getElementType());
    if (failed(dtype))
      return kernel.emitOpError("argument ")
             << arg << " has an element type the artifact cannot store";
    art::Binding binding;
    binding.dtype = *dtype;
    binding.access = accessOf(kernel, arg);
    if (failed(locate(view->root, binding, dispatchIndex)))
      return failure();
    const Expression elementSize =
        expr::constant(::kiln::io::DTypeSize(*dtype));
    binding.offset = expr::mul(view->offset, elementSize);
    binding.shape.assign(view->sizes.begin(), view->sizes.end());
    if (kernelType.getLayout().isIdentity()) {
      // A contiguous row-major view: the kernel reads neither the
      // descriptor's offset nor its strides.
      binding.size = expr::mul(product(view->sizes), elementSize);
      return binding;
    }
    // Strided: the bytes from the first element to the last, none when the
    // view is empty (min(numel, 1) is 0 then).
    binding.strides.assign(view->strides.begin(), view->strides.end());
    Expression last = expr::constant(0);
    for (auto [size, stride] : llvm::zip(view->sizes, view->strides))
      last = expr::add(last,
                       expr::mul(expr::sub(size, expr::constant(1)), stride));
    binding.size = expr::mul(
        expr::mul(expr::min(product(view->sizes), expr::constant(1)),
                  expr::add(last, expr::constant(1))),
        elementSize);
    return binding;
  }

  /// Sets the binding's buffer from the view's root.
  LogicalResult locate(Value root, art::Binding &binding,
                       int64_t dispatchIndex) {
    if (auto it = inputArgs.find(root); it != inputArgs.end()) {
      binding.kind = art::BufferKind::kInput;
      binding.index = it->second;
      return success();
    }
    if (auto it = parameterArgs.find(root); it != parameterArgs.end()) {
      binding.kind = art::BufferKind::kParameter;
      binding.index = it->second;
      return success();
    }
    if (auto get = root.getDefiningOp<memref::GetGlobalOp>()) {
      auto global =
          module.lookupSymbol<memref::GlobalOp>(get.getNameAttr());
      if (!global || !global.getConstant() || !global.getInitialValue())
        return get.emitOpError("reads a global that is not a constant");
      binding.kind = art::BufferKind::kParameter;
      binding.index = parameters.getOrAdd(
          ("constant." + global.getSymName()).str(), global.getType(), global);
      return success();
    }
    auto alloc = root.getDefiningOp<memref::AllocOp>();
    if (!alloc)
      return emitError(root.getLoc(), "a kernel binding whose buffer is "
                                      "neither an argument, an allocation "
                                      "nor a constant");
    if (auto it = outputAllocs.find(root); it != outputAllocs.end()) {
      binding.kind = art::BufferKind::kOutput;
      binding.index = it->second;
      return success();
    }
    binding.kind = art::BufferKind::kIntermediate;
    auto [it, inserted] = intermediates.try_emplace(root, lifetimes.size());
    if (inserted) {
      FailureOr<BufferView> whole = views.trace(root);
      FailureOr<DType> dtype =
          artifactDType(alloc.getType().getElementType());
      if (failed(whole) || failed(dtype))
        return alloc.emitOpError("has a size or type the artifact cannot "
                                 "express");
      lifetimes.push_back(
          {"tmp" + std::to_string(lifetimes.size()),
           expr::mul(product(whole->sizes),
                     expr::constant(::kiln::io::DTypeSize(*dtype))),
           dispatchIndex, dispatchIndex});
    }
    binding.index = it->second;
    lifetimes[it->second].lastUse = dispatchIndex;
    return success();
  }

  LogicalResult checkOutputsWritten() {
    std::vector<bool> written(result.entry.outputs.size(), false);
    for (const art::Dispatch &dispatch : result.entry.dispatches)
      for (const art::Binding &binding : dispatch.bindings)
        if (binding.kind == art::BufferKind::kOutput &&
            binding.access != art::Access::kRead)
          written[binding.index] = true;
    for (size_t k = 0; k < written.size(); ++k)
      if (!written[k])
        return host.emitOpError("output '")
               << result.entry.outputs[k].name << "' is written by no kernel";
    return success();
  }

  /// Local dim numbers (0 = this entry's first) to the artifact's.
  void renumberDims() {
    if (shapes.symbols().size() + countDerived() != result.dims.size())
      llvm::report_fatal_error("entry dims out of step with the symbols");
    auto shift = [&](int64_t d) { return d + firstDim; };
    auto fix = [&](Expression &e) {
      e = expr::remapDims(expr::simplify(e), shift);
    };
    for (art::Dim &dim : result.dims)
      if (dim.is_derived())
        fix(dim.definition);
    for (auto *specs : {&result.entry.inputs, &result.entry.outputs})
      for (art::TensorSpec &spec : *specs)
        for (art::ShapeDim &d : spec.shape)
          if (d.is_symbolic())
            d.dim = shift(d.dim);
    for (art::Dispatch &dispatch : result.entry.dispatches) {
      for (Expression &count : dispatch.workgroup_count)
        fix(count);
      for (art::Binding &binding : dispatch.bindings) {
        fix(binding.offset);
        fix(binding.size);
        for (Expression &e : binding.shape)
          fix(e);
        for (Expression &e : binding.strides)
          fix(e);
      }
    }
    for (art::SizeEquality &eq : result.entry.size_equalities) {
      fix(eq.lhs);
      fix(eq.rhs);
    }
    art::MemoryPlan &plan = result.entry.memory_plan;
    fix(plan.arena_size);
    for (art::PlannedBuffer &buffer : plan.buffers) {
      fix(buffer.offset);
      fix(buffer.size);
    }
  }

  size_t countDerived() const {
    return llvm::count_if(result.dims,
                          [](const art::Dim &d) { return d.is_derived(); });
  }

  ModuleOp module;
  func::FuncOp host;
  ParameterTable &parameters;
  int64_t firstDim;
  const EntryBuildOptions &options;
  ShapeExpressionBuilder shapes;
  BufferViewTracer views;
  BuiltEntry result;
  llvm::DenseMap<Value, uint32_t> inputArgs, parameterArgs, outputAllocs,
      intermediates;
  std::vector<BufferLifetime> lifetimes;
  std::set<std::string> seenEqualities;
};

} // namespace

FailureOr<BuiltEntry> buildEntryFunction(ModuleOp module, func::FuncOp host,
                                         ParameterTable &parameters,
                                         int64_t firstDim,
                                         const EntryBuildOptions &options) {
  return EntryBuilder(module, host, parameters, firstDim, options).build();
}

} // namespace mlir::kiln
