"""Distributed image classification on Dask (docs/PYTHON.md, "Dask").

    from distributed import Client
    import onnxrun.dask
    client = Client("tcp://scheduler:8786")          # or LocalCluster(...), dask-jobqueue, ...
    df = onnxrun.dask.classify(paths, "resnet50.onnx", top=5)   # a lazy Dask DataFrame
    df.compute()                                     # or classify(..., output="out.csv")

Each worker process loads the session once (a module-level cache keyed by model path and
threads) and reuses it for every partition it is given; the model file must be readable at the
same path on every worker (a shared file system, or the same image on every node).
"""
import os
import threading

import dask
import dask.bag as db
import dask.dataframe as dd
import numpy as np
import pandas as pd

import onnxrun

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")

_lock = threading.Lock()
_sessions = {}  # (model path, threads) -> InferenceSession, in this (worker) process
_loads = 0


def session(model, threads=1):
    """The process's session for `model` with `threads` threads, loaded on first use."""
    global _loads
    key = (model, int(threads))
    with _lock:
        sess = _sessions.get(key)
        if sess is None:
            options = onnxrun.SessionOptions()
            options.intra_op_num_threads = int(threads)
            sess = onnxrun.InferenceSession(model, options)
            _sessions[key] = sess
            _loads += 1
    return sess


def cache_info():
    """{'pid', 'sessions', 'loads'} of this process's session cache (client.run(cache_info))."""
    return {"pid": os.getpid(), "sessions": len(_sessions), "loads": _loads}


def _load_here(model, threads):
    session(model, threads)
    return cache_info()


def preload(model, threads=1, client=None):
    """Loads the session on every worker of `client` (default: the current one) now, so that the
    first partitions do not pay for it; returns each worker's cache_info()."""
    import distributed
    client = client if client is not None else distributed.get_client()
    return client.run(_load_here, os.path.abspath(os.fspath(model)), int(threads))


def list_images(source):
    """Image paths from a directory (walked recursively, JPEG/PNG by extension, sorted), a text
    file with one path per line, or '-' (the same on stdin)."""
    if source == "-":
        import sys
        return [line.strip() for line in sys.stdin if line.strip()]
    if os.path.isdir(source):
        found = []
        for root, _, files in os.walk(source):
            found += [os.path.join(root, f) for f in files
                      if f.lower().endswith(IMAGE_EXTENSIONS)]
        return sorted(found)
    with open(source, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def columns(top):
    """The result columns and dtypes: those of the CLI's `--format csv` (image, index1, label1,
    probability1, ..., error), so that both outputs compare column by column."""
    cols = {"image": "object"}
    for r in range(1, top + 1):
        cols[f"index{r}"] = "int64"
        cols[f"label{r}"] = "object"
        cols[f"probability{r}"] = "float64"
    cols["error"] = "object"
    return cols


def _frame(results, top):
    cols = columns(top)
    rows = []
    for res in results:
        row = {"image": res["path"], "error": res["error"]}
        for r in range(top):
            have = r < len(res["indices"])
            row[f"index{r + 1}"] = res["indices"][r] if have else -1
            row[f"label{r + 1}"] = res["labels"][r] if have else ""
            row[f"probability{r + 1}"] = res["probabilities"][r] if have else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=list(cols)).astype(cols)


def classify_partition(paths, model, top=5, preset=None, size=None, threads=1):
    """One partition: the cached session classifies `paths`; a pandas DataFrame with one row per
    image (image, index_r, label_r, probability_r for r = 1..top, error)."""
    paths = list(paths)
    results = session(model, threads).classify(paths, top=top, preset=preset, size=size) \
        if paths else []
    return _frame(results, top)


def classify(paths_or_bag, model, top=5, preset=None, size=None, threads=1, partition_size=64,
             output=None):
    """Classifies every image of `paths_or_bag` (a list of paths, a directory, or a dask.bag of
    paths) with `model` on the current Dask client's workers. Returns a lazy Dask DataFrame in
    input order, or, with `output`, writes it to that CSV file and returns the path.
    `threads` is the session's intra-op threads per worker process (1 for single-threaded
    workers); `partition_size` the images per task."""
    model = os.path.abspath(os.fspath(model))
    if isinstance(paths_or_bag, db.Bag):
        bag = paths_or_bag
    else:
        if isinstance(paths_or_bag, (str, os.PathLike)):
            paths = list_images(os.fspath(paths_or_bag))
        else:
            paths = [os.fspath(p) for p in paths_or_bag]
        bag = db.from_sequence(paths, partition_size=max(1, int(partition_size)))
    part = dask.delayed(classify_partition, pure=True)
    parts = [part(p, model, int(top), preset, size, int(threads)) for p in bag.to_delayed()]
    df = dd.from_delayed(parts, meta=_frame([], int(top)), verify_meta=False)
    if output is None:
        return df
    df.to_csv(os.fspath(output), single_file=True, index=False)
    return os.fspath(output)
