#!/usr/bin/python3
"""Times one PyTorch training step of a checkprop model, for compare.py.

Loads the model and the batch that `checkprop init` wrote (safetensors, read here with NumPy so no
`safetensors` package is needed), builds the same network as torch.nn.Sequential(Linear, Tanh, ...),
and times `--repeat` steps after `--warmup` untimed ones. A step is what `checkprop grad` times:

    zero_grad(set_to_none=True); out = net(x); loss = sum((out - y)^2) / (2 N); loss.backward()

(the loss is checkprop's MSE, (1/N) sum_i 1/2 |a_i - y_i|^2, so the two loss values can be compared).
`--plan sqrt` runs torch.utils.checkpoint.checkpoint_sequential with round(sqrt(L)) segments; its
re-entrant checkpoint needs an input that requires grad, so x does (one extra input gradient at the
first layer, not counted).

Set OMP_NUM_THREADS / OPENBLAS_NUM_THREADS before starting it (compare.py does); `--threads` also
calls torch.set_num_threads. The last line of stdout is one JSON object with the result.
"""

import argparse
import ctypes
import json
import math
import statistics
import struct
import sys
import time


def read_safetensors(path):
    """Returns ({name: numpy array}, metadata) of a safetensors file (F32, I32 and I64 only)."""
    import numpy as np
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    dtypes = {"F32": np.float32, "I32": np.int32, "I64": np.int64}
    base = 8 + n
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        a = np.frombuffer(raw, dtype=dtypes[t["dtype"]], count=(end - begin) // np.dtype(dtypes[t["dtype"]]).itemsize,
                          offset=base + begin)
        tensors[name] = a.reshape(t["shape"]).copy()
    return tensors, meta


def blas_info():
    """The BLAS library this process has loaded, and OpenBLAS's own description of itself if it is OpenBLAS."""
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if ("blas" in p or "lapack" in p) and p.startswith("/") and p not in libs:
                    libs.append(p)
    except OSError:
        pass
    info = {"libraries": libs}
    for p in libs:
        try:
            lib = ctypes.CDLL(p)
            for fn in ("openblas_get_config", "openblas_get_corename"):
                if hasattr(lib, fn):
                    getattr(lib, fn).restype = ctypes.c_char_p
                    info[fn.replace("openblas_get_", "openblas_")] = getattr(lib, fn)().decode()
            if "openblas_corename" in info:
                break
        except OSError:
            pass
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--plan", default="full", choices=["full", "sqrt"])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--flush-denormal", action="store_true", help="torch.set_flush_denormal(True) (FTZ/DAZ)")
    a = ap.parse_args()

    import numpy as np  # noqa: F401  (read_safetensors)
    import torch
    import torch.nn as nn
    from torch.utils.checkpoint import checkpoint_sequential

    torch.set_num_threads(a.threads)
    flushed = torch.set_flush_denormal(True) if a.flush_denormal else False

    tensors, meta = read_safetensors(a.model)
    layers = []
    depth = 0
    while f"layers.{depth}.weight" in tensors:
        depth += 1
    for i in range(depth):
        w = torch.from_numpy(tensors[f"layers.{i}.weight"])
        b = torch.from_numpy(tensors[f"layers.{i}.bias"])
        lin = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(w)
            lin.bias.copy_(b)
        layers.append(lin)
        act = meta.get(f"layers.{i}.activation", "tanh")
        layers.append({"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "identity": nn.Identity}[act]())
    del tensors
    net = nn.Sequential(*layers)
    data, _ = read_safetensors(a.data)
    x = torch.from_numpy(data["x"])
    y = torch.from_numpy(data["y"])
    n = x.shape[0]
    segments = max(1, round(math.sqrt(depth)))
    if a.plan == "sqrt":
        x.requires_grad_(True)
        # checkpoint_sequential (torch 1.13) splits the 2L modules into segments of 2L // segments;
        # all but the last segment run without storing and are run again in the backward pass.
        recomputed_modules = (len(layers) // segments) * (segments - 1)
        recomputed = sum(1 for m in layers[:recomputed_modules] if isinstance(m, nn.Linear))
    else:
        recomputed = 0

    def step():
        net.zero_grad(set_to_none=True)
        if a.plan == "sqrt":
            out = checkpoint_sequential(net, segments, x)
        else:
            out = net(x)
        loss = (out - y).pow(2).sum() / (2.0 * n)
        loss.backward()
        return loss.item()

    first = None
    for _ in range(a.warmup):
        t = time.perf_counter()
        step()
        if first is None:
            first = time.perf_counter() - t
    missing = [name for name, p in net.named_parameters() if p.grad is None]
    times = []
    loss = float("nan")
    for _ in range(a.repeat):
        t = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t)
    if first is None:
        first = times[0]
    if not missing:
        missing = [name for name, p in net.named_parameters() if p.grad is None]
    result = {
        "plan": a.plan, "layers": depth, "batch": n, "segments": segments if a.plan == "sqrt" else None,
        "recomputed_layers": recomputed, "loss": loss,
        "seconds_per_step_median": statistics.median(times), "seconds_per_step_min": min(times),
        "seconds_first_step": first, "repeat": a.repeat, "warmup": a.warmup,
        "threads": torch.get_num_threads(), "torch": torch.__version__, "flush_denormal": bool(flushed),
        "parameters_without_gradient": len(missing), "blas": blas_info(),
    }
    print(json.dumps(result))
    return 0 if not missing else 3


if __name__ == "__main__":
    sys.exit(main())
