// Tests for ops/attributes.cc: attributes are checked against each op's schema before any op code
// runs (prepare.cc), through the real loader and Session: wrong types, unknown attributes, flags
// other than 0/1 and auto_pad with explicit pads are refused by name; valid attributes load.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

// LRN's alpha as an int and Gemm's alpha as a string reached `.value()` at lowering before.
TEST(CheckAttributes, WrongTypesNameNodeOpAttributeAndBothTypes) {
  std::mt19937 rng(3);
  GraphBuilder b;
  auto x = b.Input("x", {1, 4, 3, 3});
  b.Output(b.Op("LRN", {x}, 1, "lrn").Int("size", 3).Int("alpha", 2));
  b.Output(b.Op("Gemm", {b.Input("a", {2, 4}), b.Weight("w", {4, 3}, rng)}, 1, "gemm")
               .Str("alpha", "x"));
  b.Output(b.Op("Softmax", {x}, 1, "sm").Float("axis", 1.f));
  ExpectLoadRefused(
      b, {"3 invalid attributes", "node 'lrn' (LRN): attribute 'alpha' is an int, expected a float",
          "node 'gemm' (Gemm): attribute 'alpha' is a string, expected a float",
          "node 'sm' (Softmax): attribute 'axis' is a float, expected an int"});
}

TEST(CheckAttributes, UnknownAttribute) {
  GraphBuilder b;
  b.Output(b.Op("Relu", {b.Input("x", {1, 4})}, 1, "r").Float("alpha", 0.1f));
  ExpectLoadRefused(b, {"node 'r' (Relu): attribute 'alpha' is not an attribute of Relu"});
}

TEST(CheckAttributes, KeepdimsOtherThanZeroOrOne) {
  GraphBuilder b(13);
  b.Output(b.Op("ReduceMean", {b.Input("x", {1, 4, 2, 2})}, 1, "m")
               .Ints("axes", {2, 3})
               .Int("keepdims", 2));
  ExpectLoadRefused(b, {"node 'm' (ReduceMean): attribute 'keepdims' is 2; it must be 0 or 1"});
}

TEST(CheckAttributes, AutoPadWithExplicitPads) {
  GraphBuilder b;
  b.Output(b.Op("MaxPool", {b.Input("x", {1, 2, 5, 5})}, 1, "mp")
               .Ints("kernel_shape", {3, 3})
               .Str("auto_pad", "SAME_UPPER")
               .Ints("pads", {1, 1, 1, 1}));
  ExpectLoadRefused(b, {"node 'mp' (MaxPool): attribute 'auto_pad' is 'SAME_UPPER' but 'pads' are "
                        "given explicitly"});
}

// An op used in an opset that predates it (ONNX Runtime refuses such models: no kernel for the
// op at that opset) is refused naming node, op, the opset imported and the one that introduced it.
TEST(CheckOpset, OpBeforeTheOpsetThatIntroducedIt) {
  GraphBuilder b(13);
  auto x = b.Input("x", {1, 4, 2, 2});
  b.Output(b.Op("HardSwish", {x}, 1, "hs"));
  b.Output(b.Op("Gelu", {x}, 1, "g"));
  ExpectLoadRefused(b, {"2 ops used before the opset that introduced them",
                        "node 'hs' (HardSwish): HardSwish first appears in opset 14; the model "
                        "imports opset 13",
                        "node 'g' (Gelu): Gelu first appears in opset 20"});
  GraphBuilder ok(14);
  ok.Output(ok.Op("HardSwish", {ok.Input("x", {1, 4, 2, 2})}, 1, "hs"));
  auto s = LoadSession(ok);
  EXPECT_TRUE(s.ok()) << s.status();
}

// Valid attributes load: zero pads with auto_pad, flags 0 and 1, lists and floats.
TEST(CheckAttributes, ValidAttributesLoad) {
  std::mt19937 rng(4);
  GraphBuilder b(13);
  auto pool = b.Op("MaxPool", {b.Input("x", {1, 2, 5, 5})})
                  .Ints("kernel_shape", {3, 3})
                  .Str("auto_pad", "SAME_UPPER")
                  .Ints("pads", {0, 0, 0, 0});
  auto mean = b.Op("ReduceMean", {pool}).Ints("axes", {2, 3}).Int("keepdims", 0);
  b.Output(b.Op("Gemm", {mean, b.Weight("w", {2, 3}, rng)}).Float("alpha", 0.5f).Int("transA", 0));
  const auto session = LoadSession(b);
  EXPECT_TRUE(session.ok()) << session.status();
}

}  // namespace
}  // namespace onnxrun::test
