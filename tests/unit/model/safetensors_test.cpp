// Safetensors header parsing: a written header round-trips, and each malformed header gives the exact
// one-line DataLoss message naming the file and tensor.
#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/test_support.h"

namespace sieve::model {
namespace {

// [u64 length][json][data], the length computed from the JSON as given (no padding).
std::string FileWith(const std::string& header_json, size_t data_bytes) {
  std::string out(8, '\0');
  const uint64_t n = header_json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header_json + std::string(data_bytes, '\x01');
}

Status Parse(const std::string& bytes, std::map<std::string, ConstTensorView>* out = nullptr) {
  std::map<std::string, ConstTensorView> tensors;
  return SafetensorsFile::ParseHeader(bytes, bytes.size(), "f.safetensors", out ? out : &tensors);
}

TEST(SafetensorsHeader, WrittenHeaderRoundTrips) {
  const std::vector<SafetensorsEntry> entries = {{"w", DType::kF8E4M3, {160, 256}},
                                                 {"w_scale_inv", DType::kF32, {2, 2}},
                                                 {"ids", DType::kI32, {3}},
                                                 {"pos", DType::kI64, {2, 1}},
                                                 {"norm", DType::kBF16, {256}}};
  const std::string header = SafetensorsHeader(entries, {{"format", "pt"}});
  EXPECT_EQ(header.size() % 8, 0u) << "data must start 8-byte aligned";
  const size_t data = 160 * 256 + 16 + 12 + 16 + 512;
  std::map<std::string, ConstTensorView> tensors;
  const std::string file = header + std::string(data, '\0');
  ASSERT_TRUE(Parse(file, &tensors).ok()) << Parse(file).ToString();
  ASSERT_EQ(tensors.size(), 5u);  // __metadata__ is not a tensor
  EXPECT_EQ(tensors["w"].shape, (Shape{160, 256}));
  EXPECT_EQ(tensors["ids"].dtype, DType::kI32);
  EXPECT_EQ(tensors["pos"].dtype, DType::kI64);
  EXPECT_EQ(tensors["pos"].nbytes, 16u);
  // Back to back in the given order.
  EXPECT_EQ(tensors["w_scale_inv"].data, tensors["w"].data + 160 * 256);
  EXPECT_EQ(tensors["norm"].data + 512, reinterpret_cast<const std::byte*>(file.data()) + file.size());
}

TEST(SafetensorsHeader, OverlappingRangesNameBothTensors) {
  const std::string f = FileWith(
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
      16);
  EXPECT_EQ(Parse(f).message(), "f.safetensors: tensors a [0, 16) and b [8, 16) overlap in the data section");
}

TEST(SafetensorsHeader, AdjacentRangesDoNotOverlap) {  // negative control for the test above
  const std::string f = FileWith(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
      16);
  EXPECT_TRUE(Parse(f).ok());
}

TEST(SafetensorsHeader, RangeOutsideFileIsTruncation) {
  const std::string f = FileWith(R"({"a":{"dtype":"BF16","shape":[8],"data_offsets":[0,16]}})", 10);
  const Status s = Parse(f);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "f.safetensors: tensor a: data_offsets [0, 16] outside the data section of 10 bytes (truncated file?)");
}

TEST(SafetensorsHeader, ByteCountMustMatchShapeAndDtype) {
  const std::string f = FileWith(R"({"a":{"dtype":"F32","shape":[3,2],"data_offsets":[0,12]}})", 24);
  EXPECT_EQ(Parse(f).message(), "f.safetensors: tensor a: 12 bytes for shape [3, 2] of F32, expected 24");
}

TEST(SafetensorsHeader, UnknownDtype) {
  const std::string f = FileWith(R"({"a":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,2]}})", 2);
  EXPECT_EQ(Parse(f).message(), "f.safetensors: tensor a: unknown dtype Q4_K");
}

TEST(SafetensorsHeader, NegativeShapeEntry) {
  const std::string f = FileWith(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4);
  EXPECT_EQ(Parse(f).message(), "f.safetensors: tensor a: shape entries must be non-negative integers");
}

TEST(SafetensorsHeader, GarbageIsNotJson) {
  const std::string f = FileWith("\x01garbage\nwith a newline", 0);
  const Status s = Parse(f);
  EXPECT_EQ(s.message(), "f.safetensors: safetensors header is not valid JSON (parse error at byte 1 of 23)");
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << "must stay one line";
}

TEST(SafetensorsHeader, LengthPrefixBeyondFile) {
  std::string f = FileWith("{}", 0);
  f[0] = 100;
  EXPECT_EQ(Parse(f).message(), "f.safetensors: safetensors header length 100 exceeds the file size 10");
  f[0] = 2;  // negative control: the true length parses
  EXPECT_TRUE(Parse(f).ok());
}

TEST(SafetensorsHeader, HugeLengthPrefixDoesNotOverflow) {
  std::string f = FileWith("{}", 0);
  for (int i = 0; i < 8; ++i) f[i] = '\xff';
  EXPECT_EQ(Parse(f).message(),
            "f.safetensors: safetensors header length 18446744073709551615 exceeds the file size 10");
}

TEST(SafetensorsHeader, ShorterThanLengthPrefix) {
  EXPECT_EQ(Parse("abc").message(),
            "f.safetensors: truncated safetensors file (3 bytes, need at least 8 for the header length)");
}

TEST(SafetensorsFile, MissingFileIsNotFound) {
  test::TempDir dir;
  auto f = SafetensorsFile::Open(dir.path() + "/none.safetensors");
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f.status().message(), dir.path() + "/none.safetensors: No such file or directory");
}

TEST(SafetensorsFile, OpensAWrittenFile) {
  test::TempDir dir;
  const std::string path = dir.path() + "/t.safetensors";
  {
    std::ofstream out(path, std::ios::binary);
    const float v[2] = {1.5f, -2.0f};
    out << SafetensorsHeader({{"v", DType::kF32, {2}}}, {});
    out.write(reinterpret_cast<const char*>(v), sizeof v);
  }
  auto f = SafetensorsFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const ConstTensorView* v = (*f)->Find("v");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->as<float>()[1], -2.0f);
  EXPECT_EQ((*f)->Find("w"), nullptr);
}

}  // namespace
}  // namespace sieve::model
