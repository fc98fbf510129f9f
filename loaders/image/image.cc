// JPEG/PNG decoding (libjpeg-turbo, libpng) and the resize / center-crop / normalize steps that
// turn a photo into a classifier input.
//
// libjpeg and libpng report errors by calling a handler that must not return. Both are given one
// that records the message and longjmps back to the decode step that set it up, so no bad file can
// abort the process or print anything. The functions that call setjmp (Jpeg*/Png* below) hold only
// plain C data; every C++ object (buffers, messages) lives in their callers, which longjmp never
// crosses.
#include "onnxrun/image.h"

// jpeglib.h first: jerror.h reads its configuration (JWRN_ARITH_BAD_CODE needs it).
#include <jpeglib.h>
//
#include <jerror.h>
#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/ir/file.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

constexpr int64_t kMaxSide = 30000;          // pixels per side, decoded or requested
constexpr int64_t kMaxPixels = 200'000'000;  // decoded pixels in all
constexpr int64_t kMaxFileBytes = int64_t{1} << 30;

absl::Status ImageError(const std::string& path, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("image '", path, "': ", reason));
}

std::string Quoted(const std::string& path) { return absl::StrCat("image '", path, "'"); }

absl::Status ReadWholeFile(const std::string& path, std::vector<uint8_t>* bytes) {
  auto fd = ir::OpenRegularFile(path, "image");
  if (!fd.ok()) {
    if (absl::IsNotFound(fd.status()))
      return absl::NotFoundError(absl::StrCat("image '", path, "': file not found"));
    return fd.status();
  }
  FILE* file = ::fdopen(fd->get(), "rb");
  if (file == nullptr) return ImageError(path, absl::StrCat("cannot open: ", std::strerror(errno)));
  fd->release();  // the FILE owns it now
  std::vector<uint8_t> data;
  uint8_t chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof(chunk), file)) > 0) {
    if (static_cast<int64_t>(data.size() + got) > kMaxFileBytes) {
      std::fclose(file);
      return ImageError(path, "file is larger than 1 GiB");
    }
    data.insert(data.end(), chunk, chunk + got);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) return ImageError(path, absl::StrCat("cannot read: ", std::strerror(error)));
  *bytes = std::move(data);
  return absl::OkStatus();
}

absl::Status CheckDimensions(const std::string& path, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0) {
    return ImageError(path, absl::StrCat("image has no pixels (", width, "x", height, ")"));
  }
  if (width > kMaxSide || height > kMaxSide || width * height > kMaxPixels) {
    return ImageError(
        path, absl::StrCat("image is too large (", width, "x", height, "); the limit is ", kMaxSide,
                           " pixels per side and ", kMaxPixels / 1'000'000, " Mpixel"));
  }
  return absl::OkStatus();
}

// Allocates `count` elements, reporting exhaustion instead of throwing. `what` names the buffer.
template <typename T>
absl::Status Allocate(const std::string& what, size_t count, std::vector<T>* out) {
  try {
    out->assign(count, T{});
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": out of memory for ", count * sizeof(T), " bytes"));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// JPEG

struct JpegErrorManager {
  jpeg_error_mgr pub;  // first member: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;
  bool truncated;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (level -1) that mean the pixels are wrong or missing end the decode like errors. That
// includes stray bytes before a marker: JPEG has no checksum, and that is how a Huffman stream
// thrown out of step by corrupt bytes usually shows. Warnings about metadata (unknown JFIF revision
// or Adobe transform, a bad ICC marker) are ignored, as are trace messages (level > 0).
void JpegEmitMessage(j_common_ptr cinfo, int level) {
  if (level != -1) return;
  const int code = cinfo->err->msg_code;
  const bool corrupt = code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER ||
                       code == JWRN_HUFF_BAD_CODE || code == JWRN_ARITH_BAD_CODE ||
                       code == JWRN_MUST_RESYNC || code == JWRN_NOT_SEQUENTIAL ||
                       code == JWRN_BOGUS_PROGRESSION || code == JWRN_EXTRANEOUS_DATA;
  if (!corrupt) return;
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  err->truncated = code == JWRN_JPEG_EOF;
  JpegErrorExit(cinfo);
}

struct JpegDecoder {
  jpeg_decompress_struct cinfo;
  JpegErrorManager err;
  bool created = false;
  bool cmyk = false;
  ~JpegDecoder() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

// Reads the header and chooses the output color space (RGB, or CMYK converted by us).
bool JpegReadHeader(JpegDecoder* d, const uint8_t* data, size_t size) {
  d->cinfo.err = jpeg_std_error(&d->err.pub);
  d->err.pub.error_exit = JpegErrorExit;
  d->err.pub.emit_message = JpegEmitMessage;
  d->err.truncated = false;
  d->err.message[0] = '\0';
  if (setjmp(d->err.jump)) return false;
  jpeg_create_decompress(&d->cinfo);
  d->created = true;
  jpeg_mem_src(&d->cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&d->cinfo, TRUE);
  switch (d->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
      d->cinfo.out_color_space = JCS_RGB;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      d->cinfo.out_color_space = JCS_CMYK;
      d->cmyk = true;
      break;
    default:
      std::snprintf(d->err.message, sizeof(d->err.message),
                    "unsupported JPEG color space (%d components)", d->cinfo.num_components);
      return false;
  }
  return true;
}

bool JpegStart(JpegDecoder* d) {
  if (setjmp(d->err.jump)) return false;
  jpeg_start_decompress(&d->cinfo);  // a progressive file is decoded whole here
  return true;
}

bool JpegReadPixels(JpegDecoder* d, uint8_t* out, size_t row_bytes) {
  if (setjmp(d->err.jump)) return false;
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    JSAMPROW row = out + static_cast<size_t>(d->cinfo.output_scanline) * row_bytes;
    jpeg_read_scanlines(&d->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&d->cinfo);
  return true;
}

absl::Status JpegFailure(const std::string& path, const JpegDecoder& d) {
  if (d.err.truncated) {
    return ImageError(path, "JPEG data is truncated (premature end of file)");
  }
  std::string message = d.err.message;
  constexpr const char kCorruptPrefix[] = "Corrupt JPEG data: ";
  if (message.rfind(kCorruptPrefix, 0) == 0) {
    return ImageError(
        path, absl::StrCat("JPEG data is corrupt (", message.substr(strlen(kCorruptPrefix)), ")"));
  }
  return ImageError(path, absl::StrCat("invalid JPEG data (", message, ")"));
}

// Adobe CMYK JPEGs (the usual kind) store inverted values. Converted like Pillow's cmyk2rgb:
// R = (255 - K) - (C * (255 - K)) / 255, rounded.
void CmykToRgb(const uint8_t* cmyk, size_t pixels, bool inverted, uint8_t* rgb) {
  for (size_t i = 0; i < pixels; ++i) {
    int v[4];
    for (int c = 0; c < 4; ++c) v[c] = inverted ? 255 - cmyk[4 * i + c] : cmyk[4 * i + c];
    const int nk = 255 - v[3];
    for (int c = 0; c < 3; ++c) {
      const int t = v[c] * nk + 128;
      rgb[3 * i + c] = static_cast<uint8_t>(nk - (((t >> 8) + t) >> 8));
    }
  }
}

absl::StatusOr<Image> DecodeJpeg(const std::string& path, const std::vector<uint8_t>& bytes) {
  JpegDecoder d;
  if (!JpegReadHeader(&d, bytes.data(), bytes.size())) return JpegFailure(path, d);
  RETURN_IF_ERROR(CheckDimensions(path, d.cinfo.image_width, d.cinfo.image_height));
  if (!JpegStart(&d)) return JpegFailure(path, d);
  Image image;
  image.width = static_cast<int>(d.cinfo.output_width);
  image.height = static_cast<int>(d.cinfo.output_height);
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  RETURN_IF_ERROR(Allocate(Quoted(path), pixels * 3, &image.rgb));
  if (!d.cmyk) {
    if (!JpegReadPixels(&d, image.rgb.data(), image.width * size_t{3})) return JpegFailure(path, d);
    return image;
  }
  std::vector<uint8_t> cmyk;
  RETURN_IF_ERROR(Allocate(Quoted(path), pixels * 4, &cmyk));
  if (!JpegReadPixels(&d, cmyk.data(), image.width * size_t{4})) return JpegFailure(path, d);
  CmykToRgb(cmyk.data(), pixels, d.cinfo.saw_Adobe_marker, image.rgb.data());
  return image;
}

// ---------------------------------------------------------------------------------------------
// PNG

struct PngDecoder {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  bool truncated = false;
  char message[256] = {};
  ~PngDecoder() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
};

[[noreturn]] void PngErrorFn(png_structp png, png_const_charp message) {
  auto* d = static_cast<PngDecoder*>(png_get_error_ptr(png));
  std::snprintf(d->message, sizeof(d->message), "%s", message);
  png_longjmp(png, 1);
}

void PngWarningFn(png_structp, png_const_charp) {}  // e.g. a bad ancillary chunk: pixels are fine

void PngReadFn(png_structp png, png_bytep out, png_size_t length) {
  auto* d = static_cast<PngDecoder*>(png_get_io_ptr(png));
  if (length > d->size - d->pos) {
    d->truncated = true;
    png_error(png, "unexpected end of file");
  }
  std::memcpy(out, d->data + d->pos, length);
  d->pos += length;
}

// Reads the header and sets up conversion of every PNG flavor to 8-bit RGB the way Pillow's
// convert("RGB") sees it: palette expanded, gray replicated, alpha and tRNS dropped (not blended),
// 16-bit samples keep their high byte (Pillow clips 16-bit gray to 255 instead), gamma ignored.
bool PngReadHeader(PngDecoder* d, png_uint_32* width, png_uint_32* height) {
  if (setjmp(png_jmpbuf(d->png))) return false;
  png_set_read_fn(d->png, d, PngReadFn);
  png_set_user_limits(d->png, 0x7fffffff, 0x7fffffff);  // we check sizes ourselves
  png_read_info(d->png, d->info);
  *width = png_get_image_width(d->png, d->info);
  *height = png_get_image_height(d->png, d->info);
  const int color_type = png_get_color_type(d->png, d->info);
  const int bit_depth = png_get_bit_depth(d->png, d->info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(d->png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8) {
    png_set_expand_gray_1_2_4_to_8(d->png);
  }
  if (bit_depth == 16) png_set_strip_16(d->png);
  if ((color_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(d->png, d->info, PNG_INFO_tRNS)) {
    png_set_strip_alpha(d->png);  // also drops the alpha that palette expansion makes of tRNS
  }
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(d->png);
  png_set_interlace_handling(d->png);
  png_read_update_info(d->png, d->info);
  return true;
}

bool PngReadPixels(PngDecoder* d, png_bytepp rows) {
  if (setjmp(png_jmpbuf(d->png))) return false;
  png_read_image(d->png, rows);
  png_read_end(d->png, nullptr);  // checks the last IDAT's CRC and that the file is complete
  return true;
}

absl::Status PngFailure(const std::string& path, const PngDecoder& d) {
  if (d.truncated) return ImageError(path, "PNG data is truncated (unexpected end of file)");
  return ImageError(path, absl::StrCat("PNG data is corrupt (", d.message, ")"));
}

absl::StatusOr<Image> DecodePng(const std::string& path, const std::vector<uint8_t>& bytes) {
  PngDecoder d;
  d.data = bytes.data();
  d.size = bytes.size();
  d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, PngErrorFn, PngWarningFn);
  if (d.png != nullptr) d.info = png_create_info_struct(d.png);
  if (d.png == nullptr || d.info == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("image '", path, "': cannot create PNG reader"));
  }
  png_uint_32 width = 0, height = 0;
  if (!PngReadHeader(&d, &width, &height)) return PngFailure(path, d);
  RETURN_IF_ERROR(CheckDimensions(path, width, height));
  if (png_get_rowbytes(d.png, d.info) != size_t{width} * 3) {
    return ImageError(path, "unsupported PNG pixel format");
  }
  Image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  RETURN_IF_ERROR(Allocate(Quoted(path), size_t{width} * height * 3, &image.rgb));
  std::vector<png_bytep> rows(height);
  for (size_t y = 0; y < height; ++y) rows[y] = image.rgb.data() + y * width * 3;
  if (!PngReadPixels(&d, rows.data())) return PngFailure(path, d);
  return image;
}

// ---------------------------------------------------------------------------------------------
// Format detection

bool StartsWith(const std::vector<uint8_t>& bytes, const char* prefix, size_t length) {
  return bytes.size() >= length && std::memcmp(bytes.data(), prefix, length) == 0;
}

const char* OtherFormatName(const std::vector<uint8_t>& bytes) {
  if (StartsWith(bytes, "GIF8", 4)) return "GIF";
  if (StartsWith(bytes, "BM", 2)) return "BMP";
  if (StartsWith(bytes, "II*\0", 4) || StartsWith(bytes, "MM\0*", 4)) return "TIFF";
  if (StartsWith(bytes, "RIFF", 4) && bytes.size() >= 12 &&
      std::memcmp(&bytes[8], "WEBP", 4) == 0) {
    return "WebP";
  }
  if (bytes.size() >= 12 && std::memcmp(&bytes[4], "ftyp", 4) == 0) return "HEIF/AVIF";
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Resize (PIL's BILINEAR, in float) restricted to the crop window

// Filter taps of output samples [first, first + count) of a 1-D resize from in_size to out_size,
// computed as Pillow's precompute_coeffs does: half-pixel centers, a triangle filter whose support
// grows with the downscale factor (antialiasing), weights normalized to sum 1.
struct Taps {
  std::vector<int64_t> start;  // first input index of each output
  std::vector<int> count;      // number of inputs
  std::vector<float> weights;  // [output][max_taps]
  int max_taps = 0;
};

Taps BilinearTaps(int64_t in_size, int64_t out_size, int64_t first, int64_t count) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;  // the triangle's radius is 1 input pixel
  Taps taps;
  taps.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.start.resize(count);
  taps.count.resize(count);
  taps.weights.assign(count * taps.max_taps, 0.0f);
  std::vector<double> w(taps.max_taps);
  for (int64_t i = 0; i < count; ++i) {
    const double center = (first + i + 0.5) * scale;
    // Pillow truncates toward zero here; the clamp makes that equal to floor.
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size);
    const int n = static_cast<int>(std::min<int64_t>(hi - lo, taps.max_taps));
    double sum = 0.0;
    for (int k = 0; k < n; ++k) {
      const double x = std::abs((lo + k - center + 0.5) / filter_scale);
      w[k] = x < 1.0 ? 1.0 - x : 0.0;
      sum += w[k];
    }
    for (int k = 0; k < n; ++k) {
      taps.weights[i * taps.max_taps + k] = static_cast<float>(sum != 0.0 ? w[k] / sum : w[k]);
    }
    taps.start[i] = lo;
    taps.count[i] = n;
  }
  return taps;
}

// Python's round() of half-integers: ties to even (torchvision's center_crop offset).
int64_t HalfToEven(int64_t twice) {
  const int64_t q = twice / 2;
  return (twice % 2 != 0 && q % 2 != 0) ? q + 1 : q;
}

}  // namespace

absl::StatusOr<Image> DecodeImage(const std::string& path) {
  std::vector<uint8_t> bytes;
  RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  if (bytes.empty()) return ImageError(path, "file is empty");
  static constexpr char kJpeg[] = "\xFF\xD8\xFF";
  static constexpr char kPng[] = "\x89PNG\r\n\x1A\n";
  if (StartsWith(bytes, kJpeg, 3)) return DecodeJpeg(path, bytes);
  if (StartsWith(bytes, kPng, 8)) return DecodePng(path, bytes);
  if ((bytes.size() < 3 && std::memcmp(bytes.data(), kJpeg, bytes.size()) == 0) ||
      (bytes.size() < 8 && std::memcmp(bytes.data(), kPng, bytes.size()) == 0)) {
    return ImageError(path, "file is truncated (only the start of a signature)");
  }
  if (const char* other = OtherFormatName(bytes)) {
    return ImageError(path, absl::StrCat("not a JPEG or PNG file (looks like ", other,
                                         ", which is not supported)"));
  }
  return ImageError(path, "not a JPEG or PNG file");
}

absl::StatusOr<Preprocess> ParsePreprocess(const std::string& name) {
  if (name == "torchvision") return Preprocess::kTorchvision;
  if (name == "caffe") return Preprocess::kCaffe;
  if (name == "gray") return Preprocess::kGray;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown preprocessing preset '", name, "' (valid: torchvision, caffe, gray)"));
}

absl::StatusOr<Tensor> ImageToTensor(const Image& image, int64_t height, int64_t width,
                                     int64_t channels, Preprocess preset) {
  if (height <= 0 || width <= 0 || height > kMaxSide || width > kMaxSide) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input size ", height, "x", width, " is invalid: each side must be in 1..", kMaxSide));
  }
  const int64_t want_channels = preset == Preprocess::kGray ? 1 : 3;
  if (channels != want_channels) {
    return absl::InvalidArgumentError(absl::StrCat("the model takes ", channels,
                                                   " input channel(s), but the ",
                                                   preset == Preprocess::kGray    ? "gray"
                                                   : preset == Preprocess::kCaffe ? "caffe"
                                                                                  : "torchvision",
                                                   " preprocessing produces ", want_channels));
  }
  const int64_t in_w = image.width, in_h = image.height;
  if (in_w <= 0 || in_h <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("image has no pixels (", in_w, "x", in_h, ")"));
  }
  if (image.rgb.size() != static_cast<size_t>(in_w) * static_cast<size_t>(in_h) * 3) {
    return absl::InvalidArgumentError(absl::StrCat("image buffer holds ", image.rgb.size(),
                                                   " bytes, expected ", in_w, "x", in_h, "x3"));
  }

  // Shorter side to S = round(256/224 * larger model side), aspect kept; then center crop.
  const int64_t target = std::llround(256.0 * std::max(height, width) / 224.0);
  int64_t out_w, out_h;
  if (in_w <= in_h) {
    out_w = target;
    out_h = std::llround(static_cast<double>(in_h) * target / in_w);
  } else {
    out_h = target;
    out_w = std::llround(static_cast<double>(in_w) * target / in_h);
  }
  if (out_h < height || out_w < width) {
    return absl::InternalError("resized image is smaller than the crop");
  }
  const int64_t top = HalfToEven(out_h - height);
  const int64_t left = HalfToEven(out_w - width);
  const Taps xt = BilinearTaps(in_w, out_w, left, width);
  const Taps yt = BilinearTaps(in_h, out_h, top, height);

  // Vertical pass first, over just the input columns the horizontal taps read: it walks contiguous
  // bytes and vectorizes, and leaves the horizontal pass only `height` rows. (Pillow goes
  // horizontal first; the result differs by float rounding only.)
  const int64_t col0 = xt.start.front();
  const int64_t span = (xt.start.back() + xt.count.back() - col0) * 3;
  std::vector<float> rows;
  RETURN_IF_ERROR(Allocate("resize buffer", height * span, &rows));
  for (int64_t y = 0; y < height; ++y) {
    float* dst = rows.data() + y * span;
    const float* w = yt.weights.data() + y * yt.max_taps;
    for (int k = 0; k < yt.count[y]; ++k) {
      const uint8_t* src = image.rgb.data() + ((yt.start[y] + k) * in_w + col0) * 3;
      const float wk = w[k];
      for (int64_t i = 0; i < span; ++i) dst[i] += wk * src[i];
    }
  }

  // Horizontal pass, then the preset, written as NCHW planes.
  const int64_t plane = height * width;
  std::vector<float> out;
  RETURN_IF_ERROR(Allocate("input tensor", channels * plane, &out));
  for (int64_t y = 0; y < height; ++y) {
    const float* src = rows.data() + y * span;
    float* o = out.data() + y * width;
    for (int64_t x = 0; x < width; ++x) {
      const float* p = src + (xt.start[x] - col0) * 3;
      const float* w = xt.weights.data() + x * xt.max_taps;
      float r = 0.0f, g = 0.0f, b = 0.0f;
      for (int k = 0; k < xt.count[x]; ++k) {
        r += w[k] * p[3 * k];
        g += w[k] * p[3 * k + 1];
        b += w[k] * p[3 * k + 2];
      }
      switch (preset) {
        case Preprocess::kTorchvision:
          o[x] = (r / 255.0f - 0.485f) / 0.229f;
          o[plane + x] = (g / 255.0f - 0.456f) / 0.224f;
          o[2 * plane + x] = (b / 255.0f - 0.406f) / 0.225f;
          break;
        case Preprocess::kCaffe:
          o[x] = b - 104.0f;
          o[plane + x] = g - 117.0f;
          o[2 * plane + x] = r - 123.0f;
          break;
        case Preprocess::kGray:
          o[x] = (0.299f * r + 0.587f * g + 0.114f * b) / 255.0f;
          break;
      }
    }
  }
  return Tensor({1, channels, height, width}, std::move(out));
}

}  // namespace onnxrun
