"""python3 -m onnxrun.dask MODEL LIST [--scheduler ADDR | --workers N] [--output CSV] ...

Classifies the images of LIST (a text file with one path per line, a directory, or '-' for
stdin) on a Dask cluster: the scheduler at ADDR, else a LocalCluster of N single-threaded worker
processes. Writes CSV (the CLI's columns: image, index_r, label_r, probability_r, error) to --output
or stdout and a
summary line (images, seconds, images/s) to stderr.
"""
import argparse
import sys
import time

from distributed import Client, LocalCluster

import onnxrun.dask as od


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m onnxrun.dask", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("list", help="file with one image path per line, a directory, or -")
    p.add_argument("--scheduler", help="address of a running scheduler, e.g. tcp://host:8786")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    p.add_argument("--threads-per-worker", type=int, default=1)
    p.add_argument("--session-threads", type=int, default=1, help="intra-op threads per session")
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--preset", choices=["torchvision", "caffe", "gray"])
    p.add_argument("--size", type=int)
    p.add_argument("--partition-size", type=int, default=64)
    p.add_argument("--output", help="CSV file (default: stdout)")
    a = p.parse_args(argv)

    paths = od.list_images(a.list)
    cluster = None
    if not a.scheduler:
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=a.threads_per_worker,
                               processes=True, dashboard_address=None)
    try:
        with Client(a.scheduler or cluster):
            start = time.perf_counter()
            df = od.classify(paths, a.model, top=a.top, preset=a.preset, size=a.size,
                             threads=a.session_threads, partition_size=a.partition_size)
            frame = df.compute()
            seconds = time.perf_counter() - start
    finally:
        if cluster is not None:
            cluster.close()
    frame.to_csv(a.output if a.output else sys.stdout, index=False)
    failed = int(frame["error"].notna().sum())
    print(f"onnxrun.dask: {len(frame)} images ({failed} failed) in {seconds:.2f} s, "
          f"{len(frame) / seconds:.1f} images/s", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
