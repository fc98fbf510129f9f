#!/usr/bin/python3
"""Export onnxrun's test models to ONNX, with reference input/output data.

    /usr/bin/python3 models/export.py --out DIR [--set ci|all] [--only a,b] [--list]

For every selected model NAME this writes

    DIR/NAME/model.onnx
    DIR/NAME/test_data_set_0/input_0.pb   seeded N(0,1) input, batch 1
    DIR/NAME/test_data_set_0/output_0.pb  PyTorch eval() logits for that input
    DIR/NAME/meta.json

Weights are random (no pretrained weights offline) but deterministic; batch
norm statistics are re-estimated on random data so activations stay O(1).
LeNet-5 is the exception: it is trained on sklearn's digits and additionally
gets test_data_set_1 (the held-out split as one batch) and digits_labels.txt.

Exports are cached: a model directory is reused when it is complete and its
meta.json records the current script version (hash of the models/ sources).
Each model is written to a temporary directory and renamed into place.
Needs Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14, onnx 1.12).
"""
import argparse
import fcntl
import glob
import hashlib
import json
import os
import shutil
import sys
import time
import traceback
import warnings
import zlib

# Passive OpenMP waiting: spinning threads are much slower on a shared, busy machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    import numpy as np
    import onnx
    import torch
    import torchvision
    from onnx import numpy_helper
    from torch import nn
except ImportError as e:  # pragma: no cover
    sys.exit(f"export.py: error: {e}. Run with Debian's /usr/bin/python3 "
             "(needs torch, torchvision, onnx, numpy, sklearn).")

import registry  # noqa: E402  (models/registry.py)

# Batch 16, not 8: with one thread and batch < 16 torch 1.13 runs un-strided 1x1
# convolutions through the (generic, very slow) BLAS instead of oneDNN.
BN_BATCH = 16


COMMON_SOURCES = ("export.py", "registry.py", "archs/__init__.py")


def script_version(arch):
    """Cache key of one architecture: hash of the models/ python sources its export
    depends on (the common ones plus its own archs/ module or training code)."""
    h = hashlib.sha256()
    for rel in COMMON_SOURCES + tuple(registry.sources(arch)):
        h.update(rel.encode())
        with open(os.path.join(HERE, rel), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def num_threads():
    """ONNXRUN_EXPORT_THREADS, else all cores unless the machine is already busy."""
    env = os.environ.get("ONNXRUN_EXPORT_THREADS")
    if env:
        return max(1, int(env))
    ncpu = os.cpu_count() or 1
    busy = os.getloadavg()[0]
    return max(1, min(ncpu, int(ncpu - busy + 0.5)))


def seed_for(arch):
    """Fixed per-architecture seed (same weights for every opset of an arch)."""
    return zlib.crc32(arch.encode()) & 0x7FFFFFFF


def randomize_bn_affine(model, gen):
    """Give every BatchNorm a random scale in U(0.5, 1) and shift in U(0, 1).

    With torchvision's default (weight 1, bias 0) a random deep BN-ReLU net is
    chaotic in eval mode: each BN-ReLU layer amplifies relative perturbations by
    ~1.2x, so float32 rounding differences grow ~1e4-fold through ResNet-152 or
    Inception-v4 and two correct fp32 runtimes disagree by > 1e-3 on the logits.
    A positive shift keeps most units in ReLU's linear region (like trained
    nets), which brings the fp32-vs-fp64 error back to ~1e-6; random scales also
    make the reference data sensitive to a runtime ignoring BN's affine params.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine]
    with torch.no_grad():
        for m in bns:
            m.weight.uniform_(0.5, 1.0, generator=gen)
            m.bias.uniform_(0.0, 1.0, generator=gen)
    return len(bns)


def recalibrate_batchnorm(model, input_shape, gen, passes):
    """Re-estimate BN running stats as a cumulative average over random batches."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            model(torch.randn((BN_BATCH,) + tuple(input_shape[1:]), generator=gen))
    model.eval()
    return len(bns)


SMALL_LOGITS = 0.1


def rescale_small_logits(model, input_shape, gen):
    """Scale the classifier by a power of two when default init gives tiny logits.

    Nets without batch norm (AlexNet, VGG) have logits of std ~0.01-0.08 with
    torchvision's default init, which makes absolute-tolerance comparisons weak.
    Scaling the last Linear layer (weight and bias) by 2^k multiplies the logits
    exactly by 2^k and changes nothing else. Returns the factor applied.
    """
    last = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not last:
        return 1
    with torch.no_grad():
        std = float(model(torch.randn((4,) + tuple(input_shape[1:]), generator=gen)).std())
        if std >= SMALL_LOGITS or std == 0:
            return 1
        factor = 2.0 ** round(np.log2(1.0 / std))
        last[-1].weight.mul_(factor)
        if last[-1].bias is not None:
            last[-1].bias.mul_(factor)
    return factor


def tensor_pb(array, name):
    t = numpy_helper.from_array(np.ascontiguousarray(array), name)
    return t.SerializeToString()


def write_pb(path, array, name):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(tensor_pb(array, name))


def onnx_export(model, x, path, opset):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, opset_version=opset, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


_PREPARED = {}  # arch -> prepared model; only the most recent arch is kept


def prepare(arch_name):
    """Build, seed, calibrate (or train) an architecture and compute its reference output.

    The result is shared by every opset of the architecture within one run.
    """
    if arch_name in _PREPARED:
        return _PREPARED[arch_name]
    _PREPARED.clear()
    arch = registry.ARCHS[arch_name]
    seed = seed_for(arch_name)
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))
    model = arch.build()
    model.eval()
    notes = list(arch.notes)
    extra = {}
    if arch.train is not None:
        extra = arch.train(model)
    else:
        if randomize_bn_affine(model, torch.Generator().manual_seed(seed + 4)):
            notes.append("BatchNorm affine parameters randomised: weight ~ U(0.5, 1), bias ~ U(0, 1)")
        gen = torch.Generator().manual_seed(seed + 1)
        if recalibrate_batchnorm(model, arch.input_shape, gen, arch.bn_passes):
            notes.append(f"BatchNorm statistics re-estimated on {arch.bn_passes} random N(0,1) "
                         f"batches of {BN_BATCH}")
    model.eval()
    if arch.train is None:
        rescale = rescale_small_logits(model, arch.input_shape, torch.Generator().manual_seed(seed + 3))
        if rescale != 1:
            notes.append(f"final layer weights scaled by {rescale:g} (logits std was < {SMALL_LOGITS} "
                         "with default init)")

    x = torch.randn(tuple(arch.input_shape), generator=torch.Generator().manual_seed(seed + 2))
    with torch.no_grad():
        y = model(x)
        y2 = model(x)
    if not torch.equal(y, y2):
        raise RuntimeError("PyTorch output is not deterministic")
    y_np = y.numpy().astype(np.float32)
    if not np.isfinite(y_np).all():
        raise RuntimeError("reference output has NaN/Inf")
    std = float(y_np.std())
    absmax = float(np.abs(y_np).max())
    if absmax > 1e3 or std < 1e-3:
        raise RuntimeError(f"reference output magnitude is not sane (std {std:.3g}, max |y| {absmax:.3g})")
    _PREPARED[arch_name] = (model, x, y_np, seed, notes, extra, std, absmax)
    return _PREPARED[arch_name]


def export_model(spec, out_dir, version):
    """Export and verify one model into out_dir (a fresh directory)."""
    arch = registry.ARCHS[spec.arch]
    model, x, y_np, seed, notes, extra, std, absmax = prepare(spec.arch)
    notes = list(notes)
    extra = dict(extra)

    # Export at the requested opset; torch 1.13 tops out at 17. If a model can't
    # be exported at the requested opset, fall back to the highest that works
    # and say so (never write a model that claims an opset it is not).
    opset = spec.opset
    model_path = os.path.join(out_dir, "model.onnx")
    errors = []
    while True:
        try:
            onnx_export(model, x, model_path, opset)
            break
        except Exception as e:  # noqa: BLE001
            errors.append(f"opset {opset}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            if opset <= 13 or spec.opset <= 13:
                raise RuntimeError("torch.onnx.export failed: " + "; ".join(errors)) from e
            opset -= 1
    if opset != spec.opset:
        msg = (f"torch {torch.__version__} could not export at opset {spec.opset} "
               f"({'; '.join(errors)}); exported at opset {opset} instead")
        print(f"WARNING: {spec.name}: {msg}", flush=True)
        notes.append(msg)

    m = onnx.load(model_path)
    onnx.checker.check_model(m, full_check=True)
    got_opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0]
    if got_opset != opset:
        raise RuntimeError(f"exported model has opset {got_opset}, expected {opset}")
    in_name = m.graph.input[0].name
    out_name = m.graph.output[0].name
    ops = sorted({n.op_type for n in m.graph.node})
    del m

    ds = os.path.join(out_dir, "test_data_set_0")
    write_pb(os.path.join(ds, "input_0.pb"), x.numpy().astype(np.float32), in_name)
    write_pb(os.path.join(ds, "output_0.pb"), y_np, out_name)

    for i, (xi, yi) in enumerate(extra.pop("extra_data_sets", []), start=1):
        ds = os.path.join(out_dir, f"test_data_set_{i}")
        write_pb(os.path.join(ds, "input_0.pb"), xi, in_name)
        write_pb(os.path.join(ds, "output_0.pb"), yi, out_name)
    for fname, text in extra.pop("extra_files", {}).items():
        with open(os.path.join(out_dir, fname), "w") as f:
            f.write(text)

    meta = {
        "name": spec.name,
        "arch": spec.arch,
        "opset": opset,
        "requested_opset": spec.opset,
        "input_shape": list(arch.input_shape),
        "num_classes": arch.num_classes,
        "params": int(sum(p.numel() for p in model.parameters())),
        "preprocess": arch.preprocess,
        "notes": "; ".join(notes),
        "seed": seed,
        "output_std": round(std, 6),
        "output_absmax": round(absmax, 6),
        "ops": ops,
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "onnx_version": onnx.__version__,
        "script_version": version,
    }
    meta.update(extra)
    return meta, std


def is_complete(model_dir, version):
    need = ["model.onnx", "test_data_set_0/input_0.pb", "test_data_set_0/output_0.pb", "meta.json"]
    if not all(os.path.isfile(os.path.join(model_dir, p)) for p in need):
        return False
    try:
        with open(os.path.join(model_dir, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    return meta.get("script_version") == version and "export_seconds" in meta


def run_one(spec, out_root, version, index, total):
    final = os.path.join(out_root, spec.name)
    prefix = f"[{index}/{total}] {spec.name} ..."
    if is_complete(final, version):
        print(f"{prefix} cached", flush=True)
        return True
    tmp = os.path.join(out_root, f".{spec.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    t0 = time.time()
    try:
        meta, std = export_model(spec, tmp, version)
    except Exception as e:  # noqa: BLE001
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"{prefix} FAILED: {type(e).__name__}: {e}", flush=True)
        traceback.print_exc(file=sys.stderr)
        return False
    dt = time.time() - t0
    meta["export_seconds"] = round(dt, 2)
    with open(os.path.join(tmp, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    old = None
    if os.path.exists(final):
        old = os.path.join(out_root, f".{spec.name}.old-{os.getpid()}")
        os.rename(final, old)
    os.rename(tmp, final)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    extra = f", test acc {meta['test_accuracy']:.3f}" if "test_accuracy" in meta else ""
    print(f"{prefix} exported in {dt:.1f} s (opset {meta['opset']}, {meta['params'] / 1e6:.2f}M params, "
          f"logits std {std:.3g}{extra})", flush=True)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="output directory (required unless --list)")
    ap.add_argument("--set", choices=["ci", "all"], default="ci", help="model set (default: ci)")
    ap.add_argument("--only", help="comma-separated model names (from the all set); overrides --set")
    ap.add_argument("--list", action="store_true", help="print the selected model names and exit")
    args = ap.parse_args(argv)

    all_specs = registry.all_models()
    by_name = {s.name: s for s in all_specs}
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in by_name]
        if unknown:
            ap.error(f"unknown model(s): {', '.join(unknown)} (see --set all --list)")
        specs = [by_name[n] for n in names]
    elif args.set == "all":
        specs = all_specs
    else:
        specs = [by_name[n] for n in registry.CI_SET]

    if args.list:
        for s in specs:
            print(s.name)
        return 0
    if not args.out:
        ap.error("--out is required")

    out_root = os.path.abspath(args.out)
    os.makedirs(out_root, exist_ok=True)
    torch.set_num_threads(num_threads())

    # One export run at a time per output directory.
    lock = open(os.path.join(out_root, ".export.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    for stale in glob.glob(os.path.join(out_root, ".*.tmp-*")) + glob.glob(os.path.join(out_root, ".*.old-*")):
        shutil.rmtree(stale, ignore_errors=True)

    t0 = time.time()
    failed = []
    for i, spec in enumerate(specs, start=1):
        if not run_one(spec, out_root, script_version(spec.arch), i, len(specs)):
            failed.append(spec.name)
    dt = time.time() - t0
    if failed:
        print(f"export.py: error: {len(failed)} of {len(specs)} model(s) failed: {', '.join(failed)}",
              file=sys.stderr, flush=True)
        return 1
    print(f"{len(specs)} model(s) ready in {out_root} ({dt:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
