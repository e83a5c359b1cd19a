// Shapes and tensors. Convention for all of Sieve: shapes are written outermost first, row-major,
// the last dimension contiguous ([n_tokens, n_heads, head_dim]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace sieve {

using Shape = std::vector<int64_t>;

int64_t NumElements(const Shape& shape);
// "[576, 7168]".
std::string ShapeToString(const Shape& shape);

// Read-only bytes owned elsewhere (usually a memory-mapped checkpoint shard).
struct ConstTensorView {
  DType dtype = DType::kF32;
  Shape shape;
  const std::byte* data = nullptr;
  size_t nbytes = 0;

  int64_t dim(size_t i) const { return shape[i]; }
  template <typename T>
  const T* as() const { return reinterpret_cast<const T*>(data); }
};

// An owned float32 tensor: activations, goldens, test data.
struct Tensor {
  Shape shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(Shape s) : shape(std::move(s)), data(static_cast<size_t>(NumElements(shape)), 0.0f) {}
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
};

// Converts any float-typed view (F32, BF16, F16, F8_E4M3 without scales) to an owned float tensor.
Tensor ToFloatTensor(const ConstTensorView& view);

}  // namespace sieve
