// One memory-mapped .safetensors file. Format (https://github.com/huggingface/safetensors):
//   [8 bytes: little-endian u64 N][N bytes: JSON header][data]
// The header maps each tensor name to {"dtype": "F8_E4M3", "shape": [..], "data_offsets": [begin, end]},
// offsets relative to the start of the data section; an optional "__metadata__" maps strings to strings.
// Every entry is validated (known dtype, shape x dtype size == byte length, inside the file, no overlap)
// before any tensor is handed out. Pages are only touched when a tensor is read (lazy loading).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace sieve::model {

class SafetensorsFile {
 public:
  static StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  // Parses a header from memory; `file_size` is the whole file's size (for bounds checks). Used by
  // Open and by the header fuzzer.
  static Status ParseHeader(std::string_view bytes, size_t file_size, const std::string& path,
                            std::map<std::string, ConstTensorView>* out);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, ConstTensorView>& tensors() const { return tensors_; }
  const ConstTensorView* Find(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::map<std::string, ConstTensorView> tensors_;
};

// A tensor to be written; its data follows in the same order, dtype x shape bytes each.
struct SafetensorsEntry {
  std::string name;
  DType dtype;
  Shape shape;
};

// Builds the header (8-byte length prefix included, JSON padded with spaces to 8-byte alignment as the
// reference writer does) for tensors whose data is laid out back to back in the given order, so a
// writer can stream the data afterwards without holding it.
std::string SafetensorsHeader(const std::vector<SafetensorsEntry>& entries,
                              const std::map<std::string, std::string>& metadata);

}  // namespace sieve::model
