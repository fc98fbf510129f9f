"""Many Python threads on one session: every result bitwise equal to the serial run's."""
import os
import threading

import numpy as np

import onnxrun
from conftest import model_dir

THREADS, RUNS = 8, 4


def check_threads(model, shape, threads_per_run):
    options = onnxrun.SessionOptions()
    options.intra_op_num_threads = threads_per_run
    sess = onnxrun.InferenceSession(os.path.join(model_dir(model), "model.onnx"), options)
    name = sess.get_inputs()[0].name
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal(shape, dtype=np.float32) for _ in range(THREADS * RUNS)]
    serial = [sess.run(None, {name: x})[0] for x in inputs]
    got = [None] * len(inputs)
    errors = []
    start = threading.Barrier(THREADS)

    def work(t):
        start.wait()
        try:
            for k in range(t, len(inputs), THREADS):
                got[k] = sess.run(None, {name: inputs[k]})[0]
        except Exception as e:  # reported below, with the thread
            errors.append(f"thread {t}: {e!r}")

    pool = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for p in pool:
        p.start()
    for p in pool:
        p.join()
    assert not errors, errors
    for k, (a, b) in enumerate(zip(got, serial)):
        np.testing.assert_array_equal(a, b, err_msg=f"run {k}")


def test_threads_squeezenet_single_threaded_runs():
    check_threads("squeezenet1_1_op13", (1, 3, 224, 224), 1)


def test_threads_shared_pool_and_batch_2():
    check_threads("squeezenet1_1_op13", (2, 3, 224, 224), 2)


def test_threads_lenet():
    check_threads("lenet5_op13", (1, 1, 32, 32), 1)
