// runtime/ir/file.h: only regular files open (a FIFO neither blocks nor opens), and external data
// resolves inside its folder, symbolic links included.
#include "runtime/ir/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tests/unit/support/temp_files.h"

namespace onnxrun::ir {
namespace {

using test::TempFolder;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(OpenRegularFile, RefusesFifoDeviceAndDirectoryByName) {
  TempFolder dir;
  const std::string fifo = dir.Fifo("pipe");
  test::ExpectReturnsQuickly(fifo, [&] {
    const auto s = OpenRegularFile(fifo, "tensor file").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(Message(s), "tensor file '" + fifo + "' is a FIFO, not a regular file");
  });
  EXPECT_NE(Message(OpenRegularFile("/dev/zero", "image").status()).find("a character device"),
            std::string::npos);
  EXPECT_NE(Message(OpenRegularFile(dir.path(), "model file").status()).find("a directory"),
            std::string::npos);
  const auto missing = OpenRegularFile(dir.path() + "/nope", "model file").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(Message(missing).find("cannot open model file '"), std::string::npos) << missing;
  const std::string ok = dir.Write("data.bin", "abcdef");
  auto fd = OpenRegularFile(ok, "data");
  ASSERT_TRUE(fd.ok()) << fd.status();
  std::string got;
  ASSERT_TRUE(ReadFileRange(fd->get(), 2, 3, "data", &got).ok());
  EXPECT_EQ(got, "cde");
  EXPECT_EQ(ReadFileRange(fd->get(), 4, 3, "data", &got).code(), absl::StatusCode::kDataLoss);
}

TEST(ResolveInside, SymlinksAndDotDotMayNotLeaveTheFolder) {
  TempFolder outside, dir;
  const std::string secret = outside.Write("secret", "x");
  ASSERT_EQ(::symlink(secret.c_str(), (dir.path() + "/link.bin").c_str()), 0);
  const auto escaped = ResolveInside(dir.path(), "link.bin", "initializer 'w'").status();
  EXPECT_EQ(escaped.code(), absl::StatusCode::kPermissionDenied) << escaped;
  EXPECT_NE(Message(escaped).find("initializer 'w': external data location 'link.bin' resolves to"),
            std::string::npos)
      << escaped;
  EXPECT_NE(Message(escaped).find("outside the folder"), std::string::npos);

  const std::string up = "../" + outside.path().substr(outside.path().rfind('/') + 1) + "/secret";
  EXPECT_EQ(ResolveInside(dir.path(), up, "w").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolveInside(dir.path(), secret, "w").status().code(),
            absl::StatusCode::kInvalidArgument);  // absolute

  // Inside the folder: a subfolder, a symlink to a file in the folder, a name containing "..".
  ASSERT_EQ(::mkdir((dir.path() + "/sub").c_str(), 0700), 0);
  dir.Write("sub/w..bin", "y");
  ASSERT_EQ(::symlink("sub/w..bin", (dir.path() + "/inner").c_str()), 0);
  for (const char* location : {"sub/w..bin", "inner", "sub/../sub/w..bin"}) {
    auto p = ResolveInside(dir.path(), location, "w");
    ASSERT_TRUE(p.ok()) << location << ": " << p.status();
    EXPECT_EQ(p->substr(p->size() - 10), "sub/w..bin");
  }
}

}  // namespace
}  // namespace onnxrun::ir
