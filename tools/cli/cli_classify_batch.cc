// onnxrun classify MODEL IMAGE|DIR... with many images: the model loaded once, images decoded on
// worker threads ahead of the model (a bounded window), `--batch N` images stacked into one run,
// one result line per image in input order, a progress line on a terminal's stderr.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cli/classify.h"
#include "tools/cli/cli_common.h"

namespace onnxrun::cli {

std::vector<std::string> ExpandImageArgs(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const std::string& arg : args) {
    std::error_code error;
    if (!fs::is_directory(arg, error)) {
      out.push_back(arg);  // a file (or a missing one: reported on its line)
      continue;
    }
    std::vector<std::string> found;
    const auto options = fs::directory_options::skip_permission_denied;
    for (fs::recursive_directory_iterator it(arg, options, error), end; !error && it != end;
         it.increment(error)) {
      if (!it->is_regular_file(error)) continue;
      const std::string ext = absl::AsciiStrToLower(it->path().extension().string());
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") found.push_back(it->path().string());
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

namespace {

// A decoded image, or why it could not be.
struct Decoded {
  std::optional<Tensor> tensor;
  std::string error;
};

// Decodes images[i] on `jobs` threads, at most `window` images ahead of the consumer.
class DecodePool {
 public:
  DecodePool(const ClassifyModel& m, const std::vector<std::string>& images, int jobs,
             size_t window)
      : m_(m),
        images_(images),
        slots_(images.size()),
        ready_(images.size(), false),
        window_(window) {
    for (int j = 0; j < jobs; ++j) workers_.emplace_back([this] { Work(); });
  }
  ~DecodePool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  // Waits for image i and takes it; the window then moves past it.
  Decoded Take(size_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return ready_[i]; });
    Decoded d = std::move(slots_[i]);
    consumed_ = i + 1;
    cv_.notify_all();
    return d;
  }

 private:
  void Work() {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock,
                 [&] { return stop_ || (next_ < images_.size() && next_ < consumed_ + window_); });
        if (stop_) return;
        i = next_++;
      }
      Decoded d;
      auto image = DecodeImage(images_[i]);
      if (!image.ok()) {
        d.error = std::string(image.status().message());
      } else {
        auto t = ImageToModelInput(m_, *image);
        if (t.ok()) {
          d.tensor = std::move(*t);
        } else {
          d.error = std::string(t.status().message());
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        slots_[i] = std::move(d);
        ready_[i] = true;
      }
      cv_.notify_all();
    }
  }

  const ClassifyModel& m_;
  const std::vector<std::string>& images_;
  std::vector<Decoded> slots_;
  std::vector<bool> ready_;
  size_t window_, next_ = 0, consumed_ = 0;
  bool stop_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
};

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string ResultLine(const ClassifyModel& m, const std::string& format, const std::string& path,
                       const Ranked* r, const std::string& error) {
  if (format == "jsonl") {
    std::string line = absl::StrCat("{\"image\":", JsonString(path));
    if (!r) return absl::StrCat(line, ",\"error\":", JsonString(error), "}\n");
    line += ",\"top\":[";
    for (size_t k = 0; k < r->index.size(); ++k)
      absl::StrAppend(&line, k ? "," : "", "{\"rank\":", k + 1, ",\"index\":", r->index[k],
                      ",\"label\":", JsonString(m.Label(r->index[k])),
                      ",\"probability\":", JsonNumber(r->probability[k], 6), "}");
    return line + "]}\n";
  }
  if (format == "csv") {
    std::string line = CsvField(path);
    for (int64_t k = 0; k < m.top; ++k) {
      if (r && k < static_cast<int64_t>(r->index.size())) {
        absl::StrAppend(&line, ",", r->index[k], ",", CsvField(m.Label(r->index[k])), ",",
                        absl::StrFormat("%.6f", r->probability[k]));
      } else {
        line += ",,,";
      }
    }
    return absl::StrCat(line, ",", CsvField(r ? "" : error), "\n");
  }
  if (!r) return absl::StrCat(path, "\terror: ", OneLine(error), "\n");
  std::string line = path;
  for (size_t k = 0; k < r->index.size(); ++k)
    absl::StrAppend(&line, "\t", m.Label(r->index[k]),
                    absl::StrFormat(" (%d) %.4f", r->index[k], r->probability[k]));
  return line + "\n";
}

}  // namespace

int ClassifyImages(const ClassifyModel& m, const std::vector<std::string>& images,
                   const BatchOptions& options) {
  if (images.empty()) return Fail("classify: no JPEG or PNG images found in the given arguments");
  if (options.format == "csv") {
    std::string header = "image";
    for (int64_t k = 1; k <= m.top; ++k)
      absl::StrAppend(&header, ",index", k, ",label", k, ",probability", k);
    std::cout << header << ",error\n";
  }
  const bool progress = images.size() > 1 && isatty(STDERR_FILENO);
  const size_t n = images.size();
  const int64_t batch = options.batch;
  const size_t window = std::max<size_t>(2 * batch, 4 * options.jobs);
  DecodePool pool(m, images, options.jobs, window);
  const int64_t per_image = m.channels * m.height * m.width;
  int failed = 0;
  const double t0 = NowMs();
  double last_progress = 0;
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < n;) {
    // The next batch: up to `batch` decoded images, with the failed ones among them.
    std::vector<std::pair<size_t, Decoded>> group;
    int64_t good = 0;
    size_t j = i;
    while (j < n && good < batch) {
      Decoded d = pool.Take(j);
      good += d.tensor ? 1 : 0;
      group.emplace_back(j++, std::move(d));
    }
    std::vector<std::optional<Ranked>> ranked(group.size());
    std::vector<std::string> errors(group.size());
    if (good > 0) {
      const int64_t rows = m.fixed_batch > 1 ? m.fixed_batch : good;  // pad a fixed batch
      Tensor stacked(m.nhwc ? std::vector<int64_t>{rows, m.height, m.width, m.channels}
                            : std::vector<int64_t>{rows, m.channels, m.height, m.width});
      int64_t row = 0;
      for (auto& [index, d] : group)
        if (d.tensor)
          std::memcpy(stacked.data() + row++ * per_image, d.tensor->data(),
                      per_image * sizeof(float));
      absl::Status s = m.session->Run({{m.input, &stacked}}, {m.output}, &outputs);
      row = 0;
      for (size_t g = 0; g < group.size(); ++g) {
        if (!group[g].second.tensor) {
          errors[g] = group[g].second.error;
          continue;
        }
        if (!s.ok()) {
          errors[g] = absl::StrCat("inference failed: ", s.message());
          continue;
        }
        auto r = RankScores(m, outputs[0].data() + row++ * m.classes);
        if (r.ok()) {
          ranked[g] = std::move(*r);
        } else {
          errors[g] = std::string(r.status().message());
        }
      }
    } else {
      for (size_t g = 0; g < group.size(); ++g) errors[g] = group[g].second.error;
    }
    std::string out;
    for (size_t g = 0; g < group.size(); ++g) {
      failed += ranked[g] ? 0 : 1;
      out += ResultLine(m, options.format, images[group[g].first],
                        ranked[g] ? &*ranked[g] : nullptr, errors[g]);
    }
    std::cout << out << std::flush;
    i = j;
    if (progress && (NowMs() - last_progress > 250 || i == n)) {
      last_progress = NowMs();
      const double secs = (last_progress - t0) / 1000.0, rate = i / std::max(secs, 1e-9);
      std::cerr << absl::StrFormat("\r%d/%d images  %.1f images/s  ETA %.0f s   ", i, n, rate,
                                   (n - i) / std::max(rate, 1e-9))
                << (i == n ? "\n" : "") << std::flush;
    }
  }
  if (failed > 0) {
    std::cerr << "onnxrun: " << failed << " of " << n << " images failed\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace onnxrun::cli
