// Data movement on row-major tensors: Gather, Slice, Concat, Split, Pad.
#include "ops/kernels/tensor.h"

#include <algorithm>
#include <cstring>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {
namespace {

// Copies n elements of size es (fast paths for 4 and 8 bytes).
inline void CopyElems(const char* s, char* d, size_t n, size_t es) { std::memcpy(d, s, n * es); }

// Gathers n elements at byte stride `step` (may be negative) into d.
template <class T>
void Strided(const char* s, char* d, size_t n, int64_t step) {
  T* dt = reinterpret_cast<T*>(d);
  for (size_t i = 0; i < n; ++i) std::memcpy(dt + i, s + int64_t(i) * step, sizeof(T));
}
void StridedCopy(const char* s, char* d, size_t n, int64_t step_elems, size_t es) {
  const int64_t step = step_elems * int64_t(es);
  switch (es) {
    case 4:
      return Strided<uint32_t>(s, d, n, step);
    case 8:
      return Strided<uint64_t>(s, d, n, step);
    default:
      for (size_t i = 0; i < n; ++i) std::memcpy(d + i * es, s + int64_t(i) * step, es);
  }
}

// Fills n elements with the element at v.
void FillElems(char* d, size_t n, const char* v, size_t es) {
  if (es == 4) {
    uint32_t u;
    std::memcpy(&u, v, 4);
    std::fill(reinterpret_cast<uint32_t*>(d), reinterpret_cast<uint32_t*>(d) + n, u);
  } else if (es == 8) {
    uint64_t u;
    std::memcpy(&u, v, 8);
    std::fill(reinterpret_cast<uint64_t*>(d), reinterpret_cast<uint64_t*>(d) + n, u);
  } else {
    for (size_t i = 0; i < n; ++i) std::memcpy(d + i * es, v, es);
  }
}

}  // namespace

bool Gather(const void* x, void* y, size_t elem_size, size_t outer, size_t axis_dim, size_t inner,
            const int64_t* indices, size_t num_indices) {
  const int64_t dim = int64_t(axis_dim);
  for (size_t i = 0; i < num_indices; ++i)
    if (indices[i] < -dim || indices[i] >= dim) return false;
  const char* xs = static_cast<const char*>(x);
  char* yd = static_cast<char*>(y);
  const size_t row = inner * elem_size;
  if (row == 0) return true;
  for (size_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < num_indices; ++i) {
      const int64_t idx = indices[i] < 0 ? indices[i] + dim : indices[i];
      std::memcpy(yd + (o * num_indices + i) * row, xs + (o * axis_dim + size_t(idx)) * row, row);
    }
  }
  return true;
}

bool MakeSliceSpec(size_t rank, const size_t* shape, const int64_t* starts, const int64_t* ends,
                   const int64_t* axes, const int64_t* steps, size_t num, SliceSpec* spec) {
  if (rank > kMaxRank || num > rank) return false;
  for (size_t i = 0; i < rank; ++i)
    spec->start[i] = 0, spec->step[i] = 1, spec->count[i] = shape[i];
  bool seen[kMaxRank] = {};
  for (size_t i = 0; i < num; ++i) {
    int64_t a = axes ? axes[i] : int64_t(i);
    if (a < 0) a += int64_t(rank);
    if (a < 0 || a >= int64_t(rank) || seen[a]) return false;
    seen[a] = true;
    const int64_t step = steps ? steps[i] : 1;
    if (step == 0) return false;
    const int64_t dim = int64_t(shape[a]);
    int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    size_t count = 0;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      if (e > s) count = size_t((e - s - 1) / step + 1);
    } else if (dim > 0) {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      if (s > e) count = size_t((s - e - 1) / -step + 1);
    }
    spec->start[a] = count ? s : 0;
    spec->step[a] = step;
    spec->count[a] = count;
  }
  return true;
}

void Slice(const void* x, void* y, size_t elem_size, size_t rank, const size_t* shape,
           const SliceSpec& spec) {
  const char* xs = static_cast<const char*>(x);
  char* yd = static_cast<char*>(y);
  size_t total = 1;
  for (size_t i = 0; i < rank; ++i) total *= spec.count[i];
  if (total == 0) return;
  if (rank == 0) return CopyElems(xs, yd, 1, elem_size);
  int64_t stride[kMaxRank], base = 0;
  for (size_t i = rank, st = 1; i-- > 0;) {
    stride[i] = int64_t(st);
    st *= shape[i];
    base += spec.start[i] * stride[i];
  }
  // Outer loops in element units; unsigned wrap-around makes negative steps work.
  detail::Loop loops[kMaxRank];
  for (size_t i = 0; i + 1 < rank; ++i)
    loops[i] = {spec.count[i], size_t(spec.step[i] * stride[i]), 0};
  const size_t n = spec.count[rank - 1];
  const int64_t step = spec.step[rank - 1];
  size_t row = 0;
  detail::ForEachIndex(loops, rank - 1, 0, total / n, [&](size_t so, size_t) {
    const char* s = xs + (base + int64_t(so)) * int64_t(elem_size);
    char* d = yd + row * n * elem_size;
    ++row;
    if (step == 1)
      CopyElems(s, d, n, elem_size);
    else
      StridedCopy(s, d, n, step, elem_size);
  });
}

void Concat(const void* const* inputs, const size_t* axis_dims, size_t num_inputs, void* y,
            size_t elem_size, size_t outer, size_t inner) {
  size_t total_axis = 0;
  for (size_t i = 0; i < num_inputs; ++i) total_axis += axis_dims[i];
  char* yd = static_cast<char*>(y);
  const size_t out_row = total_axis * inner * elem_size;
  for (size_t o = 0; o < outer; ++o) {
    size_t off = 0;
    for (size_t i = 0; i < num_inputs; ++i) {
      const size_t bytes = axis_dims[i] * inner * elem_size;
      if (bytes)
        std::memcpy(yd + o * out_row + off, static_cast<const char*>(inputs[i]) + o * bytes, bytes);
      off += bytes;
    }
  }
}

void Split(const void* x, void* const* outputs, const size_t* axis_dims, size_t num_outputs,
           size_t elem_size, size_t outer, size_t inner) {
  size_t total_axis = 0;
  for (size_t i = 0; i < num_outputs; ++i) total_axis += axis_dims[i];
  const char* xs = static_cast<const char*>(x);
  const size_t in_row = total_axis * inner * elem_size;
  for (size_t o = 0; o < outer; ++o) {
    size_t off = 0;
    for (size_t i = 0; i < num_outputs; ++i) {
      const size_t bytes = axis_dims[i] * inner * elem_size;
      if (bytes && outputs[i])  // an output nobody reads is dropped (null)
        std::memcpy(static_cast<char*>(outputs[i]) + o * bytes, xs + o * in_row + off, bytes);
      off += bytes;
    }
  }
}

namespace {
// Input index for output coordinate o along an axis, or -1 for the constant.
inline int64_t PadSource(int64_t o, int64_t pad_begin, int64_t pad_end, int64_t dim, PadMode mode) {
  int64_t i = o - pad_begin;
  if (mode == PadMode::kWrap) {
    // Crop first, then wrap around what is left, [a, b) (as ONNX Runtime does).
    const int64_t a = std::max<int64_t>(0, -pad_begin), b = dim - std::max<int64_t>(0, -pad_end);
    if (i >= a && i < b) return i;
    const int64_t r = (i - a) % (b - a);
    return a + (r < 0 ? r + (b - a) : r);
  }
  if (i >= 0 && i < dim) return i;
  switch (mode) {
    case PadMode::kConstant:
    case PadMode::kWrap:
      return -1;
    case PadMode::kEdge:
      return i < 0 ? 0 : dim - 1;
    case PadMode::kReflect: {
      if (dim == 1) return 0;
      const int64_t period = 2 * (dim - 1);
      i %= period;
      if (i < 0) i += period;
      return i < dim ? i : period - i;
    }
  }
  return -1;
}
}  // namespace

bool Pad(const void* x, void* y, size_t elem_size, size_t rank, const size_t* shape,
         const int64_t* pads, PadMode mode, const void* value) {
  if (rank > kMaxRank || (elem_size > 16 && value == nullptr)) return false;
  int64_t od[kMaxRank];
  size_t total = 1;
  for (size_t i = 0; i < rank; ++i) {
    od[i] = int64_t(shape[i]) + pads[i] + pads[rank + i];
    if (od[i] < 0) return false;
    if (mode != PadMode::kConstant && shape[i] == 0 && od[i] > 0) return false;
    const int64_t kept =
        int64_t(shape[i]) + std::min<int64_t>(0, pads[i]) + std::min<int64_t>(0, pads[rank + i]);
    if (mode == PadMode::kWrap && kept <= 0 && od[i] > 0) return false;  // nothing to wrap
    total *= size_t(od[i]);
  }
  const char* xs = static_cast<const char*>(x);
  char* yd = static_cast<char*>(y);
  char zero[16] = {};
  const char* v = value ? static_cast<const char*>(value) : zero;
  if (total == 0) return true;
  if (rank == 0) {
    CopyElems(xs, yd, 1, elem_size);
    return true;
  }
  size_t xstride[kMaxRank];
  for (size_t i = rank, st = 1; i-- > 0;) xstride[i] = st, st *= shape[i];
  const int64_t n = od[rank - 1], dim = int64_t(shape[rank - 1]), pb = pads[rank - 1],
                pe = pads[2 * rank - 1];
  // Output columns [lo, hi) copy input columns [lo - pb, hi - pb) directly.
  const int64_t lo = std::clamp<int64_t>(pb, 0, n), hi = std::clamp<int64_t>(pb + dim, lo, n);
  const size_t rows = total / size_t(n);
  for (size_t r = 0; r < rows; ++r) {
    char* d = yd + r * size_t(n) * elem_size;
    size_t base = 0, t = r;
    bool constant_row = false;
    for (size_t i = rank - 1; i-- > 0;) {
      const int64_t o = int64_t(t % size_t(od[i]));
      t /= size_t(od[i]);
      const int64_t s = PadSource(o, pads[i], pads[rank + i], int64_t(shape[i]), mode);
      if (s < 0)
        constant_row = true;
      else
        base += size_t(s) * xstride[i];
    }
    if (constant_row) {
      FillElems(d, size_t(n), v, elem_size);
      continue;
    }
    const char* s = xs + base * elem_size;
    auto edge = [&](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t src = PadSource(j, pb, pe, dim, mode);
        std::memcpy(d + j * elem_size, src < 0 ? v : s + src * elem_size, elem_size);
      }
    };
    if (mode == PadMode::kConstant) {
      FillElems(d, size_t(lo), v, elem_size);
      FillElems(d + hi * elem_size, size_t(n - hi), v, elem_size);
    } else {
      edge(0, lo);
      edge(hi, n);
    }
    if (hi > lo)
      CopyElems(s + (lo - pb) * elem_size, d + lo * elem_size, size_t(hi - lo), elem_size);
  }
  return true;
}

}  // namespace onnxrun::kernels
