#include "runtime/ir/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace onnxrun::ir {
namespace {

const char* KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return absl::NotFoundError(strerror(errno));
  return std::string(resolved);
}

}  // namespace

ScopedFd& ScopedFd::operator=(ScopedFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

ScopedFd::~ScopedFd() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<ScopedFd> OpenRegularFile(const std::string& path, const std::string& what) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0)
    return absl::NotFoundError(
        absl::StrCat("cannot open ", what, " '", path, "': ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    return absl::NotFoundError(
        absl::StrCat("cannot stat ", what, " '", path, "': ", std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", path, "' is ", KindOf(st.st_mode), ", not a regular file"));
  // Regular files ignore O_NONBLOCK; clear it anyway so readers see ordinary semantics.
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

absl::Status ReadFileRange(int fd, int64_t offset, int64_t length, const std::string& what,
                           std::string* out) {
  out->resize(length);
  int64_t done = 0;
  while (done < length) {
    const ssize_t got = ::pread(fd, out->data() + done, length - done, offset + done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      return absl::DataLossError(absl::StrCat("short read from ", what, " (", done, " of ", length,
                                              " bytes at offset ", offset, ")"));
    done += got;
  }
  return absl::OkStatus();
}

std::string DirName(const std::string& path) {
  const auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  return pos == 0 ? "/" : path.substr(0, pos);
}

absl::StatusOr<std::string> ResolveInside(const std::string& base_dir, const std::string& location,
                                          const std::string& what) {
  if (location.empty() || location[0] == '/')
    return absl::InvalidArgumentError(absl::StrCat(what, ": external data location '", location,
                                                   "' is not a path relative to the folder"));
  const std::string dir = base_dir.empty() ? "." : base_dir;
  const std::string joined = absl::StrCat(dir, "/", location);
  auto base = RealPath(dir);
  if (!base.ok())
    return absl::NotFoundError(
        absl::StrCat(what, ": cannot resolve folder '", dir, "': ", base.status().message()));
  auto file = RealPath(joined);
  if (!file.ok())
    return absl::NotFoundError(absl::StrCat(what, ": cannot open external data file '", joined,
                                            "': ", file.status().message()));
  const std::string prefix = *base == "/" ? "/" : *base + "/";
  if (file->compare(0, prefix.size(), prefix) != 0)
    return absl::PermissionDeniedError(absl::StrCat(what, ": external data location '", location,
                                                    "' resolves to '", *file,
                                                    "', outside the folder '", *base, "'"));
  return *file;
}

}  // namespace onnxrun::ir
