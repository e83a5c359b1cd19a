// Shape helpers and view-to-float conversion.
#include "core/tensor.h"

#include <cstring>

namespace sieve {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Tensor ToFloatTensor(const ConstTensorView& view) {
  Tensor t(view.shape);
  const size_t n = t.data.size();
  for (size_t i = 0; i < n; ++i) {
    switch (view.dtype) {
      case DType::kF32: {
        float v;
        std::memcpy(&v, view.data + 4 * i, 4);
        t.data[i] = v;
        break;
      }
      case DType::kBF16: {
        uint16_t v;
        std::memcpy(&v, view.data + 2 * i, 2);
        t.data[i] = Bf16ToFloat(v);
        break;
      }
      case DType::kF16: {
        uint16_t v;
        std::memcpy(&v, view.data + 2 * i, 2);
        t.data[i] = F16ToFloat(v);
        break;
      }
      case DType::kF8E4M3: t.data[i] = E4m3ToFloat(static_cast<uint8_t>(view.data[i])); break;
      case DType::kI32: {
        int32_t v;
        std::memcpy(&v, view.data + 4 * i, 4);
        t.data[i] = static_cast<float>(v);
        break;
      }
      case DType::kI64: {
        int64_t v;
        std::memcpy(&v, view.data + 8 * i, 8);
        t.data[i] = static_cast<float>(v);
        break;
      }
      default: t.data[i] = 0.0f; break;
    }
  }
  return t;
}

}  // namespace sieve
