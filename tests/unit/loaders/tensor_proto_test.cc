// loaders/tensor_proto.cc on hostile tensors: sizes that overflow int64 (dims, bytes, external
// offset + length), external data that leaves the model's folder or is not a regular file.
#include "loaders/tensor_proto.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/unit/support/temp_files.h"

namespace onnxrun {
namespace {

using test::TempFolder;

onnx::TensorProto FloatProto(std::initializer_list<int64_t> dims) {
  onnx::TensorProto p;
  p.set_name("w");
  p.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) p.add_dims(d);
  return p;
}

void SetExternal(onnx::TensorProto* p, const std::string& location, const std::string& offset = "",
                 const std::string& length = "") {
  p->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [p](const std::string& k, const std::string& v) {
    auto* e = p->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", location);
  if (!offset.empty()) add("offset", offset);
  if (!length.empty()) add("length", length);
}

absl::Status Convert(onnx::TensorProto p, const std::string& dir = ".") {
  return TensorFromProto(&p, dir, "initializer 'w'", false).status();
}

#define EXPECT_REFUSED(status, want, text)                                              \
  do {                                                                                  \
    const absl::Status _s = (status);                                                   \
    EXPECT_EQ(_s.code(), absl::StatusCode::want) << _s;                                 \
    EXPECT_NE(std::string(_s.message()).find(text), std::string::npos) << _s.message(); \
  } while (0)

TEST(TensorProtoSizes, OverflowingDimsAreRefused) {
  EXPECT_REFUSED(Convert(FloatProto({1 << 30, 1 << 30, 1 << 30})), kInvalidArgument,
                 "initializer 'w': dimensions 1073741824x1073741824x1073741824 overflow int64");
  EXPECT_REFUSED(Convert(FloatProto({4, -2})), kInvalidArgument, "negative dimension -2");
}

// 2^62 floats are 2^64 bytes, which wrapped to 0 in size_t: an empty raw_data matched and the
// copy read 2^62 floats from it.
TEST(TensorProtoSizes, ByteSizeThatWouldWrapIsRefused) {
  onnx::TensorProto p = FloatProto({int64_t{1} << 62});
  p.set_raw_data("");
  EXPECT_REFUSED(Convert(p), kInvalidArgument,
                 "shape 4611686018427387904 of 4-byte elements overflows int64 bytes");
  onnx::TensorProto q = FloatProto({int64_t{1} << 61, 2});
  q.set_raw_data(std::string(8, '\0'));
  EXPECT_REFUSED(Convert(q), kInvalidArgument, "overflows int64 bytes");
  onnx::TensorProto small = FloatProto({3});
  small.set_raw_data(std::string(8, '\0'));
  EXPECT_REFUSED(Convert(small), kInvalidArgument, "raw_data has 8 bytes");
}

TEST(TensorProtoExternal, OffsetPlusLengthOverflowIsRefused) {
  TempFolder dir;
  dir.Write("w.bin", std::string(16, '\0'));
  onnx::TensorProto p = FloatProto({4});
  SetExternal(&p, "w.bin", std::to_string(std::numeric_limits<int64_t>::max() - 3), "16");
  EXPECT_REFUSED(Convert(p, dir.path()), kInvalidArgument, "+ length 16 overflows int64");
  onnx::TensorProto past = FloatProto({4});
  SetExternal(&past, "w.bin", "8", "16");
  EXPECT_REFUSED(Convert(past, dir.path()), kInvalidArgument,
                 "external data range offset 8 + length 16 exceeds '");
  for (const char* bad : {"-4", "12abc", ""}) {
    onnx::TensorProto q = FloatProto({4});
    SetExternal(&q, "w.bin", "0", "16");
    q.mutable_external_data(1)->set_value(bad);
    EXPECT_REFUSED(Convert(q, dir.path()), kInvalidArgument,
                   absl::StrCat("external data 'offset' is '", bad, "'"));
  }
  onnx::TensorProto good = FloatProto({2});
  SetExternal(&good, "w.bin", "8");  // length defaults to the rest of the file
  EXPECT_TRUE(Convert(good, dir.path()).ok());
}

TEST(TensorProtoExternal, SymlinkOutOfTheFolderIsRefused) {
  TempFolder outside, dir;
  const std::string secret = outside.Write("secret.bin", std::string(16, '\x7f'));
  ASSERT_EQ(::symlink(secret.c_str(), (dir.path() + "/w.bin").c_str()), 0);
  onnx::TensorProto p = FloatProto({4});
  SetExternal(&p, "w.bin");
  EXPECT_REFUSED(Convert(p, dir.path()), kPermissionDenied,
                 "initializer 'w': external data location 'w.bin' resolves to");
  onnx::TensorProto up = FloatProto({4});
  SetExternal(&up, "../" + outside.path().substr(outside.path().rfind('/') + 1) + "/secret.bin");
  EXPECT_REFUSED(Convert(up, dir.path()), kPermissionDenied, "outside the folder");
}

TEST(TensorProtoExternal, FifoIsRefusedWithoutBlocking) {
  TempFolder dir;
  const std::string fifo = dir.Fifo("w.bin");
  test::ExpectReturnsQuickly(fifo, [&] {
    onnx::TensorProto p = FloatProto({4});
    SetExternal(&p, "w.bin");
    EXPECT_REFUSED(Convert(p, dir.path()), kInvalidArgument, "is a FIFO, not a regular file");
  });
}

}  // namespace
}  // namespace onnxrun
