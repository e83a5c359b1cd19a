// StepCommand's wire format (see step_command.h): little-endian int64 fields and raw fp32 rows, in the
// order the struct declares them; every rank runs the same binary, so no versioning is needed.
#include "engine/step_command.h"

#include <climits>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace sieve::engine {
namespace {

class Writer {
 public:
  void Int(int64_t v) { Raw(&v, sizeof v); }
  void Ints(const std::vector<int32_t>& v) {
    Int(static_cast<int64_t>(v.size()));
    Raw(v.data(), v.size() * sizeof(int32_t));
  }
  void Raw(const void* data, size_t n) {
    const auto* p = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  std::vector<std::byte> Take() { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  Status Int(int64_t* v) { return Raw(v, sizeof *v); }
  Status Count(int64_t* n, size_t element_bytes) {
    SIEVE_RETURN_IF_ERROR(Int(n));
    if (*n < 0 || static_cast<uint64_t>(*n) * element_bytes > bytes_.size() - offset_)
      return Status::InvalidArgument("step command: a count exceeds the message");
    return Status::Ok();
  }
  Status Ints(std::vector<int32_t>* v) {
    int64_t n = 0;
    SIEVE_RETURN_IF_ERROR(Count(&n, sizeof(int32_t)));
    v->resize(static_cast<size_t>(n));
    return Raw(v->data(), v->size() * sizeof(int32_t));
  }
  Status Raw(void* out, size_t n) {
    if (n > bytes_.size() - offset_) return Status::InvalidArgument("step command: message truncated");
    if (n > 0) std::memcpy(out, bytes_.data() + offset_, n);
    offset_ += n;
    return Status::Ok();
  }
  bool done() const { return offset_ == bytes_.size(); }

 private:
  std::span<const std::byte> bytes_;
  size_t offset_ = 0;
};

}  // namespace

std::vector<std::byte> EncodeStepCommand(const StepCommand& c) {
  Writer w;
  w.Int(static_cast<int64_t>(c.kind));
  w.Int(static_cast<int64_t>(c.block_copies.size()));
  for (const auto& [src, dst] : c.block_copies) {
    w.Int(src);
    w.Int(dst);
  }
  w.Int(c.batch.all_hidden ? 1 : 0);
  w.Int(static_cast<int64_t>(c.batch.seqs.size()));
  for (const model::SequenceChunk& s : c.batch.seqs) {
    w.Int(s.start_pos);
    w.Int(static_cast<int64_t>(s.logits));
    w.Ints(s.token_ids);
    w.Ints(s.block_table);
  }
  w.Int(static_cast<int64_t>(c.hidden.shape.size()));
  for (int64_t d : c.hidden.shape) w.Int(d);
  w.Raw(c.hidden.ptr(), c.hidden.data.size() * sizeof(float));
  return w.Take();
}

StatusOr<StepCommand> DecodeStepCommand(std::span<const std::byte> bytes) {
  Reader r(bytes);
  StepCommand c;
  int64_t v = 0;
  SIEVE_RETURN_IF_ERROR(r.Int(&v));
  if (v < static_cast<int64_t>(StepCommand::Kind::kForward) || v > static_cast<int64_t>(StepCommand::Kind::kStop))
    return Status::InvalidArgument("step command: unknown kind " + std::to_string(v));
  c.kind = static_cast<StepCommand::Kind>(v);
  int64_t n = 0;
  SIEVE_RETURN_IF_ERROR(r.Count(&n, 2 * sizeof(int64_t)));
  c.block_copies.resize(static_cast<size_t>(n));
  for (auto& [src, dst] : c.block_copies) {
    int64_t s = 0, d = 0;
    SIEVE_RETURN_IF_ERROR(r.Int(&s));
    SIEVE_RETURN_IF_ERROR(r.Int(&d));
    src = static_cast<int32_t>(s);
    dst = static_cast<int32_t>(d);
  }
  SIEVE_RETURN_IF_ERROR(r.Int(&v));
  c.batch.all_hidden = v != 0;
  SIEVE_RETURN_IF_ERROR(r.Count(&n, 4 * sizeof(int64_t)));
  c.batch.seqs.resize(static_cast<size_t>(n));
  for (model::SequenceChunk& s : c.batch.seqs) {
    SIEVE_RETURN_IF_ERROR(r.Int(&s.start_pos));
    SIEVE_RETURN_IF_ERROR(r.Int(&v));
    if (v < 0 || v > static_cast<int64_t>(model::SequenceChunk::Logits::kAll))
      return Status::InvalidArgument("step command: unknown logits choice " + std::to_string(v));
    s.logits = static_cast<model::SequenceChunk::Logits>(v);
    SIEVE_RETURN_IF_ERROR(r.Ints(&s.token_ids));
    SIEVE_RETURN_IF_ERROR(r.Ints(&s.block_table));
  }
  SIEVE_RETURN_IF_ERROR(r.Count(&n, sizeof(int64_t)));
  Shape shape(static_cast<size_t>(n));
  uint64_t elements = 1;
  for (int64_t& d : shape) {
    SIEVE_RETURN_IF_ERROR(r.Int(&d));
    if (d < 0 || d > INT32_MAX) return Status::InvalidArgument("step command: bad hidden dimension");
    elements *= static_cast<uint64_t>(d);
    if (elements * sizeof(float) > bytes.size()) return Status::InvalidArgument("step command: message truncated");
  }
  if (!shape.empty()) {
    c.hidden = Tensor(shape);
    SIEVE_RETURN_IF_ERROR(r.Raw(c.hidden.ptr(), c.hidden.data.size() * sizeof(float)));
  }
  if (!r.done()) return Status::InvalidArgument("step command: trailing bytes");
  return c;
}

Status SendStepCommand(parallel::Communicator& group, const StepCommand& command) {
  std::vector<std::byte> bytes = EncodeStepCommand(command);
  int64_t length = static_cast<int64_t>(bytes.size());
  SIEVE_RETURN_IF_ERROR(group.Broadcast(std::as_writable_bytes(std::span(&length, 1)), 0));
  return group.Broadcast(bytes, 0);
}

StatusOr<StepCommand> ReceiveStepCommand(parallel::Communicator& group) {
  int64_t length = 0;
  SIEVE_RETURN_IF_ERROR(group.Broadcast(std::as_writable_bytes(std::span(&length, 1)), 0));
  if (length < 0) return Status::InvalidArgument("step command: negative length");
  std::vector<std::byte> bytes(static_cast<size_t>(length));
  SIEVE_RETURN_IF_ERROR(group.Broadcast(bytes, 0));
  return DecodeStepCommand(bytes);
}

}  // namespace sieve::engine
