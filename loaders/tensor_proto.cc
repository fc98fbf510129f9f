#include "loaders/tensor_proto.h"

#include <sys/stat.h>

#include <cstring>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/kernels/aligned.h"
#include "runtime/ir/checked.h"
#include "runtime/ir/file.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

int64_t ElementSize(int32_t t) {
  switch (t) {
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::UINT32:
      return 4;
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT64:
    case onnx::TensorProto::DOUBLE:
      return 8;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16:
      return 2;
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL:
      return 1;
    default:
      return 0;
  }
}

// Reads external data into `out`: `location` resolved inside `base_dir` (symbolic links
// included), a regular file only, `offset + length` checked against the file's size without
// overflow, and `length` required to equal the shape's `expected` bytes.
absl::Status ReadExternal(const onnx::TensorProto& proto, const std::string& base_dir,
                          const std::string& what, int64_t expected, std::string* out) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : proto.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset" || kv.key() == "length") {
      int64_t v = 0;
      if (!absl::SimpleAtoi(kv.value(), &v) || v < 0)
        return absl::InvalidArgumentError(absl::StrCat(what, ": external data '", kv.key(),
                                                       "' is '", kv.value(),
                                                       "', expected an integer >= 0"));
      (kv.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty())
    return absl::InvalidArgumentError(absl::StrCat(what, ": external data has no 'location'"));
  if (base_dir.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": has external data ('", location,
                     "'), which a model loaded from memory cannot read (no folder to resolve it "
                     "in); load it from its file"));
  ASSIGN_OR_RETURN(const std::string path, ir::ResolveInside(base_dir, location, what));
  ASSIGN_OR_RETURN(ir::ScopedFd fd,
                   ir::OpenRegularFile(path, absl::StrCat("external data file of ", what)));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    return absl::NotFoundError(absl::StrCat(what, ": cannot stat '", path, "'"));
  const int64_t file_size = st.st_size;
  if (length < 0) length = offset <= file_size ? file_size - offset : 0;
  const std::optional<int64_t> end = ir::CheckedAdd(offset, length);
  if (!end || *end > file_size)
    return absl::InvalidArgumentError(absl::StrCat(what, ": external data range offset ", offset,
                                                   " + length ", length,
                                                   end ? " exceeds '" : " overflows int64 ('", path,
                                                   end ? "' (" : "', ", file_size, " bytes)"));
  if (length != expected)
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": external data has ", length, " bytes, shape needs ", expected));
  return ir::ReadFileRange(fd.get(), offset, length, absl::StrCat("'", path, "'"), out);
}

}  // namespace

ir::DataType FromOnnxType(int32_t t) {
  switch (t) {
    case onnx::TensorProto::FLOAT:
      return ir::DataType::kFloat32;
    case onnx::TensorProto::INT64:
      return ir::DataType::kInt64;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::UINT32:
      return ir::DataType::kInt32;
    case onnx::TensorProto::BOOL:
      return ir::DataType::kBool;
    case onnx::TensorProto::DOUBLE:
      return ir::DataType::kFloat64;
    case onnx::TensorProto::FLOAT16:
      return ir::DataType::kFloat16;
    case onnx::TensorProto::INT8:
      return ir::DataType::kInt8;
    case onnx::TensorProto::UINT8:
      return ir::DataType::kUint8;
    case onnx::TensorProto::UINT64:
      return ir::DataType::kUint64;
    case onnx::TensorProto::BFLOAT16:
      return ir::DataType::kBfloat16;
    case onnx::TensorProto::STRING:
      return ir::DataType::kString;
    default:
      return ir::DataType::kOther;
  }
}

absl::StatusOr<ir::Tensor> TensorFromProto(onnx::TensorProto* proto, const std::string& base_dir,
                                           const std::string& what, bool consume) {
  std::vector<int64_t> shape(proto->dims().begin(), proto->dims().end());
  for (int64_t d : shape)
    if (d < 0) return absl::InvalidArgumentError(absl::StrCat(what, ": negative dimension ", d));
  const std::optional<int64_t> checked_count = ir::CheckedElementCount(shape);
  if (!checked_count)
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": dimensions ", absl::StrJoin(shape, "x"), " overflow int64"));
  const int64_t count = *checked_count;
  const int32_t type = proto->data_type();
  const ir::DataType dtype = FromOnnxType(type);
  if (dtype == ir::DataType::kString || dtype == ir::DataType::kOther)
    return absl::UnimplementedError(
        absl::StrCat(what, ": element type ", ir::OnnxTypeName(type), " is not supported"));
  const int64_t esize = ElementSize(type);
  // The byte size must not wrap: a wrapped size could match a small raw_data and let the copy
  // below read count * esize bytes past it.
  const std::optional<int64_t> bytes = ir::CheckedByteSize(count, esize);
  if (!bytes)
    return absl::InvalidArgumentError(absl::StrCat(what, ": shape ", absl::StrJoin(shape, "x"),
                                                   " of ", esize,
                                                   "-byte elements overflows int64 bytes"));
  std::string external;
  const std::string* raw = nullptr;
  if (proto->data_location() == onnx::TensorProto::EXTERNAL) {
    RETURN_IF_ERROR(ReadExternal(*proto, base_dir, what, *bytes, &external));
    raw = &external;
  } else if (proto->has_raw_data()) {
    raw = &proto->raw_data();
    if (static_cast<int64_t>(raw->size()) != *bytes)
      return absl::InvalidArgumentError(absl::StrCat(what, ": raw_data has ", raw->size(),
                                                     " bytes, shape ", count, " elements x ", esize,
                                                     " bytes needs ", *bytes));
  }
  ir::Tensor out;
  auto check_count = [&](int64_t n) -> absl::Status {
    if (n != count)
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": has ", n, " values, its shape needs ", count));
    return absl::OkStatus();
  };
  // bfloat16 is the upper half of a float32's bits.
  const auto bfloat16 = [](uint16_t b) {
    const uint32_t bits = uint32_t{b} << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  };
  if (ir::IsFloatType(dtype)) {
    std::vector<float> v;
    if (raw && type == onnx::TensorProto::FLOAT) {
      const float* p = reinterpret_cast<const float*>(raw->data());
      v.reserve(count);  // fresh pages: huge pages for large tensors before the copy touches them
      kernels::AdviseHugePages(v.data(), count * sizeof(float));
      v.assign(p, p + count);  // one copy, no zero-fill
    } else if (raw) {
      v.resize(count);
      const char* p = raw->data();
      for (int64_t i = 0; i < count; ++i) {
        if (type == onnx::TensorProto::DOUBLE) {
          double d;
          std::memcpy(&d, p + 8 * i, 8);
          v[i] = static_cast<float>(d);
        } else {
          uint16_t h;
          std::memcpy(&h, p + 2 * i, 2);
          v[i] = type == onnx::TensorProto::BFLOAT16 ? bfloat16(h) : HalfToFloat(h);
        }
      }
    } else if (type == onnx::TensorProto::FLOAT) {
      RETURN_IF_ERROR(check_count(proto->float_data_size()));
      v.assign(proto->float_data().begin(), proto->float_data().end());
    } else if (type == onnx::TensorProto::DOUBLE) {
      RETURN_IF_ERROR(check_count(proto->double_data_size()));
      v.resize(count);
      for (int64_t i = 0; i < count; ++i) v[i] = static_cast<float>(proto->double_data(i));
    } else {
      RETURN_IF_ERROR(check_count(proto->int32_data_size()));
      v.resize(count);
      for (int64_t i = 0; i < count; ++i) {
        const uint16_t h = static_cast<uint16_t>(proto->int32_data(i));
        v[i] = type == onnx::TensorProto::BFLOAT16 ? bfloat16(h) : HalfToFloat(h);
      }
    }
    out = ir::Tensor(shape, std::move(v));
  } else {
    if (!raw) {  // check the count before allocating: a misread file can claim a huge shape
      const int64_t have = type == onnx::TensorProto::INT64 ? proto->int64_data_size()
                           : type == onnx::TensorProto::UINT64 || type == onnx::TensorProto::UINT32
                               ? proto->uint64_data_size()
                               : proto->int32_data_size();
      RETURN_IF_ERROR(check_count(have));
    }
    std::vector<int64_t> v(count);
    if (raw) {
      const char* p = raw->data();
      for (int64_t i = 0; i < count; ++i) {
        switch (type) {
          case onnx::TensorProto::INT64:
          case onnx::TensorProto::UINT64: {
            int64_t x;
            std::memcpy(&x, p + 8 * i, 8);
            v[i] = x;
            break;
          }
          case onnx::TensorProto::INT32: {
            int32_t x;
            std::memcpy(&x, p + 4 * i, 4);
            v[i] = x;
            break;
          }
          case onnx::TensorProto::UINT32: {
            uint32_t x;
            std::memcpy(&x, p + 4 * i, 4);
            v[i] = x;
            break;
          }
          case onnx::TensorProto::INT16: {
            int16_t x;
            std::memcpy(&x, p + 2 * i, 2);
            v[i] = x;
            break;
          }
          case onnx::TensorProto::UINT16: {
            uint16_t x;
            std::memcpy(&x, p + 2 * i, 2);
            v[i] = x;
            break;
          }
          case onnx::TensorProto::INT8:
            v[i] = static_cast<int8_t>(p[i]);
            break;
          default:
            v[i] = static_cast<uint8_t>(p[i]);
            break;  // UINT8, BOOL
        }
      }
    } else if (type == onnx::TensorProto::INT64) {
      std::copy(proto->int64_data().begin(), proto->int64_data().end(), v.begin());
    } else if (type == onnx::TensorProto::UINT64 || type == onnx::TensorProto::UINT32) {
      std::copy(proto->uint64_data().begin(), proto->uint64_data().end(), v.begin());
    } else {
      std::copy(proto->int32_data().begin(), proto->int32_data().end(), v.begin());
    }
    out = ir::Tensor::Ints(shape, std::move(v), dtype);
  }
  out.set_dtype(dtype);
  if (consume) {
    std::string().swap(*proto->mutable_raw_data());
    proto->clear_float_data();
    proto->clear_int64_data();
    proto->clear_int32_data();
    proto->clear_double_data();
  }
  return out;
}

}  // namespace onnxrun
