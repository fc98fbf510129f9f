"""onnxrun.dask on a LocalCluster of 2 single-threaded worker processes: the same classes as one
session in this process, each worker loading the model once, CSV output and the entry point."""
import os
import subprocess
import sys

import pandas as pd
import pytest

import onnxrun
from conftest import make_images, model_dir

distributed = pytest.importorskip("distributed")
import onnxrun.dask as od  # noqa: E402

TOP = 5


@pytest.fixture(scope="module")
def model():
    return os.path.join(model_dir("squeezenet1_1_op13"), "model.onnx")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    paths = make_images(str(folder), 24)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return paths + [str(folder / "broken.png")]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def expected(model, paths):
    options = onnxrun.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxrun.InferenceSession(model, options).classify(paths, top=TOP)


def check_frame(frame, want, rel=1e-6):
    assert list(frame["image"]) == [w["path"] for w in want]
    for (_, row), w in zip(frame.iterrows(), want):
        if w["error"] is not None:
            assert row["error"] == w["error"]
            continue
        assert pd.isna(row["error"])
        assert [row[f"index{r}"] for r in range(1, TOP + 1)] == w["indices"]
        assert [row[f"label{r}"] for r in range(1, TOP + 1)] == w["labels"]
        assert [row[f"probability{r}"] for r in range(1, TOP + 1)] == pytest.approx(
            w["probabilities"], rel=rel)


def test_dask_classify_equals_one_session(client, model, images):
    df = od.classify(images, model, top=TOP, partition_size=5)
    assert df.npartitions == 5
    frame = df.compute()
    check_frame(frame, expected(model, images))
    # Each worker process loaded the session once and reused it for every partition it ran.
    info = client.run(od.cache_info)
    assert len(info) == 2
    assert all(i["loads"] <= 1 and i["sessions"] <= 1 for i in info.values()), info
    assert sum(i["loads"] for i in info.values()) >= 1
    # Again: no worker loads again.
    od.classify(images, model, top=TOP, partition_size=5).compute()
    assert client.run(od.cache_info) == info


def test_dask_csv_and_bag(client, model, images, tmp_path):
    import dask.bag as db
    out = od.classify(db.from_sequence(images, npartitions=3), model, top=TOP,
                      output=tmp_path / "out.csv")
    frame = pd.read_csv(out)
    assert len(frame) == len(images)
    check_frame(frame, expected(model, images))


def test_entry_point(model, images, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(images[:6]) + "\n")
    out = tmp_path / "cli.csv"
    run = subprocess.run([sys.executable, "-m", "onnxrun.dask", model, str(listing), "--workers",
                          "2", "--partition-size", "2", "--output", str(out)],
                         capture_output=True, text=True, check=False, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "6 images (0 failed)" in run.stderr
    check_frame(pd.read_csv(out), expected(model, images[:6]))


def test_dask_equals_cli(client, model, images, tmp_path):
    """The CLI's batch classification (`onnxrun MODEL IMAGE... --format csv`) and onnxrun.dask give
    the same columns, classes and labels, probabilities to the CLI's 6 decimals."""
    cli = os.environ.get("ONNXRUN_CLI", "")
    if not os.path.isfile(cli):
        pytest.skip("ONNXRUN_CLI not set (ctest sets it)")
    run = subprocess.run([cli, model, *images, "--format", "csv", "--top", str(TOP)],
                         capture_output=True, text=True, check=False, timeout=600)
    assert run.returncode == 1, run.stderr  # the broken image fails, the rest go on
    (tmp_path / "cli.csv").write_text(run.stdout)
    by_cli = pd.read_csv(tmp_path / "cli.csv")
    by_dask = od.classify(images, model, top=TOP, partition_size=5).compute().reset_index(
        drop=True)
    assert list(by_cli.columns) == list(by_dask.columns)
    ok = by_cli["error"].isna().to_numpy()
    assert list(ok) == list(by_dask["error"].isna()) and ok.sum() == len(images) - 1
    for col in by_cli.columns:
        if col.startswith(("index", "label")) or col == "image":
            assert list(by_cli[col][ok]) == list(by_dask[col][ok]), col
        elif col.startswith("probability"):
            assert list(by_cli[col][ok]) == pytest.approx(list(by_dask[col][ok]), abs=6e-7), col
