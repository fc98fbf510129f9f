/* onnxrun C API: the C++ API (onnxrun.h) behind opaque handles, usable from C99 and C++.
 *
 *   onnxrun_session* session = NULL;
 *   onnxrun_status* status = onnxrun_session_load("resnet50.onnx", NULL, &session);
 *   if (status) { fprintf(stderr, "%s\n", onnxrun_status_message(status));
 *                 onnxrun_status_free(status); return 1; }
 *   ... onnxrun_tensor_create, fill onnxrun_tensor_data, onnxrun_session_run ...
 *   onnxrun_session_free(session);
 *
 * Errors: every call that can fail returns an onnxrun_status*: NULL on success, else a status the
 * caller frees with onnxrun_status_free (code and message inside). A NULL handle or pointer
 * argument is an error status (ONNXRUN_INVALID_ARGUMENT), never a crash; the getters that return
 * no status return NULL / 0 for a NULL handle or an index out of range. No call throws, aborts or
 * prints.
 *
 * Ownership: a handle made by a *_create or *_load call belongs to the caller, who frees it with
 * the matching *_free (each accepts NULL). Strings and arrays returned by getters belong to the
 * handle they came from and stay valid until it is freed. Data passed in is copied unless the call
 * says it makes a view.
 *
 * Threads: onnxrun_session_run* may be called on one session from any number of threads at once,
 * and so may the session's getters, onnxrun_session_cancel and onnxrun_run_options_set_terminate.
 * Calls that change or free a handle must not overlap other calls on it.
 *
 * Stability: within a major version the API only grows (new functions, new enum values); nothing
 * is removed or changed. docs/API.md says what that means for static and shared linking. */
#ifndef ONNXRUN_ONNXRUN_C_H_
#define ONNXRUN_ONNXRUN_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ONNXRUN_C_EXPORT __attribute__((visibility("default")))
#else
#define ONNXRUN_C_EXPORT
#endif

/* The version this header belongs to; onnxrun_version() gives the library's. */
#define ONNXRUN_VERSION_MAJOR 0
#define ONNXRUN_VERSION_MINOR 1
#define ONNXRUN_VERSION_PATCH 0

typedef struct onnxrun_session onnxrun_session;
typedef struct onnxrun_options onnxrun_options;
typedef struct onnxrun_run_options onnxrun_run_options;
typedef struct onnxrun_tensor onnxrun_tensor;
typedef struct onnxrun_status onnxrun_status;
typedef struct onnxrun_thread_pool onnxrun_thread_pool;

/* Status codes: the values of absl::StatusCode (and of gRPC / Google canonical codes). */
typedef enum onnxrun_status_code {
  ONNXRUN_OK = 0,
  ONNXRUN_CANCELLED = 1,
  ONNXRUN_UNKNOWN = 2,
  ONNXRUN_INVALID_ARGUMENT = 3,
  ONNXRUN_DEADLINE_EXCEEDED = 4,
  ONNXRUN_NOT_FOUND = 5,
  ONNXRUN_ALREADY_EXISTS = 6,
  ONNXRUN_PERMISSION_DENIED = 7,
  ONNXRUN_RESOURCE_EXHAUSTED = 8,
  ONNXRUN_FAILED_PRECONDITION = 9,
  ONNXRUN_ABORTED = 10,
  ONNXRUN_OUT_OF_RANGE = 11,
  ONNXRUN_UNIMPLEMENTED = 12,
  ONNXRUN_INTERNAL = 13,
  ONNXRUN_UNAVAILABLE = 14,
  ONNXRUN_DATA_LOSS = 15,
  ONNXRUN_UNAUTHENTICATED = 16
} onnxrun_status_code;

/* Element types (onnxrun::DataType). Tensors crossing the API are float32 except integer outputs
 * folded to constants at load (e.g. a Shape), which hold int64 values. */
typedef enum onnxrun_element_type {
  ONNXRUN_TYPE_FLOAT32 = 0,
  ONNXRUN_TYPE_INT64 = 1,
  ONNXRUN_TYPE_INT32 = 2,
  ONNXRUN_TYPE_BOOL = 3,
  ONNXRUN_TYPE_FLOAT64 = 4,
  ONNXRUN_TYPE_FLOAT16 = 5,
  ONNXRUN_TYPE_INT8 = 6,
  ONNXRUN_TYPE_UINT8 = 7,
  ONNXRUN_TYPE_UINT64 = 8,
  ONNXRUN_TYPE_BFLOAT16 = 9,
  ONNXRUN_TYPE_STRING = 10,
  ONNXRUN_TYPE_OTHER = 11
} onnxrun_element_type;

/* ---- library ---------------------------------------------------------------------------- */

/* The library's version, e.g. "0.1.0" (static storage). */
ONNXRUN_C_EXPORT const char* onnxrun_version(void);
/* "float32", "int64", ... (static storage; "unknown" for a value outside the enum). */
ONNXRUN_C_EXPORT const char* onnxrun_element_type_name(onnxrun_element_type type);

/* ---- status ----------------------------------------------------------------------------- */

/* The code of `status`; ONNXRUN_OK for NULL (success). */
ONNXRUN_C_EXPORT onnxrun_status_code onnxrun_status_code_of(const onnxrun_status* status);
/* The message (owned by the status); "" for NULL. */
ONNXRUN_C_EXPORT const char* onnxrun_status_message(const onnxrun_status* status);
/* Frees a status returned by any call; NULL is a no-op. */
ONNXRUN_C_EXPORT void onnxrun_status_free(onnxrun_status* status);

/* ---- thread pool ------------------------------------------------------------------------ */

/* A pool of `threads` (>= 1, clamped to the usable CPUs) worker threads that sessions share
 * through onnxrun_options_set_thread_pool. The caller frees the handle; sessions and options that
 * took the pool keep it alive until they are freed themselves. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_thread_pool_create(int threads, onnxrun_thread_pool** out);
/* The pool's thread count after clamping; 0 for NULL. */
ONNXRUN_C_EXPORT int onnxrun_thread_pool_num_threads(const onnxrun_thread_pool* pool);
ONNXRUN_C_EXPORT void onnxrun_thread_pool_free(onnxrun_thread_pool* pool);

/* ---- session options -------------------------------------------------------------------- */

/* Default options (onnxrun::SessionOptions{}); the caller frees them. A load copies the options,
 * which may be changed or freed afterwards. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_options_create(onnxrun_options** out);
ONNXRUN_C_EXPORT void onnxrun_options_free(onnxrun_options* options);
/* Intra-op worker threads (>= 1; 1 runs on the calling thread). Ignored with a thread pool. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_options_set_num_threads(onnxrun_options* options,
                                                                 int threads);
/* Share `pool` (NULL: the session starts its own pool of num_threads). The options keep the
 * pool alive; the caller still frees its own handle. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_options_set_thread_pool(onnxrun_options* options,
                                                                 onnxrun_thread_pool* pool);
/* Run the optimizer's passes (nonzero, the default) or not (0). */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_options_set_optimize(onnxrun_options* options, int enable);
/* Batch size for every input whose first dimension is dynamic (>= 0; 0 = 1). A hint: runs accept
 * other batch sizes. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_options_set_batch_size(onnxrun_options* options,
                                                                int64_t batch_size);
/* The shape (copied) to prepare input `name` for at load, e.g. {1, 3, 320, 256}. A hint: runs
 * accept other shapes the model allows. Setting a name again replaces its shape. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_options_set_input_shape(onnxrun_options* options,
                                                                 const char* name,
                                                                 const int64_t* shape, size_t rank);
/* Input shapes whose plans stay cached at once (>= 1, default 8); least recently used go first. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_options_set_max_cached_shapes(onnxrun_options* options,
                                                                       int count);
/* Time every step of every run (onnxrun_session_profile); off by default. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_options_set_profiling(onnxrun_options* options,
                                                               int enable);

/* ---- tensors ---------------------------------------------------------------------------- */

/* A zero-filled float32 tensor of `shape` (copied; `rank` dims, each >= 0; rank 0 is a scalar,
 * `shape` may then be NULL). The caller frees it. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_tensor_create(const int64_t* shape, size_t rank,
                                                       onnxrun_tensor** out);
/* A float32 tensor over caller memory: `data` holds the product of `shape` floats, row-major, and
 * must stay valid (and, for an input, unchanged) while the tensor is used. Nothing is copied and
 * onnxrun_tensor_free does not free `data`. As a run input it is read in place; passed as an output
 * of onnxrun_session_run_with_options the result is written into `data`. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_tensor_create_view(float* data, const int64_t* shape,
                                                            size_t rank, onnxrun_tensor** out);
/* Same over read-only memory: usable as an input only (onnxrun_tensor_data returns NULL). */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_tensor_create_const_view(const float* data,
                                                                  const int64_t* shape, size_t rank,
                                                                  onnxrun_tensor** out);
/* Reads a serialized onnx.TensorProto file (the ONNX test-data input_K.pb); float64/float16 become
 * float32, integer types int64. The caller frees the tensor. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_tensor_read_file(const char* path, onnxrun_tensor** out);
/* Writable float32 data (owned by the tensor, or the view's memory); NULL for NULL, a non-float
 * tensor or a read-only view. */
ONNXRUN_C_EXPORT float* onnxrun_tensor_data(onnxrun_tensor* tensor);
/* Readable float32 data, also of a read-only view; NULL for NULL or a non-float tensor. */
ONNXRUN_C_EXPORT const float* onnxrun_tensor_const_data(const onnxrun_tensor* tensor);
/* Int64 values of an integer tensor (owned by the tensor); NULL for NULL or a float tensor. */
ONNXRUN_C_EXPORT const int64_t* onnxrun_tensor_int64_data(const onnxrun_tensor* tensor);
/* The dims (owned by the tensor); `*rank` (if `rank` is not NULL) receives their count. NULL
 * with *rank 0 for NULL or a scalar. */
ONNXRUN_C_EXPORT const int64_t* onnxrun_tensor_shape(const onnxrun_tensor* tensor, size_t* rank);
/* The number of elements (product of the dims; 1 for a scalar, 0 for NULL). */
ONNXRUN_C_EXPORT size_t onnxrun_tensor_element_count(const onnxrun_tensor* tensor);
/* ONNXRUN_TYPE_FLOAT32 for NULL. */
ONNXRUN_C_EXPORT onnxrun_element_type onnxrun_tensor_element_type(const onnxrun_tensor* tensor);
/* Nonzero for a tensor over caller memory. */
ONNXRUN_C_EXPORT int onnxrun_tensor_is_view(const onnxrun_tensor* tensor);
ONNXRUN_C_EXPORT void onnxrun_tensor_free(onnxrun_tensor* tensor);

/* ---- session ---------------------------------------------------------------------------- */

/* Loads, optimizes and prepares the model at `path` (options NULL = defaults). On success *out is
 * a session the caller frees; on failure *out is NULL and the status names file, node and op. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_session_load(
    const char* path, const onnxrun_options* options /* NULL = defaults */, onnxrun_session** out);
/* Same from the `size` bytes of a model file at `data` (read during the call only; the caller
 * may free them afterwards). External data is refused. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_session_load_from_memory(const void* data, size_t size,
                                                                  const onnxrun_options* options,
                                                                  onnxrun_session** out);
/* Frees the session; no run may be in progress on it. NULL is a no-op. */
ONNXRUN_C_EXPORT void onnxrun_session_free(onnxrun_session* session);

/* Graph inputs (initializers excluded) and outputs, in graph order. Names, shapes and dim names
 * are owned by the session. Index out of range or NULL session: NULL / 0 / ONNXRUN_TYPE_OTHER. */
ONNXRUN_C_EXPORT size_t onnxrun_session_input_count(const onnxrun_session* session);
ONNXRUN_C_EXPORT const char* onnxrun_session_input_name(const onnxrun_session* session,
                                                        size_t index); /* owned by the session */
ONNXRUN_C_EXPORT onnxrun_element_type onnxrun_session_input_type(const onnxrun_session* session,
                                                                 size_t index);
/* The declared shape: -1 for a dynamic dimension; `*rank` receives the rank. */
ONNXRUN_C_EXPORT const int64_t* onnxrun_session_input_shape(const onnxrun_session* session,
                                                            size_t index, size_t* rank);
/* The symbolic name of dimension `dim` ("batch", "N"), "" for a fixed or unnamed one. */
ONNXRUN_C_EXPORT const char* onnxrun_session_input_dim_name(const onnxrun_session* session,
                                                            size_t index, size_t dim);
/* The shape the session was prepared for at load (dynamic dims from the options, else 1). */
ONNXRUN_C_EXPORT const int64_t* onnxrun_session_input_prepared_shape(const onnxrun_session* session,
                                                                     size_t index, size_t* rank);
ONNXRUN_C_EXPORT size_t onnxrun_session_output_count(const onnxrun_session* session);
ONNXRUN_C_EXPORT const char* onnxrun_session_output_name(const onnxrun_session* session,
                                                         size_t index);
ONNXRUN_C_EXPORT onnxrun_element_type onnxrun_session_output_type(const onnxrun_session* session,
                                                                  size_t index);
ONNXRUN_C_EXPORT const int64_t* onnxrun_session_output_shape(const onnxrun_session* session,
                                                             size_t index, size_t* rank);
ONNXRUN_C_EXPORT const char* onnxrun_session_output_dim_name(const onnxrun_session* session,
                                                             size_t index, size_t dim);
ONNXRUN_C_EXPORT const int64_t* onnxrun_session_output_prepared_shape(
    const onnxrun_session* session, size_t index, size_t* rank);

/* What the model file says about itself; strings owned by the session, "" when absent, NULL for
 * a NULL session. The doc string is the model's, else the graph's. */
ONNXRUN_C_EXPORT const char* onnxrun_session_producer_name(const onnxrun_session* session);
ONNXRUN_C_EXPORT const char* onnxrun_session_producer_version(const onnxrun_session* session);
ONNXRUN_C_EXPORT const char* onnxrun_session_domain(const onnxrun_session* session);
ONNXRUN_C_EXPORT const char* onnxrun_session_graph_name(const onnxrun_session* session);
ONNXRUN_C_EXPORT const char* onnxrun_session_doc_string(const onnxrun_session* session);
ONNXRUN_C_EXPORT int64_t onnxrun_session_model_version(const onnxrun_session* session);
ONNXRUN_C_EXPORT int64_t onnxrun_session_opset(const onnxrun_session* session);
/* The model's metadata_props, sorted by key: count, then key and value by index (NULL out of
 * range), or the value of `key` (NULL when absent). */
ONNXRUN_C_EXPORT size_t onnxrun_session_custom_metadata_count(const onnxrun_session* session);
ONNXRUN_C_EXPORT const char* onnxrun_session_custom_metadata_key(const onnxrun_session* session,
                                                                 size_t index);
ONNXRUN_C_EXPORT const char* onnxrun_session_custom_metadata_value(const onnxrun_session* session,
                                                                   size_t index);
ONNXRUN_C_EXPORT const char* onnxrun_session_custom_metadata_lookup(const onnxrun_session* session,
                                                                    const char* key);

/* The shape output `output_index` has when the inputs have the given shapes (input_shapes[i] with
 * input_ranks[i] dims for input_names[i]; inputs not named keep their prepared shape). Plans that
 * shape if needed. Up to `capacity` dims are written to `shape`; `*rank` receives the rank (a
 * larger rank than `capacity` is ONNXRUN_OUT_OF_RANGE). For sizing caller-provided outputs. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_session_infer_output_shape(
    onnxrun_session* session, size_t n_inputs, const char* const* input_names,
    const int64_t* const* input_shapes, const size_t* input_ranks, size_t output_index,
    int64_t* shape, size_t capacity, size_t* rank);

/* Runs the model: every graph input named once in `input_names`, float32, with a shape the
 * model's declared dims allow (any order). `output_names` selects `n_outputs` outputs by name, in
 * that order; NULL selects all of them in graph order (then `n_outputs` must equal
 * onnxrun_session_output_count). At least one output is requested. On success outputs[i] receives a
 * new tensor the caller frees (whatever the slot held is overwritten, not freed); on failure every
 * outputs[i] is set to NULL. Safe to call from many threads on one session at once. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_session_run(
    onnxrun_session* session, size_t n_inputs, const char* const* input_names,
    const onnxrun_tensor* const* inputs, size_t n_outputs, const char* const* output_names,
    onnxrun_tensor** outputs); /* new tensors the caller frees */

/* Per-run options: a terminate flag another thread may set during the run. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_run_options_create(onnxrun_run_options** out);
/* Nonzero: runs using these options stop between two steps with ONNXRUN_CANCELLED (those in
 * progress and those started while it is set); 0 clears it. Safe from any thread at any time. */
ONNXRUN_C_EXPORT void onnxrun_run_options_set_terminate(onnxrun_run_options* options,
                                                        int terminate);
/* Frees the options; no run may be using them. */
ONNXRUN_C_EXPORT void onnxrun_run_options_free(onnxrun_run_options* options);

/* onnxrun_session_run with run options (NULL = none) and caller-provided outputs, as ONNX
 * Runtime's Run: a slot holding NULL receives a new tensor the caller frees; a slot holding a
 * tensor (a writable view, or a float32 tensor from onnxrun_tensor_create) of exactly the output's
 * shape receives the result in its memory and stays the caller's. A wrong shape is
 * ONNXRUN_INVALID_ARGUMENT naming the output. On failure the slots that held NULL stay NULL. */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_session_run_with_options(
    onnxrun_session* session, const onnxrun_run_options* run_options, size_t n_inputs,
    const char* const* input_names, const onnxrun_tensor* const* inputs, size_t n_outputs,
    const char* const* output_names, onnxrun_tensor** outputs);

/* Stops every run in progress on the session between two of its steps (they return
 * ONNXRUN_CANCELLED); runs started afterwards are not affected. Safe from any thread. */
ONNXRUN_C_EXPORT void onnxrun_session_cancel(onnxrun_session* session);

/* Per-step run times accumulated so far (profiling on), as text the caller frees with
 * onnxrun_string_free: one line per step, "node<TAB>op<TAB>total_ms<TAB>runs". */
ONNXRUN_C_EXPORT onnxrun_status* onnxrun_session_profile(const onnxrun_session* session,
                                                         char** text);
ONNXRUN_C_EXPORT void onnxrun_string_free(char* text);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ONNXRUN_ONNXRUN_C_H_ */
