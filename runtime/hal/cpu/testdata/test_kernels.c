// Kernels written by hand against the CPU kernel ABI (runtime/hal/
// kernel_abi.h), built into a shared object that the tests load from memory
// the way the runtime loads compiled code from an artifact.
//
// Built twice, with KILN_TEST_VARIANT 1 and 2, so that tests can tell two
// loaded objects apart.
#include <stdint.h>

#ifndef KILN_TEST_VARIANT
#error "define KILN_TEST_VARIANT"
#endif

// MLIR's StridedMemRefType<T, 1> and <T, 2>: the descriptor's words.
typedef struct {
  float* allocated;
  float* aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} MemrefF32Rank1;

typedef struct {
  int64_t* allocated;
  int64_t* aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} MemrefI64Rank1;

typedef struct {
  float* allocated;
  float* aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} MemrefF32Rank2;

// Workgroup `id` of `count` owns [*begin, *end) of n items.
static void Chunk(int64_t n, int64_t id, int64_t count, int64_t* begin,
                  int64_t* end) {
  int64_t per = (n + count - 1) / count;
  *begin = id * per < n ? id * per : n;
  *end = *begin + per < n ? *begin + per : n;
}

// out = lhs + rhs over 1-D f32 memrefs; bindings: lhs, rhs, out.
void add(int64_t* const* bindings, int64_t workgroup_id,
         int64_t workgroup_count) {
  const MemrefF32Rank1* lhs = (const MemrefF32Rank1*)bindings[0];
  const MemrefF32Rank1* rhs = (const MemrefF32Rank1*)bindings[1];
  const MemrefF32Rank1* out = (const MemrefF32Rank1*)bindings[2];
  int64_t begin, end;
  Chunk(out->sizes[0], workgroup_id, workgroup_count, &begin, &end);
  for (int64_t i = begin; i < end; ++i) {
    out->aligned[out->offset + i * out->strides[0]] =
        lhs->aligned[lhs->offset + i * lhs->strides[0]] +
        rhs->aligned[rhs->offset + i * rhs->strides[0]];
  }
}

// out[i] = the id of the workgroup that owns i; bindings: out (1-D i64).
void fill_workgroup_id(int64_t* const* bindings, int64_t workgroup_id,
                       int64_t workgroup_count) {
  const MemrefI64Rank1* out = (const MemrefI64Rank1*)bindings[0];
  int64_t begin, end;
  Chunk(out->sizes[0], workgroup_id, workgroup_count, &begin, &end);
  for (int64_t i = begin; i < end; ++i) {
    out->aligned[out->offset + i * out->strides[0]] = workgroup_id;
  }
}

// out[r][c] = in[r][c] * (r + 1) + c, over 2-D f32 memrefs, a workgroup per
// block of rows; bindings: in, out. Reads sizes, strides and offsets.
void scale_rows(int64_t* const* bindings, int64_t workgroup_id,
                int64_t workgroup_count) {
  const MemrefF32Rank2* in = (const MemrefF32Rank2*)bindings[0];
  const MemrefF32Rank2* out = (const MemrefF32Rank2*)bindings[1];
  int64_t begin, end;
  Chunk(out->sizes[0], workgroup_id, workgroup_count, &begin, &end);
  for (int64_t r = begin; r < end; ++r) {
    for (int64_t c = 0; c < out->sizes[1]; ++c) {
      float x =
          in->aligned[in->offset + r * in->strides[0] + c * in->strides[1]];
      out->aligned[out->offset + r * out->strides[0] + c * out->strides[1]] =
          x * (float)(r + 1) + (float)c;
    }
  }
}

// out = {allocated, aligned, offset, size} of binding 0 (any 1-D memref),
// as the descriptor holds them; workgroup 0 writes. Bindings: in (1-D f32),
// out (1-D i64, at least 4 elements).
void describe_binding(int64_t* const* bindings, int64_t workgroup_id,
                      int64_t workgroup_count) {
  (void)workgroup_count;
  const int64_t* in = bindings[0];
  const MemrefI64Rank1* out = (const MemrefI64Rank1*)bindings[1];
  if (workgroup_id != 0) return;
  for (int64_t i = 0; i < 4; ++i) {
    out->aligned[out->offset + i * out->strides[0]] = in[i];
  }
}

// out[i] = KILN_TEST_VARIANT for every i; bindings: out (1-D i64).
void write_variant(int64_t* const* bindings, int64_t workgroup_id,
                   int64_t workgroup_count) {
  const MemrefI64Rank1* out = (const MemrefI64Rank1*)bindings[0];
  int64_t begin, end;
  Chunk(out->sizes[0], workgroup_id, workgroup_count, &begin, &end);
  for (int64_t i = begin; i < end; ++i) {
    out->aligned[out->offset + i * out->strides[0]] = KILN_TEST_VARIANT;
  }
}
