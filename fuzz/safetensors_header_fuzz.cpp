// libFuzzer target: arbitrary bytes as a safetensors file must give a Status, never a crash or a read
// outside the buffer (ASan watches), whatever the header claims.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, sieve::ConstTensorView> tensors;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const sieve::Status status = sieve::model::SafetensorsFile::ParseHeader(bytes, size, "fuzz", &tensors);
  if (status.ok()) {
    // Every tensor handed out must lie inside the buffer: touch its first and last byte.
    uint8_t acc = 0;
    for (const auto& [name, view] : tensors)
      if (view.nbytes) acc ^= static_cast<uint8_t>(view.data[0]) ^ static_cast<uint8_t>(view.data[view.nbytes - 1]);
    volatile uint8_t sink = acc;
    (void)sink;
  }
  return 0;
}
