// onnxrun info MODEL: what the model is and what the runtime made of it.
#include <algorithm>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "onnxrun/onnxrun.h"
#include "tools/cli/cli_common.h"

namespace onnxrun::cli {
namespace {

std::string Tensors(const std::vector<TensorInfo>& infos) {
  std::string out = "[";
  for (size_t i = 0; i < infos.size(); ++i) {
    const TensorInfo& t = infos[i];
    absl::StrAppend(&out, i ? "," : "", "{\"name\":", JsonString(t.name),
                    ",\"dtype\":", JsonString(t.dtype),
                    ",\"model_shape\":", JsonIntArray(t.model_shape), ",\"dim_names\":[");
    for (size_t d = 0; d < t.dim_names.size(); ++d)
      absl::StrAppend(&out, d ? "," : "", JsonString(t.dim_names[d]));
    absl::StrAppend(&out, "],\"shape\":", JsonIntArray(t.shape), "}");
  }
  return out + "]";
}

std::string Histogram(const std::map<std::string, int>& ops) {
  std::string out = "{";
  for (const auto& [op, count] : ops) {
    absl::StrAppend(&out, out.size() > 1 ? "," : "", JsonString(op), ":", count);
  }
  return out + "}";
}

int64_t Total(const std::map<std::string, int>& ops) {
  int64_t total = 0;
  for (const auto& entry : ops) total += entry.second;
  return total;
}

// Rows "  name  value" with the names padded to one width.
void Table(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [name, value] : rows) {
    out << "  " << name << std::string(width - name.size() + 2, ' ') << value << "\n";
  }
}

void OpsTable(std::ostream& out, const std::map<std::string, int>& ops) {
  std::vector<std::pair<std::string, int>> sorted(ops.begin(), ops.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [op, count] : sorted) rows.emplace_back(op, absl::StrCat(count));
  Table(out, rows);
}

// The declared shape with symbolic names for named dynamic dimensions: [batch,3,224,224].
std::string DeclaredShape(const TensorInfo& t) {
  std::string out = "[";
  for (size_t d = 0; d < t.model_shape.size(); ++d) {
    const bool named = d < t.dim_names.size() && !t.dim_names[d].empty() && t.model_shape[d] < 0;
    absl::StrAppend(&out, d ? "," : "", named ? t.dim_names[d] : absl::StrCat(t.model_shape[d]));
  }
  return out + "]";
}

std::string Metadata(const ModelMetadata& md) {
  std::string out =
      absl::StrCat("{\"producer_name\":", JsonString(md.producer_name),
                   ",\"producer_version\":", JsonString(md.producer_version),
                   ",\"domain\":", JsonString(md.domain), ",\"model_version\":", md.model_version,
                   ",\"ir_version\":", md.ir_version, ",\"graph_name\":", JsonString(md.graph_name),
                   ",\"doc_string\":", JsonString(md.doc_string), ",\"custom\":{");
  bool first = true;
  for (const auto& [k, v] : md.custom) {
    absl::StrAppend(&out, first ? "" : ",", JsonString(k), ":", JsonString(v));
    first = false;
  }
  return out + "}}";
}

void TensorTable(std::ostream& out, const std::vector<TensorInfo>& infos) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const TensorInfo& t : infos) {
    rows.emplace_back(t.name, absl::StrCat(t.dtype, "  model ", DeclaredShape(t), "  prepared ",
                                           ShapeString(t.shape)));
  }
  Table(out, rows);
}

std::string Bytes(int64_t bytes) {
  return absl::StrFormat("%d (%.2f MiB)", bytes, bytes / (1024.0 * 1024.0));
}

}  // namespace

int RunInfo(const std::vector<std::string>& args) {
  auto parsed = ParseArgs(args, {{"optimized", false},
                                 {"verbose", false},
                                 {"memory", false},
                                 {"json", false},
                                 {"threads", true},
                                 {"max-tensor-mb", true},
                                 {"max-arena-mb", true},
                                 {"allow-nonfinite", false},
                                 {"batch", true},
                                 {"shape", true},
                                 {"fixed-shape", false},
                                 {"no-winograd", false},
                                 {"isa", true}});
  if (!parsed.ok()) return UsageError("info", std::string(parsed.status().message()));
  if (parsed->help) return PrintCommandHelp("info");
  if (parsed->positional.size() != 1) {
    return UsageError("info", absl::StrCat("expected one MODEL, got ", parsed->positional.size(),
                                           " argument(s)"));
  }
  const std::string model = parsed->positional[0];
  auto threads = parsed->GetThreads();
  if (!threads.ok()) return UsageError("info", std::string(threads.status().message()));

  SessionOptions options;
  options.num_threads = static_cast<int>(*threads);
  if (absl::Status s = parsed->GetLimits(&options); !s.ok())
    return UsageError("info", std::string(s.message()));
  auto batch = parsed->GetInt("batch", 0, 0, 1000000);
  if (!batch.ok()) return UsageError("info", std::string(batch.status().message()));
  options.batch_size = *batch;
  auto shapes = parsed->GetShapes();
  if (!shapes.ok()) return UsageError("info", std::string(shapes.status().message()));
  options.input_shapes = *shapes;
  options.shapes_per_run = !parsed->Has("fixed-shape");
  options.winograd = !parsed->Has("no-winograd");
  options.isa = parsed->Get("isa", "auto");
  auto session = Session::Load(model, options);
  if (!session.ok()) return Fail(LoadError(model, session.status(), *parsed));
  NoteDefaultedDims(model, (*session)->inputs(), *batch > 0, *shapes);
  const ModelReport& r = (*session)->report();
  const MemoryReport& m = r.memory;
  const double ratio = m.lower_bound_bytes > 0
                           ? static_cast<double>(m.arena_bytes) / m.lower_bound_bytes
                           : std::numeric_limits<double>::quiet_NaN();

  std::ostringstream out;
  if (parsed->Has("json")) {  // everything, whatever the flags
    out << "{\"model\":" << JsonString(model) << ",\"producer\":" << JsonString(r.producer)
        << ",\"opset\":" << r.opset << ",\"parameters\":" << r.parameters
        << ",\"gflops\":" << JsonNumber(r.gflops, 4)
        << ",\"metadata\":" << Metadata((*session)->metadata())
        << ",\"kept_weight_bytes\":" << r.kept_weight_bytes
        << ",\"inputs\":" << Tensors((*session)->inputs())
        << ",\"outputs\":" << Tensors((*session)->outputs())
        << ",\"ops_before\":" << Histogram(r.ops_before)
        << ",\"ops_after\":" << Histogram(r.ops_after) << ",\"passes\":[";
    for (size_t i = 0; i < r.passes.size(); ++i) {
      out << (i ? "," : "") << "{\"pass\":" << JsonString(r.passes[i].pass)
          << ",\"rewrites\":" << r.passes[i].rewrites << "}";
    }
    if (parsed->Has("verbose")) {
      out << "],\"rewrites\":[";
      for (size_t i = 0; i < r.rewrites.size(); ++i)
        out << (i ? "," : "") << "{\"pass\":" << JsonString(r.rewrites[i].pass)
            << ",\"node\":" << JsonString(r.rewrites[i].node)
            << ",\"what\":" << JsonString(r.rewrites[i].what) << "}";
    }
    out << "],\"memory\":{\"arena_bytes\":" << m.arena_bytes << ",\"naive_bytes\":" << m.naive_bytes
        << ",\"lower_bound_bytes\":" << m.lower_bound_bytes
        << ",\"arena_to_lower_bound\":" << JsonNumber(ratio, 4)
        << ",\"workspace_bytes\":" << m.workspace_bytes
        << ",\"concats_in_place\":" << m.concats_in_place
        << ",\"concats_copied\":" << m.concats_copied
        << ",\"bytes_copied_per_run\":" << m.bytes_copied_per_run << "}}\n";
  } else {
    out << "model       " << model << "\n"
        << "producer    " << (r.producer.empty() ? "-" : r.producer) << "\n"
        << "opset       " << r.opset << "\n"
        << "parameters  " << r.parameters << "\n"
        << absl::StrFormat("gflops      %.4f\n", r.gflops);
    const ModelMetadata& md = (*session)->metadata();
    if (!md.graph_name.empty()) out << "graph       " << md.graph_name << "\n";
    if (!md.doc_string.empty()) out << "doc         " << md.doc_string << "\n";
    for (const auto& [k, v] : md.custom) out << "metadata    " << k << " = " << v << "\n";
    out << "inputs\n";
    TensorTable(out, (*session)->inputs());
    out << "outputs\n";
    TensorTable(out, (*session)->outputs());
    out << "ops as loaded (" << Total(r.ops_before) << " nodes)\n";
    OpsTable(out, r.ops_before);
    if (parsed->Has("optimized")) {
      out << "ops optimized (" << Total(r.ops_after) << " nodes)\n";
      OpsTable(out, r.ops_after);
      out << "passes\n";
      std::vector<std::pair<std::string, std::string>> rows;
      for (const PassReport& p : r.passes) rows.emplace_back(p.pass, absl::StrCat(p.rewrites));
      Table(out, rows);
      if (parsed->Has("verbose")) {
        out << "rewrites (" << r.rewrites.size() << ")\n";
        for (const RewriteReport& w : r.rewrites)
          out << "  " << w.pass << "  " << w.node << "  " << w.what << "\n";
      }
    }
    if (parsed->Has("memory")) {
      out << "memory\n";
      Table(out, {{"arena_bytes", Bytes(m.arena_bytes)},
                  {"naive_bytes", Bytes(m.naive_bytes)},
                  {"lower_bound_bytes", Bytes(m.lower_bound_bytes)},
                  {"arena/lower_bound",
                   m.lower_bound_bytes > 0 ? absl::StrFormat("%.3f", ratio) : std::string("n/a")},
                  {"workspace_bytes", Bytes(m.workspace_bytes)},
                  {"kept_weight_bytes", Bytes(r.kept_weight_bytes)},
                  {"concats_in_place", absl::StrCat(m.concats_in_place)},
                  {"concats_copied", absl::StrCat(m.concats_copied)},
                  {"bytes_copied_per_run", Bytes(m.bytes_copied_per_run)}});
    }
  }
  std::cout << out.str() << std::flush;
  return kExitOk;
}

}  // namespace onnxrun::cli
