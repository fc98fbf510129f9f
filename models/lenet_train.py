"""Train LeNet-5 (models/archs/lenet5.py) on sklearn's 8x8 digits, upsampled to 32x32.

The held-out split is exported as test_data_set_1 (one batch [N,1,32,32] with
PyTorch's logits) plus digits_labels.txt (true labels, one per line).
"""
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SPLIT_SEED = 0
TEST_FRACTION = 0.25
EPOCHS = 8
BATCH = 32


def digits_32x32():
    d = load_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)          # [N,1,8,8] in [0,1]
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False).clamp_(0, 1)
    return x.numpy(), d.target.astype(np.int64)


def train(model):
    x, y = digits_32x32()
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED,
                                              stratify=y)
    x_tr, y_tr = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    x_te_t = torch.from_numpy(x_te)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(1234)
    model.train()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(x_tr), generator=gen)
        for i in range(0, len(perm), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            F.cross_entropy(model(x_tr[idx]), y_tr[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        logits = model(x_te_t).numpy().astype(np.float32)
    acc = float((logits.argmax(1) == y_te).mean())
    if acc < 0.9:
        raise RuntimeError(f"LeNet-5 test accuracy {acc:.3f} < 0.9")
    return {
        "test_accuracy": round(acc, 6),
        "test_set": {"data_set": "test_data_set_1", "labels": "digits_labels.txt", "count": int(len(y_te)),
                     "source": "sklearn.datasets.load_digits", "split": f"{TEST_FRACTION:.0%} held out, "
                     f"stratified, random_state={SPLIT_SEED}", "train_count": int(len(y_tr)),
                     "epochs": EPOCHS},
        "extra_data_sets": [(x_te.astype(np.float32), logits)],
        "extra_files": {"digits_labels.txt": "".join(f"{int(v)}\n" for v in y_te)},
    }
