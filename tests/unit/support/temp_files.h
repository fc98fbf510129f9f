// Test helpers for file-handling checks: a fresh temporary folder removed with its contents, and
// a watchdog that proves a call on a FIFO returns instead of blocking.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>

namespace onnxrun::test {

// A fresh folder under the test temp dir, removed (with everything in it) on destruction.
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = ::testing::TempDir() + "onnxrun_files_XXXXXX";
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  // Writes `bytes` to `name` inside the folder and returns its path.
  std::string Write(const std::string& name, const std::string& bytes) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  // Creates a FIFO `name` inside the folder and returns its path.
  std::string Fifo(const std::string& name) const {
    const std::string p = path_ + "/" + name;
    EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0) << p;
    return p;
  }

 private:
  std::string path_;
};

// Runs `call` (which reads `fifo`) and fails unless it returns within a few seconds. On a
// timeout the FIFO is opened for writing and closed, which releases a reader blocked in open()
// or read(), so the test fails instead of hanging.
inline void ExpectReturnsQuickly(const std::string& fifo, const std::function<void()>& call) {
  auto done = std::async(std::launch::async, call);
  if (done.wait_for(std::chrono::seconds(5)) == std::future_status::ready) return done.get();
  ADD_FAILURE() << "call on FIFO '" << fifo << "' blocked";
  const int fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK);
  if (fd >= 0) ::close(fd);
  done.wait();
}

}  // namespace onnxrun::test
