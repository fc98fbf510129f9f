#!/usr/bin/env python3
"""onnxrun.dask throughput with 1 vs 2 single-threaded worker processes on a LocalCluster, on
N images generated from ../shared/images (random crops and sizes, JPEG, into the build tree).
Rounds alternate 1, 2, 1, 2, ... workers; each round starts a fresh cluster, warms every worker
(one session load each, not timed), then times classify(...).compute() of all images. The
results of every round are checked equal to one in-process session's.

    PYTHONPATH=build/python /usr/bin/python3 tools/bench/python/dask_scaling.py \
        build/models/squeezenet1_1_op13/model.onnx [--images 1000] [--rounds 2]
"""
import argparse
import os
import random
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def make_images(src_dir, out_dir, count):
    from PIL import Image
    os.makedirs(out_dir, exist_ok=True)
    sources = sorted(os.path.join(src_dir, f) for f in os.listdir(src_dir)
                     if f.lower().endswith((".jpg", ".jpeg", ".png")))
    photos = [Image.open(s).convert("RGB") for s in sources]
    rng = random.Random(1)
    paths = []
    for k in range(count):
        path = os.path.join(out_dir, f"img_{k:05d}.jpg")
        paths.append(path)
        if os.path.exists(path):
            continue
        img = photos[k % len(photos)]
        w, h = img.size
        f = rng.uniform(0.5, 1.0)
        cw, ch = int(w * f), int(h * f)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        side = rng.randint(240, 640)
        img.crop((x, y, x + cw, y + ch)).resize((side, side * ch // max(cw, 1) or 1)).save(
            path, quality=90)
    return paths


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--partition-size", type=int, default=50)
    p.add_argument("--shared", default=os.path.join(REPO, "..", "shared", "images"))
    p.add_argument("--out", default=os.path.join(REPO, "build", "bench", "dask_images"))
    a = p.parse_args()

    from distributed import Client, LocalCluster
    import onnxrun
    import onnxrun.dask as od

    paths = make_images(a.shared, a.out, a.images)
    model = os.path.abspath(a.model)
    options = onnxrun.SessionOptions()
    options.intra_op_num_threads = 1
    t = time.perf_counter()
    want = onnxrun.InferenceSession(model, options).classify(paths, top=5)
    print(f"one in-process session: {len(paths) / (time.perf_counter() - t):.1f} images/s",
          flush=True)
    cli = os.path.join(REPO, "build", "onnxrun")
    if os.path.isfile(cli):  # the CLI's batch classification of the same images
        import io
        import subprocess
        import pandas as pd
        out = subprocess.run([cli, model, *paths, "--format", "csv", "--top", "5"],
                             capture_output=True, text=True, check=True).stdout
        by_cli = pd.read_csv(io.StringIO(out))
        same_cli = all(list(by_cli.iloc[i][[f"index{k}" for k in range(1, 6)]]) ==
                       want[i]["indices"] for i in range(len(want)))
        print(f"CLI batch top-5 equal to one session: {same_cli}", flush=True)
    rates = {1: [], 2: []}
    for r in range(a.rounds):
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                od.preload(model, 1, client)  # one load per worker, not timed
                cpu0 = sum(client.run(time.process_time).values())
                own0 = time.process_time()  # this process: client and scheduler
                t = time.perf_counter()
                frame = od.classify(paths, model, top=5,
                                    partition_size=a.partition_size).compute()
                seconds = time.perf_counter() - t
                own = time.process_time() - own0
                cpu = sum(client.run(time.process_time).values()) - cpu0  # workers' CPU time
            same = (list(frame["index1"]) == [w["indices"][0] for w in want] and
                    all(list(frame.iloc[i][[f"index{k}" for k in range(1, 6)]]) ==
                        want[i]["indices"] for i in range(len(want))))
            rates[workers].append(len(paths) / seconds)
            print(f"round {r + 1} workers {workers}: {seconds:.2f} s, "
                  f"{rates[workers][-1]:.1f} images/s, workers' CPU {cpu:.2f} s "
                  f"({cpu / seconds:.2f} CPUs busy), client+scheduler CPU {own:.2f} s, "
                  f"top-5 equal to one session: {same}",
                  flush=True)
            if not same:
                return 1
    m1, m2 = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"median images/s: 1 worker {m1:.1f}, 2 workers {m2:.1f}, ratio {m2 / m1:.2f}")
    b1, b2 = max(rates[1]), max(rates[2])  # the quietest round of each
    print(f"best images/s: 1 worker {b1:.1f}, 2 workers {b2:.1f}, ratio {b2 / b1:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
