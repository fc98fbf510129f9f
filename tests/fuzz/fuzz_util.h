// Shared by the fuzz targets: the public API reads files, so each input is written to a file in a
// private temporary folder (one per fuzzer process) and the API is called on that path.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace onnxrun::fuzz {

// The process's temporary folder (created once, removed at exit), holding a small `data.bin`
// that external-data references in the input may name.
inline const std::string& TempDir() {
  static const std::string dir = [] {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/onnxrun_fuzz_XXXXXX";
    if (!mkdtemp(tmpl.data())) abort();
    const std::string data = tmpl + "/data.bin";
    if (FILE* f = fopen(data.c_str(), "wb")) {
      for (int i = 0; i < 256; ++i) fputc(i, f);
      fclose(f);
    }
    static std::string keep = tmpl;
    atexit([] {
      unlink((keep + "/data.bin").c_str());
      unlink((keep + "/input").c_str());
      rmdir(keep.c_str());
    });
    return tmpl;
  }();
  return dir;
}

// Writes the input to TempDir()/input and returns that path.
inline std::string WriteInput(const uint8_t* data, size_t size) {
  const std::string path = TempDir() + "/input";
  FILE* f = fopen(path.c_str(), "wb");
  if (!f) abort();
  if (size > 0 && fwrite(data, 1, size, f) != size) abort();
  fclose(f);
  return path;
}

}  // namespace onnxrun::fuzz
