"""The architectures onnxrun is tested on, the opsets each is exported at, and the CI subset."""
from collections import namedtuple

import torchvision.models as tvm

Arch = namedtuple("Arch", "build input_shape num_classes preprocess notes bn_passes train")
Spec = namedtuple("Spec", "name arch opset")

IMAGENET = (1, 3, 224, 224)
INCEPTION = (1, 3, 299, 299)


def _tv(fn, **kw):
    return lambda: fn(weights=None, **kw)


def _arch(build, shape=IMAGENET, num_classes=1000, preprocess="torchvision", notes=(), bn_passes=6,
          train=None):
    return Arch(build, shape, num_classes, preprocess, tuple(notes), bn_passes, train)


def _lazy(module, fn):
    def build():
        import importlib
        return getattr(importlib.import_module("archs." + module), fn)()
    build.sources = (f"archs/{module}.py",)
    return build


def sources(arch):
    """models/-relative python files an architecture's export depends on, besides the
    common ones (export.py, registry.py, archs/__init__.py)."""
    a = ARCHS[arch]
    extra = getattr(a.build, "sources", ())
    if a.train is not None:
        extra += ("lenet_train.py",)
    return extra


def _train_lenet(model):
    import lenet_train
    return lenet_train.train(model)


# Ordered: the ResNets first, then the rest of torchvision, then models/archs/.
ARCHS = {
    "resnet18": _arch(_tv(tvm.resnet18), notes=["torchvision resnet18, random init"]),
    "resnet34": _arch(_tv(tvm.resnet34), notes=["torchvision resnet34, random init"]),
    "resnet50": _arch(_tv(tvm.resnet50), notes=["torchvision resnet50 (v1.5), random init"]),
    "resnet101": _arch(_tv(tvm.resnet101), bn_passes=5, notes=["torchvision resnet101 (v1.5), random init"]),
    "resnet152": _arch(_tv(tvm.resnet152), bn_passes=4, notes=["torchvision resnet152 (v1.5), random init"]),
    "squeezenet1_0": _arch(_tv(tvm.squeezenet1_0), notes=["torchvision squeezenet1_0, random init"]),
    "squeezenet1_1": _arch(_tv(tvm.squeezenet1_1), notes=["torchvision squeezenet1_1, random init"]),
    "mobilenet_v2": _arch(_tv(tvm.mobilenet_v2), notes=["torchvision mobilenet_v2, random init"]),
    "alexnet": _arch(_tv(tvm.alexnet), notes=["torchvision alexnet, random init"]),
    "vgg16": _arch(_tv(tvm.vgg16), notes=["torchvision vgg16, random init"]),
    "vgg19": _arch(_tv(tvm.vgg19), notes=["torchvision vgg19, random init"]),
    "vgg19_bn": _arch(_tv(tvm.vgg19_bn), bn_passes=4, notes=["torchvision vgg19_bn, random init"]),
    "googlenet": _arch(_tv(tvm.googlenet, aux_logits=False, transform_input=False, init_weights=True),
                       notes=["torchvision googlenet (BN variant), aux_logits=False, transform_input=False, "
                              "init_weights=True"]),
    "inception_v3": _arch(_tv(tvm.inception_v3, aux_logits=False, transform_input=False, init_weights=True),
                          shape=INCEPTION, bn_passes=4,
                          notes=["torchvision inception_v3, aux_logits=False, transform_input=False, "
                                 "init_weights=True"]),
    "wide_resnet50_2": _arch(_tv(tvm.wide_resnet50_2), bn_passes=4,
                             notes=["torchvision wide_resnet50_2, random init"]),
    "resnext50_32x4d": _arch(_tv(tvm.resnext50_32x4d), notes=["torchvision resnext50_32x4d, random init"]),
    "resnext101_32x8d": _arch(_tv(tvm.resnext101_32x8d), bn_passes=4,
                              notes=["torchvision resnext101_32x8d, random init"]),
    "densenet121": _arch(_tv(tvm.densenet121), bn_passes=5, notes=["torchvision densenet121, random init"]),
    "densenet169": _arch(_tv(tvm.densenet169), bn_passes=5, notes=["torchvision densenet169, random init"]),
    "densenet201": _arch(_tv(tvm.densenet201), bn_passes=4, notes=["torchvision densenet201, random init"]),
    "lenet5": _arch(_lazy("lenet5", "lenet5"), shape=(1, 1, 32, 32), num_classes=10, preprocess="gray",
                    train=_train_lenet,
                    notes=["models/archs/lenet5.py (LeCun et al. 1998); trained on sklearn load_digits "
                           "(8x8 upsampled bilinearly to 32x32, pixel/16 in [0,1], white digit on black)"]),
    "nin": _arch(_lazy("nin", "nin"), notes=["models/archs/nin.py (Lin et al. 2013), He init, no BN"]),
    "googlenet_lrn": _arch(_lazy("googlenet_lrn", "googlenet_lrn"),
                           notes=["models/archs/googlenet_lrn.py (Szegedy et al. 2014), LRN, no BN, He init"]),
    "inception_v4": _arch(_lazy("inception_v4", "inception_v4"), shape=INCEPTION, bn_passes=4,
                          notes=["models/archs/inception_v4.py (Szegedy et al. 2016)"]),
    "inception_resnet_v2": _arch(_lazy("inception_v4", "inception_resnet_v2"), shape=INCEPTION, bn_passes=4,
                                 notes=["models/archs/inception_v4.py (Szegedy et al. 2016); residual scales "
                                        "0.17/0.10/0.20; expansion widths 1152/2144 (paper figures say 1154/2048)"]),
    "preact_resnet50": _arch(_lazy("preact_resnet", "preact_resnet50"),
                             notes=["models/archs/preact_resnet.py (He et al. 2016, full pre-activation)"]),
    "densenet_plain": _arch(_lazy("densenet_plain", "densenet_plain"),
                            notes=["models/archs/densenet_plain.py (Huang et al. 2017), no bottleneck, "
                                   "k=32, blocks 4-4-4-4"]),
    "xception": _arch(_lazy("xception", "xception"), shape=INCEPTION, bn_passes=4,
                      notes=["models/archs/xception.py (Chollet 2017)"]),
    "se_resnet50": _arch(_lazy("senet", "se_resnet50"),
                         notes=["models/archs/senet.py (Hu et al. 2018), r=16"]),
    "se_resnext50_32x4d": _arch(_lazy("senet", "se_resnext50_32x4d"),
                                notes=["models/archs/senet.py (Hu et al. 2018), r=16, 32x4d"]),
}

# Architectures also exported at opsets 9 and 17.
MULTI_OPSET = ["resnet50", "densenet121", "googlenet", "inception_v3", "mobilenet_v2",
               "se_resnext50_32x4d", "xception"]

# Fast, representative subset (~100 s on 2 cores). The opsets of one architecture are
# adjacent so the calibrated model is built once and exported three times.
CI_SET = ["resnet18_op13", "resnet50_op13", "resnet50_op9", "resnet50_op17", "squeezenet1_1_op13",
          "mobilenet_v2_op13", "densenet121_op13", "googlenet_op13", "inception_v3_op13", "lenet5_op13",
          # the SE block's fused ChannelScale; pre-activated padded 3x3 convs (direct conv mode)
          "se_resnet50_op13", "densenet_plain_op13"]


def all_models():
    specs = []
    for arch in ARCHS:
        opsets = [13, 9, 17] if arch in MULTI_OPSET else [13]
        specs += [Spec(f"{arch}_op{o}", arch, o) for o in opsets]
    return specs
