// Image decoding and preprocessing: real photos against Pillow, every PNG/JPEG flavor built at test
// time (PNGs by a tiny writer below, JPEGs with libjpeg), synthetic resize checks, and clean errors
// for missing, truncated, corrupt and foreign files.
#include "onnxrun/image.h"

#include <jpeglib.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/support/temp_files.h"

namespace onnxrun {
namespace {

namespace fs = std::filesystem;

const std::string kImages = std::string(ONNXRUN_SHARED_DIR) + "/images/";

#define SKIP_WITHOUT_PHOTOS()           \
  if (!fs::exists(kImages + "cat.jpg")) \
  GTEST_SKIP() << "no photos in " << kImages << " (the shared folder is absent)"

// EXPECT_MESSAGE_HAS(text, part): `text` (a string or string_view) contains `part`.
#define EXPECT_MESSAGE_HAS(text, part)                       \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "message: " << (text) << "\nlacks: " << (part)

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- A minimal PNG writer (stored deflate blocks), so every color type and bit depth can be made.

std::string Be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

uint32_t Crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string Chunk(const std::string& type, const std::string& data) {
  return Be32(data.size()) + type + data + Be32(Crc32(type + data));
}

std::string ZlibStored(const std::string& raw) {
  std::string z = "\x78\x01";
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    z += char(pos + n == raw.size() ? 1 : 0);
    z += {char(n), char(n >> 8), char(~n), char(~n >> 8)};
    z += raw.substr(pos, n);
    pos += n;
  } while (pos < raw.size());
  uint32_t a = 1, b = 0;
  for (unsigned char c : raw) a = (a + c) % 65521, b = (b + a) % 65521;
  return z + Be32(b << 16 | a);
}

struct PngSpec {
  int width, height, bit_depth, color_type;  // color_type: 0 gray, 2 RGB, 3 palette, 4 GA, 6 RGBA
  std::function<int(int x, int y, int channel)> sample;
  std::string plte = {}, trns = {};
  bool interlaced = false;
};

std::string MakePng(const PngSpec& s) {
  const int channels = s.color_type == 2 ? 3 : s.color_type == 4 ? 2 : s.color_type == 6 ? 4 : 1;
  auto row_bytes = [&](int x0, int dx, int y) {
    std::string row(1, '\0');  // filter type None
    int bits = 0, acc = 0;
    for (int x = x0; x < s.width; x += dx) {
      for (int c = 0; c < channels; ++c) {
        const int v = s.sample(x, y, c);
        if (s.bit_depth == 16) {
          row += {char(v >> 8), char(v)};
        } else {
          acc = acc << s.bit_depth | v, bits += s.bit_depth;
          if (bits == 8) row += char(acc), acc = bits = 0;
        }
      }
    }
    if (bits > 0) row += char(acc << (8 - bits));
    return row;
  };
  std::string raw;
  static const int kAdam7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                   {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
  for (int p = 0; p < (s.interlaced ? 7 : 1); ++p) {
    const int* a = s.interlaced ? kAdam7[p] : kAdam7[6];
    const int x0 = s.interlaced ? a[0] : 0, y0 = s.interlaced ? a[1] : 0;
    const int dx = s.interlaced ? a[2] : 1, dy = s.interlaced ? a[3] : 1;
    if (x0 >= s.width) continue;
    for (int y = y0; y < s.height; y += dy) raw += row_bytes(x0, dx, y);
  }
  std::string ihdr = Be32(s.width) + Be32(s.height) +
                     std::string{char(s.bit_depth), char(s.color_type), 0, 0, char(s.interlaced)};
  std::string png = "\x89PNG\r\n\x1A\n" + Chunk("IHDR", ihdr);
  if (!s.plte.empty()) png += Chunk("PLTE", s.plte);
  if (!s.trns.empty()) png += Chunk("tRNS", s.trns);
  return png + Chunk("IDAT", ZlibStored(raw)) + Chunk("IEND", "");
}

// ---- JPEG encoding with libjpeg (components 1, 3 or 4; `space` is the JPEG's own color space).

std::string EncodeJpeg(int width, int height, int components, J_COLOR_SPACE in_space,
                       J_COLOR_SPACE space, bool progressive, int quality,
                       const std::vector<uint8_t>& pixels) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = in_space;
  jpeg_set_defaults(&cinfo);
  jpeg_set_colorspace(&cinfo, space);
  jpeg_set_quality(&cinfo, quality, TRUE);
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(&pixels[size_t{cinfo.next_scanline} * width * components]);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::string out(reinterpret_cast<char*>(buffer), size);
  jpeg_destroy_compress(&cinfo);
  free(buffer);
  return out;
}

// A smooth RGB test picture (JPEG-friendly).
std::vector<uint8_t> SmoothRgb(int width, int height) {
  std::vector<uint8_t> rgb(size_t{3} * width * height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &rgb[(size_t(y) * width + x) * 3];
      p[0] = 40 + 150 * x / width, p[1] = 200 - 120 * y / height,
      p[2] = 90 + 60 * (x + y) / (width + height);
    }
  }
  return rgb;
}

class ImageFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("onnxrun_image_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // Decoding `name` must fail with a message naming the file and containing `reason`.
  void ExpectError(const std::string& name, const std::string& bytes, const std::string& reason) {
    const std::string path = Write(name, bytes);
    const absl::StatusOr<Image> image = DecodeImage(path);
    ASSERT_FALSE(image.ok()) << name << " decoded";
    EXPECT_MESSAGE_HAS(std::string(image.status().message()), "image '" + path + "'");
    EXPECT_MESSAGE_HAS(std::string(image.status().message()), reason);
  }
  absl::StatusOr<Image> WriteAndDecode(const std::string& name, const std::string& bytes) {
    return DecodeImage(Write(name, bytes));
  }
  fs::path dir_;
};

// ---- Real photos

TEST(ImagePhotoTest, DecodesEveryPhotoLikePillow) {
  SKIP_WITHOUT_PHOTOS();
  // Size and per-channel means of Image.open(f).convert("RGB") in Pillow 9.4 (same libjpeg-turbo
  // 2.1.5 as here, so the decodes agree exactly); kitten_224.png is RGBA, its alpha is dropped.
  struct Case {
    const char* file;
    int width, height;
    double mean[3];
  };
  const Case cases[] = {{"cat.jpg", 1000, 1000, {116.9056, 108.2711, 93.1235}},
                        {"dog.jpg", 768, 576, {134.4470, 135.6657, 114.0797}},
                        {"hummingbird.jpg", 450, 450, {79.6653, 82.7382, 62.0435}},
                        {"kitten_224.png", 224, 224, {202.6938, 196.6610, 196.0555}},
                        {"fish.png", 224, 224, {80.8927, 109.9068, 58.5560}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    absl::StatusOr<Image> image = DecodeImage(kImages + c.file);
    ASSERT_TRUE(image.ok()) << image.status();
    ASSERT_EQ(image->width, c.width);
    ASSERT_EQ(image->height, c.height);
    ASSERT_EQ(image->rgb.size(), size_t{3} * c.width * c.height);
    for (int ch = 0; ch < 3; ++ch) {
      double sum = 0;
      for (size_t i = ch; i < image->rgb.size(); i += 3) sum += image->rgb[i];
      EXPECT_NEAR(sum / (image->rgb.size() / 3), c.mean[ch], 0.05) << "channel " << ch;
    }
  }
}

// One 0..255 step in the units of a preset's channel.
double Step(Preprocess preset, int channel) {
  static const double kStd[3] = {0.229, 0.224, 0.225};
  if (preset == Preprocess::kTorchvision) return 1.0 / (255.0 * kStd[channel]);
  return preset == Preprocess::kGray ? 1.0 / 255.0 : 1.0;
}

TEST(ImagePhotoTest, PreprocessingMatchesPillow) {
  SKIP_WITHOUT_PHOTOS();
  // Expected values from Pillow 9.4 (/usr/bin/python3), image = Image.open(f).convert("RGB"),
  // resized with the same size rule and center crop, then the preset:
  //  - u8: torchvision's own pipeline, image.resize((w, h), Image.BILINEAR) on the 8-bit image;
  //  - f:  the same resize done per channel in float (mode "F"), which is what we compute.
  // Per channel means over the tensor, then 5 samples {channel, y, x, u8, f}.
  // Over the full tensors the measured max deviation is <= 1.0 step from u8 and < 1e-4 from f.
  struct Sample {
    int c, y, x;
    float u8, f;
  };
  struct Case {
    const char* file;
    int size;
    Preprocess preset;
    std::vector<double> mean_u8, mean_f;
    Sample samples[5];
  };
  const Case cases[] = {
      {"cat.jpg",
       224,
       Preprocess::kCaffe,
       {-5.2782, -2.4282, 1.2572},
       {-5.2789, -2.4316, 1.2548},
       {{0, 0, 0, 105.0000f, 105.0379f},
        {1, 223, 223, -71.0000f, -70.7176f},
        {2, 112, 112, 71.0000f, 70.7480f},
        {0, 44, 168, 48.0000f, 48.2399f},
        {1, 179, 32, -73.0000f, -73.4076f}}},
      {"dog.jpg",
       224,
       Preprocess::kCaffe,
       {9.1856, 13.2621, 8.1617},
       {9.1823, 13.2582, 8.1571},
       {{0, 0, 0, -1.0000f, -0.8635f},
        {1, 223, 223, 44.0000f, 44.1975f},
        {2, 112, 112, 8.0000f, 8.7121f},
        {0, 44, 168, -30.0000f, -29.8134f},
        {1, 179, 32, -76.0000f, -76.5137f}}},
      {"hummingbird.jpg",
       224,
       Preprocess::kCaffe,
       {-37.7156, -29.0514, -38.7796},
       {-37.7164, -29.0587, -38.7844},
       {{0, 0, 0, -87.0000f, -86.9723f},
        {1, 223, 223, 3.0000f, 2.5240f},
        {2, 112, 112, -97.0000f, -97.0582f},
        {0, 44, 168, -21.0000f, -20.1372f},
        {1, 179, 32, -103.0000f, -103.1940f}}},
      {"fish.png",
       224,
       Preprocess::kCaffe,
       {-40.0820, -3.9028, -36.5386},
       {-40.1448, -3.9640, -36.5994},
       {{0, 0, 0, -48.0000f, -48.7148f},
        {1, 223, 223, -26.0000f, -25.8047f},
        {2, 112, 112, 96.0000f, 96.1602f},
        {0, 44, 168, -65.0000f, -65.4062f},
        {1, 179, 32, -42.0000f, -42.4219f}}},
      {"kitten_224.png",
       224,
       Preprocess::kCaffe,
       {74.4752, 62.3785, 64.2376},
       {74.4444, 62.3462, 64.2065},
       {{0, 0, 0, 151.0000f, 151.0000f},
        {1, 223, 223, 118.0000f, 118.3125f},
        {2, 112, 112, 50.0000f, 50.0156f},
        {0, 44, 168, 151.0000f, 151.0000f},
        {1, 179, 32, 5.0000f, 5.1172f}}},
      // 768x576 -> 456x342, crop offsets round(78.5) = 78 and round(21.5) = 22 (ties to even).
      {"dog.jpg",
       299,
       Preprocess::kTorchvision,
       {0.128362, 0.244045, 0.169872},
       {0.128306, 0.243990, 0.169831},
       {{0, 0, 0, 0.091189f, 0.086929f},
        {1, 298, 298, 0.800420f, 0.796301f},
        {2, 149, 149, -1.089847f, -1.103195f},
        {0, 59, 224, -1.004795f, -1.006251f},
        {1, 239, 42, -1.265406f, -1.267213f}}},
      // 450x450 -> 32x32 (antialiased 14x shrink), crop 28.
      {"hummingbird.jpg",
       28,
       Preprocess::kGray,
       {0.330794},
       {0.330794},
       {{0, 0, 0, 0.120031f, 0.121648f},
        {0, 27, 27, 0.534188f, 0.534239f},
        {0, 14, 14, 0.451553f, 0.451789f},
        {0, 5, 21, 0.509741f, 0.510709f},
        {0, 22, 4, 0.042098f, 0.042117f}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.file) + " at " + std::to_string(c.size));
    absl::StatusOr<Image> image = DecodeImage(kImages + c.file);
    ASSERT_TRUE(image.ok()) << image.status();
    const int channels = static_cast<int>(c.mean_u8.size());
    absl::StatusOr<Tensor> t = ImageToTensor(*image, c.size, c.size, channels, c.preset);
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_EQ(t->shape(), (std::vector<int64_t>{1, channels, c.size, c.size}));
    const int64_t plane = int64_t{c.size} * c.size;
    for (int ch = 0; ch < channels; ++ch) {
      double sum = 0;
      for (int64_t i = 0; i < plane; ++i) sum += t->values()[ch * plane + i];
      const double step = Step(c.preset, ch);
      EXPECT_NEAR(sum / plane, c.mean_f[ch], 0.01 * step) << "channel " << ch;
      EXPECT_NEAR(sum / plane, c.mean_u8[ch], 0.2 * step) << "channel " << ch;
    }
    for (const Sample& s : c.samples) {
      const float v = t->values()[(s.c * c.size + s.y) * int64_t{c.size} + s.x];
      const double step = Step(c.preset, s.c);
      EXPECT_NEAR(v, s.f, 0.01 * step) << "at c" << s.c << " y" << s.y << " x" << s.x;
      EXPECT_NEAR(v, s.u8, 1.0 * step + 1e-4) << "at c" << s.c << " y" << s.y << " x" << s.x;
    }
  }
}

// ---- Synthetic preprocessing checks

Image MakeImage(int width, int height, const std::function<void(int x, int y, uint8_t* rgb)>& f) {
  Image image{width, height, std::vector<uint8_t>(size_t{3} * width * height)};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) f(x, y, &image.rgb[(size_t(y) * width + x) * 3]);
  }
  return image;
}

float At(const Tensor& t, int c, int y, int x) {
  const int64_t h = t.shape()[2], w = t.shape()[3];
  return t.values()[(c * h + y) * w + x];
}

TEST(ImageToTensorTest, ConstantColorStaysConstant) {
  const Image image =
      MakeImage(53, 37, [](int, int, uint8_t* p) { p[0] = 10, p[1] = 200, p[2] = 77; });
  for (int size : {224, 32, 5}) {
    auto caffe = ImageToTensor(image, size, size, 3, Preprocess::kCaffe);
    auto tv = ImageToTensor(image, size, size, 3, Preprocess::kTorchvision);
    auto gray = ImageToTensor(image, size, size, 1, Preprocess::kGray);
    ASSERT_TRUE(caffe.ok() && tv.ok() && gray.ok());
    ASSERT_EQ(gray->shape(), (std::vector<int64_t>{1, 1, size, size}));
    const float want_caffe[3] = {77 - 104.0f, 200 - 117.0f, 10 - 123.0f};  // B, G, R
    const float want_tv[3] = {(10 / 255.0f - 0.485f) / 0.229f, (200 / 255.0f - 0.456f) / 0.224f,
                              (77 / 255.0f - 0.406f) / 0.225f};
    const float want_gray = (0.299f * 10 + 0.587f * 200 + 0.114f * 77) / 255.0f;
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        for (int c = 0; c < 3; ++c) {
          ASSERT_NEAR(At(*caffe, c, y, x), want_caffe[c], 1e-3)
              << size << " c" << c << " y" << y << " x" << x;
          ASSERT_NEAR(At(*tv, c, y, x), want_tv[c], 1e-5);
        }
        ASSERT_NEAR(At(*gray, 0, y, x), want_gray, 1e-5);
      }
    }
  }
}

TEST(ImageToTensorTest, GradientsStayMonotonic) {
  // Red rises left to right, green top to bottom; shrink (300x200 -> 256 high) and enlarge.
  const Image image = MakeImage(300, 200, [](int x, int y, uint8_t* p) {
    p[0] = x * 255 / 299, p[1] = y * 255 / 199, p[2] = 128;
  });
  for (int size : {224, 100, 400}) {
    auto t = ImageToTensor(image, size, size, 3, Preprocess::kCaffe);
    ASSERT_TRUE(t.ok()) << t.status();
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        if (x > 0) {
          ASSERT_GE(At(*t, 2, y, x), At(*t, 2, y, x - 1) - 1e-4) << size << " y" << y << " x" << x;
        }
        if (y > 0) {
          ASSERT_GE(At(*t, 1, y, x), At(*t, 1, y - 1, x) - 1e-4) << size << " y" << y << " x" << x;
        }
        ASSERT_NEAR(At(*t, 2, y, x), At(*t, 2, 0, x), 1e-3);  // red does not vary down a column
        ASSERT_NEAR(At(*t, 0, y, x), 128 - 104.0f, 1e-3);
      }
    }
    EXPECT_GT(At(*t, 2, 0, size - 1) - At(*t, 2, 0, 0), 100.0f);
  }
}

TEST(ImageToTensorTest, CropIsCenteredWithTiesToEven) {
  // 256 wide already has the target short side for 224, so nothing is resized, only cropped:
  // rows from round((h - 224) / 2) with Python's ties-to-even, columns from 16.
  for (auto [height, top] : {std::pair{512, 144}, {341, 58}, {343, 60}, {256, 16}}) {
    const Image image = MakeImage(
        256, height, [](int x, int y, uint8_t* p) { p[0] = x, p[1] = y % 256, p[2] = y / 256; });
    auto t = ImageToTensor(image, 224, 224, 3, Preprocess::kCaffe);
    ASSERT_TRUE(t.ok()) << t.status();
    for (int y = 0; y < 224; y += 37) {
      for (int x = 0; x < 224; x += 23) {
        ASSERT_FLOAT_EQ(At(*t, 2, y, x) + 123, x + 16) << height << " y" << y << " x" << x;
        ASSERT_FLOAT_EQ(At(*t, 1, y, x) + 117 + 256 * (At(*t, 0, y, x) + 104), y + top) << height;
      }
    }
  }
}

// The pattern for the small exact-resize checks below.
Image Pattern(int width, int height) {
  return MakeImage(width, height, [](int x, int y, uint8_t* p) {
    p[0] = (x * 37 + y * 91) % 256, p[1] = (x * x * 13 + y * 7) % 256,
    p[2] = (x * y * 29 + 50) % 256;
  });
}

TEST(ImageToTensorTest, SmallResizesMatchPillowExactly) {
  // Expected red and green planes of a 4x4 input from Pillow 9.4 (/usr/bin/python3): each channel
  // of Pattern(w, h) as a mode "F" image, .resize((rw, rh), Image.BILINEAR), cropped at (left,
  // top).
  struct Case {
    int width, height;
    float red[16], green[16];
  };
  const Case cases[] = {
      // 5x3 enlarged to 8x5, crop from (2, 0) (round(0.5) = 0).
      {5,
       3,
       {39.3125f, 62.4375f, 85.5625f, 108.6875f, 75.7125f, 98.8375f, 121.9625f, 145.0875f,
        130.3125f, 153.4375f, 176.5625f, 199.6875f, 175.3125f, 102.4375f, 77.5625f, 100.6875f},
       {15.4375f, 39.8125f, 72.3125f, 112.9375f, 18.2375f, 42.6125f, 75.1125f, 115.7375f, 22.4375f,
        46.8125f, 79.3125f, 119.9375f, 26.6375f, 51.0125f, 83.5125f, 124.1375f}},
      // 40x40 shrunk 8x to 5x5 (antialiased: 17 taps), crop from (0, 0).
      {40,
       40,
       {120.4082f, 121.6429f, 125.1607f, 128.4464f, 131.2143f, 122.7344f, 122.2500f, 125.7500f,
        130.3214f, 130.9844f, 122.7344f, 122.2500f, 127.3393f, 130.3125f, 130.9844f, 122.7344f},
       {112.4847f, 104.1250f, 130.4286f, 144.2143f, 120.9643f, 133.9844f, 147.9531f, 103.5781f,
        142.8750f, 145.0938f, 142.0312f, 117.3750f, 137.8929f, 137.6562f, 98.4688f, 130.6094f}},
  };
  for (const Case& c : cases) {
    auto t = ImageToTensor(Pattern(c.width, c.height), 4, 4, 3, Preprocess::kCaffe);
    ASSERT_TRUE(t.ok()) << t.status();
    for (int i = 0; i < 16; ++i) {
      EXPECT_NEAR(At(*t, 2, i / 4, i % 4) + 123, c.red[i], 1e-3)
          << c.width << "x" << c.height << " #" << i;
      EXPECT_NEAR(At(*t, 1, i / 4, i % 4) + 117, c.green[i], 1e-3)
          << c.width << "x" << c.height << " #" << i;
    }
  }
}

TEST(ImageToTensorTest, NonSquareInputAndExtremeAspect) {
  auto t = ImageToTensor(Pattern(640, 480), 240, 320, 3, Preprocess::kTorchvision);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape(), (std::vector<int64_t>{1, 3, 240, 320}));
  auto thin = ImageToTensor(Pattern(1, 3000), 224, 224, 1, Preprocess::kGray);  // 1 px -> 256 wide
  ASSERT_TRUE(thin.ok()) << thin.status();
  EXPECT_EQ(thin->values().size(), 224u * 224u);
}

TEST(ImageToTensorTest, RejectsBadArguments) {
  const Image image = Pattern(8, 8);
  auto expect = [](const absl::StatusOr<Tensor>& t, const std::string& text) {
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(std::string(t.status().message()), text);
  };
  expect(ImageToTensor(image, 0, 224, 3, Preprocess::kCaffe), "input size 0x224");
  expect(ImageToTensor(image, 224, -3, 3, Preprocess::kCaffe), "input size 224x-3");
  expect(ImageToTensor(image, 40000, 40000, 3, Preprocess::kCaffe), "1..30000");
  expect(ImageToTensor(image, 224, 224, 1, Preprocess::kTorchvision),
         "torchvision preprocessing produces 3");
  expect(ImageToTensor(image, 28, 28, 3, Preprocess::kGray), "gray preprocessing produces 1");
  expect(ImageToTensor(Image{}, 224, 224, 3, Preprocess::kCaffe), "no pixels");
  Image short_buffer = image;
  short_buffer.rgb.resize(10);
  expect(ImageToTensor(short_buffer, 224, 224, 3, Preprocess::kCaffe), "holds 10 bytes");
}

TEST(ImageToTensorTest, ParsesPresetNames) {
  EXPECT_EQ(*ParsePreprocess("torchvision"), Preprocess::kTorchvision);
  EXPECT_EQ(*ParsePreprocess("caffe"), Preprocess::kCaffe);
  EXPECT_EQ(*ParsePreprocess("gray"), Preprocess::kGray);
  auto bad = ParsePreprocess("imagenet");
  ASSERT_FALSE(bad.ok());
  EXPECT_MESSAGE_HAS(std::string(bad.status().message()), "'imagenet'");
  EXPECT_MESSAGE_HAS(std::string(bad.status().message()), "torchvision, caffe, gray");
}

// ---- Every PNG flavor, made here, decodes to the RGB that Pillow's convert("RGB") gives

TEST_F(ImageFilesTest, DecodesEveryPngFlavor) {
  const int w = 13, h = 11;  // odd sizes exercise Adam7's partial passes and bit packing
  auto v8 = [](int x, int y, int c) { return (x * 19 + y * 7 + c * 80) % 256; };
  std::string palette;
  for (int i = 0; i < 16; ++i) palette += {char(i * 16), char(255 - i * 8), char(i * 3)};
  struct Flavor {
    std::string name;
    PngSpec spec;
    std::function<int(int x, int y, int c)> want;  // expected 8-bit RGB
  };
  const std::vector<Flavor> flavors = {
      {"rgb8", {w, h, 8, 2, v8}, v8},
      {"rgb8_interlaced", {w, h, 8, 2, v8, "", "", true}, v8},
      {"rgba8", {w, h, 8, 6, v8}, v8},  // alpha dropped, not blended
      {"rgb16",
       {w, h, 16, 2, [&](int x, int y, int c) { return v8(x, y, c) * 256 + 255 - c; }},
       v8},
      {"rgba16_interlaced",
       {w, h, 16, 6, [&](int x, int y, int c) { return v8(x, y, c) << 8; }, "", "", true},
       v8},
      {"gray8",
       {w, h, 8, 0, [&](int x, int y, int) { return v8(x, y, 0); }},
       [&](int x, int y, int) { return v8(x, y, 0); }},
      {"gray1",
       {w, h, 1, 0, [](int x, int y, int) { return (x + y) % 2; }},
       [](int x, int y, int) { return (x + y) % 2 * 255; }},
      {"gray2",
       {w, h, 2, 0, [](int x, int y, int) { return (x + y) % 4; }},
       [](int x, int y, int) { return (x + y) % 4 * 85; }},
      {"gray4_interlaced",
       {w, h, 4, 0, [](int x, int y, int) { return (x * y) % 16; }, "", "", true},
       [](int x, int y, int) { return (x * y) % 16 * 17; }},
      {"gray16",
       {w, h, 16, 0, [&](int x, int y, int) { return v8(x, y, 0) * 257; }},
       [&](int x, int y, int) { return v8(x, y, 0); }},  // high byte (Pillow would clip to 255)
      {"gray_alpha8",
       {w, h, 8, 4, [&](int x, int y, int c) { return c == 0 ? v8(x, y, 0) : 7; }},
       [&](int x, int y, int) { return v8(x, y, 0); }},
      {"gray_alpha16",
       {w, h, 16, 4, [&](int x, int y, int c) { return c == 0 ? v8(x, y, 0) << 8 : 9; }},
       [&](int x, int y, int) { return v8(x, y, 0); }},
      {"palette4_trns",
       {w, h, 4, 3, [](int x, int y, int) { return (x + 2 * y) % 16; }, palette,
        std::string("\x00\x80\xFF", 3)},
       [](int x, int y, int c) {
         const int i = (x + 2 * y) % 16;
         return c == 0 ? i * 16 : c == 1 ? 255 - i * 8 : i * 3;
       }},
      {"palette8",
       {w, h, 8, 3, [](int x, int y, int) { return (x * y) % 16; }, palette},
       [](int x, int y, int c) {
         const int i = (x * y) % 16;
         return c == 0 ? i * 16 : c == 1 ? 255 - i * 8 : i * 3;
       }},
  };
  for (const Flavor& f : flavors) {
    SCOPED_TRACE(f.name);
    absl::StatusOr<Image> image = WriteAndDecode(f.name + ".png", MakePng(f.spec));
    ASSERT_TRUE(image.ok()) << image.status();
    ASSERT_EQ(image->width, w);
    ASSERT_EQ(image->height, h);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < 3; ++c) {
          ASSERT_EQ(image->rgb[(y * w + x) * 3 + c], f.want(x, y, c))
              << "x" << x << " y" << y << " c" << c;
        }
      }
    }
  }
}

// ---- JPEG flavors

TEST_F(ImageFilesTest, DecodesProgressiveGrayAndCmykJpegs) {
  const int w = 61, h = 43;
  const std::vector<uint8_t> rgb = SmoothRgb(w, h);
  auto baseline =
      WriteAndDecode("baseline.jpg", EncodeJpeg(w, h, 3, JCS_RGB, JCS_YCbCr, false, 92, rgb));
  auto progressive =
      WriteAndDecode("progressive.jpg", EncodeJpeg(w, h, 3, JCS_RGB, JCS_YCbCr, true, 92, rgb));
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  ASSERT_TRUE(progressive.ok()) << progressive.status();
  EXPECT_EQ(progressive->rgb, baseline->rgb);  // same coefficients, sent in another order
  for (size_t i = 0; i < rgb.size(); ++i) ASSERT_NEAR(baseline->rgb[i], rgb[i], 8) << i;

  std::vector<uint8_t> luma(size_t{w} * h);
  for (size_t i = 0; i < luma.size(); ++i) luma[i] = rgb[3 * i + 1];
  auto gray = WriteAndDecode("gray.jpg",
                             EncodeJpeg(w, h, 1, JCS_GRAYSCALE, JCS_GRAYSCALE, false, 95, luma));
  ASSERT_TRUE(gray.ok()) << gray.status();
  for (size_t i = 0; i < luma.size(); ++i) {
    ASSERT_EQ(gray->rgb[3 * i], gray->rgb[3 * i + 1]);
    ASSERT_EQ(gray->rgb[3 * i], gray->rgb[3 * i + 2]);
    ASSERT_NEAR(gray->rgb[3 * i], luma[i], 4) << i;
  }

  // Adobe CMYK (stored inverted, as Photoshop and Pillow write it), plain and YCCK-coded; one flat
  // color. RGB = (255 - K) * (255 - C) / 255 etc., like Pillow's convert("RGB").
  const uint8_t cmyk[4] = {40, 100, 200, 30};
  std::vector<uint8_t> inverted(size_t{16} * 16 * 4);
  for (size_t i = 0; i < inverted.size(); ++i) inverted[i] = 255 - cmyk[i % 4];
  const int want[3] = {190, 137, 49};  // 225 * (255 - {40, 100, 200}) / 255
  for (J_COLOR_SPACE space : {JCS_CMYK, JCS_YCCK}) {
    auto image =
        WriteAndDecode("cmyk.jpg", EncodeJpeg(16, 16, 4, JCS_CMYK, space, false, 100, inverted));
    ASSERT_TRUE(image.ok()) << image.status();
    for (size_t i = 0; i < image->rgb.size(); ++i) ASSERT_NEAR(image->rgb[i], want[i % 3], 2) << i;
  }
}

// ---- Errors

TEST_F(ImageFilesTest, BrokenFilesGiveCleanErrors) {
  const std::string jpeg = EncodeJpeg(64, 48, 3, JCS_RGB, JCS_YCbCr, false, 90, SmoothRgb(64, 48));
  const std::string progressive =
      EncodeJpeg(64, 48, 3, JCS_RGB, JCS_YCbCr, true, 90, SmoothRgb(64, 48));
  const std::string png =
      MakePng({64, 48, 8, 2, [](int x, int y, int c) { return (x * y + c) % 256; }});
  ASSERT_TRUE(WriteAndDecode("ok.jpg", jpeg).ok());
  ASSERT_TRUE(WriteAndDecode("ok.png", png).ok());

  ExpectError("empty.jpg", "", "file is empty");
  ExpectError("notes.txt", "just some text\n", "not a JPEG or PNG file");
  ExpectError("anim.gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00;", "looks like GIF");
  ExpectError("two_bytes.jpg", "\xFF\xD8", "truncated");
  ExpectError("half.jpg", jpeg.substr(0, jpeg.size() / 2), "JPEG data is truncated");
  ExpectError("header_only.jpg", jpeg.substr(0, 200), "JPEG data is truncated");
  ExpectError("half_progressive.jpg", progressive.substr(0, progressive.size() / 2),
              "JPEG data is truncated");
  ExpectError("half.png", png.substr(0, png.size() / 2), "PNG data is truncated");
  ExpectError("signature_only.png", png.substr(0, 8), "PNG data is truncated");
  std::string bad_data = png;
  bad_data[png.size() / 2] ^= 0x5A;  // inside the IDAT chunk: zlib's check fails first
  ExpectError("bad_data.png", bad_data, "PNG data is corrupt");
  std::string bad_crc = png;
  bad_crc[png.size() - 13] ^= 0x01;  // the IDAT's CRC (the 12-byte IEND chunk follows)
  ExpectError("bad_crc.png", bad_crc, "PNG data is corrupt (IDAT: CRC error)");
  std::string bad_ihdr = png;
  bad_ihdr[17] ^= 0x01;  // width, not matching the CRC
  ExpectError("bad_ihdr.png", bad_ihdr, "PNG data is corrupt (IHDR: CRC error)");
  std::string bad_huffman = jpeg;
  const size_t dht = bad_huffman.find("\xFF\xC4");
  ASSERT_NE(dht, std::string::npos);
  for (size_t i = dht + 5; i < dht + 21; ++i) bad_huffman[i] = '\xFF';  // code counts overflow
  ExpectError("bad_huffman.jpg", bad_huffman, "invalid JPEG data");

  // Absurd sizes are refused before any pixel memory is allocated.
  std::string huge_png =
      "\x89PNG\r\n\x1A\n" +
      Chunk("IHDR", Be32(40000) + Be32(100) + std::string("\x08\x02\x00\x00\x00", 5)) +
      Chunk("IDAT", ZlibStored("")) + Chunk("IEND", "");
  ExpectError("wide.png", huge_png, "image is too large (40000x100)");
  huge_png = "\x89PNG\r\n\x1A\n" +
             Chunk("IHDR", Be32(20000) + Be32(20000) + std::string("\x08\x02\x00\x00\x00", 5)) +
             Chunk("IDAT", ZlibStored("")) + Chunk("IEND", "");
  ExpectError("400mpixel.png", huge_png, "image is too large (20000x20000)");
  std::string huge_jpeg = jpeg;
  const size_t sof = huge_jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  huge_jpeg.replace(sof + 5, 4, "\x9C\x40\x9C\x40");  // height and width 40000
  ExpectError("huge.jpg", huge_jpeg, "image is too large (40000x40000)");

  const std::string missing = (dir_ / "missing.jpg").string();
  const absl::StatusOr<Image> none = DecodeImage(missing);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_MESSAGE_HAS(std::string(none.status().message()),
                     "image '" + missing + "': file not found");
  const absl::StatusOr<Image> dir = DecodeImage(dir_.string());
  ASSERT_FALSE(dir.ok());
  EXPECT_MESSAGE_HAS(std::string(dir.status().message()), "is a directory");
}

TEST_F(ImageFilesTest, BrokenPhotosGiveCleanErrors) {
  SKIP_WITHOUT_PHOTOS();
  const std::string cat = ReadBytes(kImages + "cat.jpg");
  const std::string fish = ReadBytes(kImages + "fish.png");
  ExpectError("cat_half.jpg", cat.substr(0, cat.size() / 2), "JPEG data is truncated");
  ExpectError("fish_half.png", fish.substr(0, fish.size() / 2), "PNG data is truncated");
  // JPEG has no checksum: 16 inverted bytes mid-scan throw the Huffman decoder out of step, which
  // libjpeg reports as stray bytes before the end marker (a warning we treat as an error).
  std::string flipped = cat;
  for (size_t i = cat.size() / 2; i < cat.size() / 2 + 16; ++i) flipped[i] ^= '\xFF';
  ExpectError("cat_flipped.jpg", flipped, "JPEG data is corrupt");
  flipped = fish;
  for (size_t i = fish.size() / 2; i < fish.size() / 2 + 16; ++i) flipped[i] ^= '\xFF';
  ExpectError("fish_flipped.png", flipped, "PNG data is corrupt");
}

// Only regular files are read: a FIFO is refused at once (it used to block the decoder forever),
// a device by name.
TEST(ImageFileKinds, FifoAndDeviceAreRefusedWithoutBlocking) {
  test::TempFolder dir;
  const std::string fifo = dir.Fifo("cat.jpg");
  test::ExpectReturnsQuickly(fifo, [&] {
    const absl::Status s = DecodeImage(fifo).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(std::string(s.message()), "image '" + fifo + "' is a FIFO, not a regular file");
  });
  EXPECT_NE(std::string(DecodeImage("/dev/zero").status().message()).find("a character device"),
            std::string::npos);
}

}  // namespace
}  // namespace onnxrun
