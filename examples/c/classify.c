/* Classifies one input tensor with an ONNX model through the C API, printing the top-5 classes.
 *   classify MODEL.onnx INPUT.pb      (INPUT.pb: a serialized TensorProto, e.g. test_data_set_0)
 * Build against an installed onnxrun: cc classify.c $(pkg-config --cflags --libs onnxrun) */
#include <stdio.h>

#include "onnxrun/onnxrun_c.h"

static int fail(onnxrun_status* status) {
  fprintf(stderr, "error: %s\n", onnxrun_status_message(status));
  onnxrun_status_free(status);
  return 1;
}

int main(int argc, char** argv) {
  onnxrun_session* session = NULL;
  onnxrun_tensor *input = NULL, *output = NULL;
  onnxrun_status* status;
  if (argc != 3) {
    fprintf(stderr, "usage: classify MODEL.onnx INPUT.pb\n");
    return 2;
  }
  if ((status = onnxrun_session_load(argv[1], NULL, &session))) return fail(status);
  status = onnxrun_tensor_read_file(argv[2], &input);
  if (!status) {
    const char* in_name = onnxrun_session_input_name(session, 0);
    const char* out_name = onnxrun_session_output_name(session, 0); /* the first output only */
    const onnxrun_tensor* inputs[1] = {input};
    status = onnxrun_session_run(session, 1, &in_name, inputs, 1, &out_name, &output);
  }
  if (!status) {
    const float* scores = onnxrun_tensor_const_data(output);
    size_t n = onnxrun_tensor_element_count(output), top[5], k = 0, i, r;
    for (i = 0; i < n && scores; ++i) { /* insertion into the sorted top-k */
      for (r = k < 5 ? k++ : 5; r > 0 && scores[top[r - 1]] < scores[i]; --r)
        if (r < 5) top[r] = top[r - 1];
      if (r < 5) top[r] = i;
    }
    for (r = 0; r < k; ++r) printf("%zu  %zu  %g\n", r + 1, top[r], scores[top[r]]);
  }
  onnxrun_tensor_free(output);
  onnxrun_tensor_free(input);
  onnxrun_session_free(session);
  return status ? fail(status) : 0;
}
