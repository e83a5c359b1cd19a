// Safetensors reading (mmap + validated header) and header writing.
#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace sieve::model {

using nlohmann::json;

namespace {
// Headers of real checkpoints are a few hundred KB; anything near this is corrupt.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
}  // namespace

Status SafetensorsFile::ParseHeader(std::string_view bytes, size_t file_size, const std::string& path,
                                    std::map<std::string, ConstTensorView>* out) {
  if (bytes.size() < 8)
    return Status::DataLoss(path + ": truncated safetensors file (" + std::to_string(bytes.size()) +
                            " bytes, need at least 8 for the header length)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[i]);
  if (header_len > bytes.size() - 8)
    return Status::DataLoss(path + ": safetensors header length " + std::to_string(header_len) +
                            " exceeds the file size " + std::to_string(file_size));
  if (header_len > kMaxHeaderBytes)
    return Status::DataLoss(path + ": safetensors header length " + std::to_string(header_len) +
                            " is implausibly large (corrupt length prefix)");
  json header;
  try {
    header = json::parse(bytes.substr(8, header_len));
  } catch (const json::parse_error& e) {
    // Not e.what(): it quotes the offending bytes, which may be binary or hold newlines; the message must
    // stay one printable line.
    return Status::DataLoss(path + ": safetensors header is not valid JSON (parse error at byte " +
                            std::to_string(e.byte) + " of " + std::to_string(header_len) + ")");
  } catch (const json::exception&) {
    return Status::DataLoss(path + ": safetensors header is not valid JSON");
  }
  if (!header.is_object()) return Status::DataLoss(path + ": safetensors header is not a JSON object");
  const size_t data_start = 8 + header_len;
  const size_t data_size = file_size - data_start;
  struct Range {
    uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const json& e = it.value();
    const std::string where = path + ": tensor " + name;
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets") ||
        !e["dtype"].is_string() || !e["shape"].is_array() || !e["data_offsets"].is_array() ||
        e["data_offsets"].size() != 2)
      return Status::DataLoss(where + ": header entry needs dtype, shape and data_offsets [begin, end]");
    const auto dtype = ParseDType(e["dtype"].get<std::string>());
    if (!dtype) return Status::DataLoss(where + ": unknown dtype " + e["dtype"].get<std::string>());
    ConstTensorView view;
    view.dtype = *dtype;
    uint64_t numel = 1;
    for (const json& d : e["shape"]) {
      if (!d.is_number_unsigned()) return Status::DataLoss(where + ": shape entries must be non-negative integers");
      const uint64_t dim = d.get<uint64_t>();
      if (dim > (1ull << 40) || (dim && numel > (1ull << 48) / dim))
        return Status::DataLoss(where + ": shape too large");
      numel *= dim;
      view.shape.push_back(static_cast<int64_t>(dim));
    }
    const json& off = e["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return Status::DataLoss(where + ": data_offsets must be non-negative integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size)
      return Status::DataLoss(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                              "] outside the data section of " + std::to_string(data_size) +
                              " bytes (truncated file?)");
    if (end - begin != numel * DTypeSize(*dtype))
      return Status::DataLoss(where + ": " + std::to_string(end - begin) + " bytes for shape " +
                              ShapeToString(view.shape) + " of " + std::string(DTypeName(*dtype)) + ", expected " +
                              std::to_string(numel * DTypeSize(*dtype)));
    view.data = reinterpret_cast<const std::byte*>(bytes.data()) + data_start + begin;
    view.nbytes = end - begin;
    if (end > begin) ranges.push_back({begin, end, &it.key()});  // empty tensors overlap nothing
    (*out)[name] = std::move(view);
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    const Range& a = ranges[i - 1];
    const Range& b = ranges[i];
    if (b.begin < a.end)
      return Status::DataLoss(path + ": tensors " + *a.name + " [" + std::to_string(a.begin) + ", " +
                              std::to_string(a.end) + ") and " + *b.name + " [" + std::to_string(b.begin) + ", " +
                              std::to_string(b.end) + ") overlap in the data section");
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound(path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::NotFound(path + ": " + std::strerror(err));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    return Status::DataLoss(path + ": truncated safetensors file (" + std::to_string(size) + " bytes)");
  }
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (mapping == MAP_FAILED) return Status::Internal(path + ": mmap failed: " + std::strerror(errno));
  // Advice only (ignored where the kernel cannot): a decode step streams every weight once, and on 4 KiB
  // pages each page boundary is a TLB miss and a restart of the hardware prefetcher. With it, Linux's
  // readahead through this mapping fills the page cache with 2 MiB folios (on filesystems with large
  // folios, such as ext4 on this machine's Linux 6.18) and faults map them whole: `small`'s layer shards
  // were then PMD-mapped, and decode ran ~2% faster at batch 1 and 16 (in-process A/B, docs/performance.md,
  // round 19). A file already cached in small pages keeps them until they are evicted.
  ::madvise(mapping, size, MADV_HUGEPAGE);
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->mapping_ = mapping;
  file->mapping_size_ = size;
  SIEVE_RETURN_IF_ERROR(
      ParseHeader(std::string_view(static_cast<const char*>(mapping), size), size, path, &file->tensors_));
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_) ::munmap(mapping_, mapping_size_);
}

const ConstTensorView* SafetensorsFile::Find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::string SafetensorsHeader(const std::vector<SafetensorsEntry>& entries,
                              const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const SafetensorsEntry& e : entries) {
    const uint64_t nbytes = static_cast<uint64_t>(NumElements(e.shape)) * DTypeSize(e.dtype);
    header[e.name] = {{"dtype", std::string(DTypeName(e.dtype))},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + text;
}

}  // namespace sieve::model
