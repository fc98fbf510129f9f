// runtime/session/tensor.cc and the model file as files: tensor files resolve external data
// against their own folder; a FIFO as tensor file or model file is refused at once, not read.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"
#include "onnxrun/onnxrun.h"
#include "tests/unit/support/temp_files.h"

namespace onnxrun::test {
namespace {

TEST(TensorFile, ExternalDataResolvesBesideTheTensorFile) {
  TempFolder dir;
  ASSERT_EQ(::mkdir((dir.path() + "/case").c_str(), 0700), 0);
  const std::vector<float> values = {1.5f, -2.f, 3.25f};
  dir.Write("case/input_0.bin", std::string(reinterpret_cast<const char*>(values.data()), 12));
  onnx::TensorProto p;
  p.set_name("x");
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.add_dims(3);
  p.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* e = p.add_external_data();
  e->set_key("location");
  e->set_value("input_0.bin");
  const std::string path = dir.Write("case/input_0.pb", p.SerializeAsString());
  // The process's working folder is not the tensor's: the data is found beside the file anyway.
  std::string name;
  auto t = ReadTensorFile(path, &name);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(name, "x");
  EXPECT_EQ(t->values(), values);
  // ... and only there: a symlink out of the folder is refused.
  TempFolder outside;
  const std::string secret = outside.Write("secret.bin", std::string(12, '\0'));
  ::unlink((dir.path() + "/case/input_0.bin").c_str());
  ASSERT_EQ(::symlink(secret.c_str(), (dir.path() + "/case/input_0.bin").c_str()), 0);
  EXPECT_EQ(ReadTensorFile(path).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(TensorFile, FifoTensorAndModelFilesAreRefusedWithoutBlocking) {
  TempFolder dir;
  const std::string fifo = dir.Fifo("input_0.pb");
  ExpectReturnsQuickly(fifo, [&] {
    const absl::Status s = ReadTensorFile(fifo).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(std::string(s.message()), "tensor file '" + fifo + "' is a FIFO, not a regular file");
  });
  const std::string model = dir.Fifo("model.onnx");
  ExpectReturnsQuickly(model, [&] {
    const absl::Status s = Session::Load(model).status();
    EXPECT_NE(std::string(s.message()).find("model file '" + model + "' is a FIFO"),
              std::string::npos)
        << s;
  });
}

}  // namespace
}  // namespace onnxrun::test
