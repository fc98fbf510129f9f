"""A script written for onnxruntime runs unchanged with `import onnxrun as ort` (ort_script.py)
on every CI model and reproduces the reference outputs within the test tolerance."""
import os
import subprocess
import sys

import pytest

from conftest import ATOL, RTOL, model_dirs

DIRS = model_dirs()
SCRIPT = os.path.join(os.path.dirname(__file__), "ort_script.py")


@pytest.mark.parametrize("path", DIRS, ids=[os.path.basename(d) for d in DIRS])
def test_ort_script(path):
    run = subprocess.run([sys.executable, SCRIPT, path], capture_output=True, text=True,
                         check=False, cwd="/")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == ("providers ['CPUExecutionProvider'] available "
                        "['CPUExecutionProvider']")
    assert lines[-1].startswith("InvalidArgument input '")
    for line in lines[2:-1]:
        name, *_, diff, scale = line.split()
        assert float(diff) <= ATOL + RTOL * float(scale), f"{os.path.basename(path)}: {line}"
