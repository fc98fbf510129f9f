// Opening files named by untrusted input (models, external data, tensor files, images): only
// regular files, never blocking, and external data only inside its model's folder.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace onnxrun::ir {

// An open file descriptor, closed on destruction.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ScopedFd(ScopedFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ScopedFd& operator=(ScopedFd&& o) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd();
  int get() const { return fd_; }
  // Gives up ownership (the caller closes it).
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// Opens `path` read-only if it is a regular file. The open is non-blocking, so a FIFO without a
// writer cannot hang it, and fstat then refuses anything that is not a regular file (FIFO,
// device, socket, directory) with an error naming `what` and the kind of file. A missing file
// is NotFound: "cannot open <what> '<path>'".
absl::StatusOr<ScopedFd> OpenRegularFile(const std::string& path, const std::string& what);

// Reads exactly `length` bytes at `offset` of `fd` into `out`.
absl::Status ReadFileRange(int fd, int64_t offset, int64_t length, const std::string& what,
                           std::string* out);

// The folder part of `path` ("." for a bare file name).
std::string DirName(const std::string& path);

// Resolves `location` (relative, as ONNX external data names it) against `base_dir` with
// realpath(), and requires the result to lie inside realpath(base_dir): `..` components and
// symbolic links that lead out of the folder are refused, naming `what`.
absl::StatusOr<std::string> ResolveInside(const std::string& base_dir, const std::string& location,
                                          const std::string& what);

}  // namespace onnxrun::ir
