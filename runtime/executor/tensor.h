// The tensors a call of an entry function takes and returns: views of the
// caller's inputs, and outputs the runtime allocates and hands over.
#ifndef KILN_RUNTIME_EXECUTOR_TENSOR_H_
#define KILN_RUNTIME_EXECUTOR_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/io/dtype.h"
#include "runtime/io/safetensors.h"

namespace kiln::executor {

using io::DType;

// An input of a call: `nbytes` bytes at `data` holding `shape` elements of
// `dtype`, row-major, contiguous. The runtime reads it during the call and
// never writes it; it need not outlive the call. It need not be aligned:
// data that is not 64-byte aligned is copied once per call into an aligned
// buffer (every buffer a kernel sees starts 64-byte aligned), aligned data
// is used in place.
struct HostTensorView {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;

  // A view of a tensor read from a safetensors file (the name is dropped).
  static HostTensorView Of(const io::TensorView& view) {
    return {view.dtype, view.shape, view.data, view.nbytes};
  }
  // A view of `values` (T must match `dtype`'s element size).
  template <typename T>
  static HostTensorView Of(DType dtype, std::vector<int64_t> shape,
                           const std::vector<T>& values) {
    return {dtype, std::move(shape), values.data(), values.size() * sizeof(T)};
  }
};

// An output of a call: a tensor the runtime allocated (64-byte aligned,
// row-major, contiguous) and handed over. Move-only; frees its memory on
// destruction.
class OwnedTensor {
 public:
  OwnedTensor() = default;
  OwnedTensor(OwnedTensor&&) noexcept = default;
  OwnedTensor& operator=(OwnedTensor&&) noexcept = default;
  OwnedTensor(const OwnedTensor&) = delete;
  OwnedTensor& operator=(const OwnedTensor&) = delete;

  // Takes `data`, `nbytes` bytes allocated with malloc or posix_memalign
  // (freed with std::free), as a tensor of `shape` x `dtype`.
  static OwnedTensor Adopt(DType dtype, std::vector<int64_t> shape,
                           uint8_t* data, size_t nbytes) {
    OwnedTensor tensor;
    tensor.dtype_ = dtype;
    tensor.shape_ = std::move(shape);
    tensor.data_.reset(data);
    tensor.nbytes_ = nbytes;
    return tensor;
  }

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  // The product of the dimensions (1 for a scalar).
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape_) n *= d;
    return n;
  }
  size_t nbytes() const { return nbytes_; }
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  // The elements as T (the caller picks the T that matches dtype()).
  template <typename T>
  const T* data_as() const {
    return reinterpret_cast<const T*>(data_.get());
  }

  // A view named `name`, for io::WriteSafetensors; valid while this lives.
  io::TensorView View(std::string name) const {
    return io::TensorView{std::move(name), dtype_, shape_, data_.get(),
                          nbytes_};
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };

  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  std::unique_ptr<uint8_t, Free> data_;
  size_t nbytes_ = 0;
};

}  // namespace kiln::executor

#endif  // KILN_RUNTIME_EXECUTOR_TENSOR_H_
