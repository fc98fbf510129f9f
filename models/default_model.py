#!/usr/bin/python3
"""The default model of scripts/run_default.sh, with real predictions wherever possible.

    /usr/bin/python3 models/default_model.py --out DIR [--arch resnet50|resnet18]
                                             [--url URL --sha256 PREFIX] [--cache DIR]

Tries, in order:
  1. torchvision's published ImageNet weights for --arch (download over https, or any URL given
     with --url, e.g. file:///path/resnet50-11ad3fa6.pth), verified against the SHA-256 prefix in
     the file name (torchvision's convention) or --sha256, cached in --cache (default
     ~/.cache/onnxrun); exported to DIR/model.onnx with torchvision preprocessing;
  2. the real pretrained SqueezeNet 1.1 in ../shared/models (Caffe preprocessing), linked as
     DIR/model.onnx;
  3. seeded random weights (DIR/model.onnx), with a one-line notice that the classes are
     meaningless and how to get real ones.
Writes DIR/choice.json: {"model", "preset", "source": "download"|"cache"|"shared"|"random", "note"}.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "models", "squeezenet1.1", "model.onnx"))
URLS = {  # torchvision 0.14's ResNet*_Weights.IMAGENET1K_* urls
    "resnet50": "https://download.pytorch.org/models/resnet50-11ad3fa6.pth",
    "resnet18": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def expected_prefix(url, given):
    if given:
        return given.lower()
    stem = os.path.splitext(os.path.basename(url))[0]  # resnet50-11ad3fa6
    return stem.rsplit("-", 1)[-1].lower() if "-" in stem else ""


def fetch_weights(url, prefix, cache):
    """Returns (path, source) of verified weights, or raises with the reason."""
    if not prefix:
        raise RuntimeError(f"no checksum for {url} (give --sha256)")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, os.path.basename(url))
    if os.path.exists(path) and sha256(path).startswith(prefix):
        return path, "cache"
    tmp = path + ".part"
    with urllib.request.urlopen(url, timeout=20) as r, open(tmp, "wb") as f:
        shutil.copyfileobj(r, f)
    digest = sha256(tmp)
    if not digest.startswith(prefix):
        os.remove(tmp)
        raise RuntimeError(f"checksum mismatch for {url}: sha256 {digest[:16]}..., expected {prefix}...")
    os.replace(tmp, path)
    return path, "download"


def export(arch, weights_path, out):
    import torch
    import torchvision.models as tvm
    model = getattr(tvm, arch)()
    if weights_path:
        model.load_state_dict(torch.load(weights_path, map_location="cpu"))
    else:
        torch.manual_seed(0)
    model.eval()
    path = os.path.join(out, "model.onnx")
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--arch", default="resnet50", choices=sorted(URLS))
    ap.add_argument("--url", help="weights URL (default: torchvision's for --arch)")
    ap.add_argument("--sha256", help="expected SHA-256 (prefix) of the weights file")
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "onnxrun"))
    ap.add_argument("--no-shared", action="store_true", help="skip ../shared (tests)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    url = args.url or URLS[args.arch]
    choice = None
    try:
        weights, source = fetch_weights(url, expected_prefix(url, args.sha256), args.cache)
        choice = {"model": export(args.arch, weights, args.out), "preset": "torchvision",
                  "source": source, "note": f"{args.arch} with torchvision's ImageNet weights ({os.path.basename(weights)})"}
    except Exception as e:  # offline, refused, bad checksum, unreadable weights
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"default_model: pretrained {args.arch} weights unavailable ({reason})", file=sys.stderr)
    if choice is None and not args.no_shared and os.path.exists(SHARED):
        link = os.path.join(args.out, "model.onnx")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(SHARED, link)
        choice = {"model": link, "preset": "caffe", "source": "shared",
                  "note": "the real pretrained SqueezeNet 1.1 from ../shared/models"}
    if choice is None:
        choice = {"model": export(args.arch, None, args.out), "preset": "torchvision", "source": "random",
                  "note": f"NOTICE: {args.arch} with random weights: its classes are meaningless. For real "
                          f"predictions, run once with network access (downloads {URLS[args.arch]}) or put "
                          f"the weights file in {args.cache}"}
        print(choice["note"], file=sys.stderr)
    with open(os.path.join(args.out, "choice.json"), "w") as f:
        json.dump(choice, f)
    print(json.dumps(choice))
    return 0


if __name__ == "__main__":
    sys.exit(main())
