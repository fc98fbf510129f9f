// RNN, GRU and LSTM (ops/recurrent.cc).
#include <cmath>

#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

// A forward RNN (Tanh) whose Y is omitted: Y_h through a Relu, against the recurrence written out.
TEST(Recurrent, RnnStateMatchesTheRecurrenceWithYOmitted) {
  std::mt19937 rng(7);
  const int64_t seq = 3, batch = 2, isz = 3, hs = 4;
  GraphBuilder b(14);
  auto x = b.Input("x", {seq, batch, isz});
  auto w = b.Weight("w", {1, hs, isz}, rng), r = b.Weight("r", {1, hs, hs}, rng);
  auto bias = b.Weight("bias", {1, 2 * hs}, rng);
  auto rnn = b.Op("RNN", {x, w, r, bias}, 2).Int("hidden_size", hs);
  rnn.proto()->set_output(0, "");  // Y omitted
  b.Output(b.Op("Relu", {rnn.out(1)}));
  const Tensor tx = RandomTensor({seq, batch, isz}, rng);
  auto out = RunModel(b, {}, {{"x", tx}});
  ASSERT_TRUE(out.ok()) << out.status();
  auto init = [&](const std::string& name) {
    for (const auto& t : b.model().graph().initializer())
      if (t.name() == name)
        return std::vector<float>(
            reinterpret_cast<const float*>(t.raw_data().data()),
            reinterpret_cast<const float*>(t.raw_data().data()) + t.raw_data().size() / 4);
    return std::vector<float>{};
  };
  const auto W = init("w"), R = init("r"), B = init("bias");
  for (int64_t bt = 0; bt < batch; ++bt) {
    std::vector<double> h(hs, 0.0), next(hs);
    for (int64_t t = 0; t < seq; ++t) {
      for (int64_t k = 0; k < hs; ++k) {
        double a = B[k] + B[hs + k];
        for (int64_t i = 0; i < isz; ++i)
          a += W[k * isz + i] * tx.values()[(t * batch + bt) * isz + i];
        for (int64_t i = 0; i < hs; ++i) a += R[k * hs + i] * h[i];
        next[k] = std::tanh(a);
      }
      h = next;
    }
    for (int64_t k = 0; k < hs; ++k)
      EXPECT_NEAR((*out)[0].values()[bt * hs + k], std::max(h[k], 0.0), 1e-6);
  }
}

}  // namespace
}  // namespace onnxrun::test
