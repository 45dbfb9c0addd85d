#!/usr/bin/env python3
"""checkprop <-> PyTorch, both ways, checked numerically.

1. torch -> checkprop: builds a torch.nn.Sequential (Linear, Tanh, ReLU, LayerNorm, Sigmoid, GELU
   when this checkprop has it), saves its state_dict (F32, and F64 and BF16 copies) and a batch,
   runs `checkprop import-torch` and `checkprop grad --loss mse-mean`, and compares the gradients
   with torch's autograd of nn.MSELoss() in float32 and float64.
2. checkprop -> torch: trains a small checkprop model (`train --blocks 0`), runs `checkprop
   export-torch --inputs --outputs`, loads the state_dict into the nn.Sequential it names with
   load_state_dict(strict=True), and compares model.eval()(x) with checkprop's outputs; and exports
   the model imported in 1, which must give back the original state_dict bit for bit.

Tolerances (float32 rounding; the two libraries sum in different orders):
  gradients: every element within 1e-5 x the largest |element| of its tensor of torch's float32
             autograd, and checkprop within the same bound of float64 autograd;
  loss:      relative 1e-6;
  outputs:   within 1e-5 x the largest |output|.
The measured figures are printed; the last line is `torch_roundtrip: OK ...` or the script exits 1.

Usage, from the repository root after `mvn -B -q package -DskipTests`:
  /usr/bin/python3 python/torch_roundtrip.py
  /usr/bin/python3 python/torch_roundtrip.py --checkprop "java --add-modules jdk.incubator.vector -jar target/checkprop.jar"
Needs torch and numpy (Debian: apt-get install python3-torch python3-numpy). safetensors is used
when installed; otherwise a small writer and reader of the format in this file stand in for it.
"""

import argparse
import copy
import json
import os
import shlex
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn

try:  # the real library when it is there
    from safetensors.torch import load_file, save_file
    SAFETENSORS = "safetensors " + __import__("safetensors").__version__
except ImportError:  # the format is simple: 8-byte little-endian header length, JSON header, raw bytes
    SAFETENSORS = "the script's own safetensors writer (safetensors is not installed)"

    _DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
               torch.int64: "I64", torch.int32: "I32"}
    _NUMPY = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}

    def _raw(t):
        t = t.detach().contiguous().cpu()
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16: its bits as int16
            return t.view(torch.int16).numpy().tobytes()
        return t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()

    def save_file(tensors, filename, metadata=None):
        header, blobs, offset = {}, [], 0
        if metadata:
            header["__metadata__"] = dict(metadata)
        for name in sorted(tensors):
            t = tensors[name]
            raw = _raw(t)
            header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
            blobs.append(raw)
            offset += len(raw)
        h = json.dumps(header, separators=(",", ":")).encode("utf-8")
        h += b" " * (-len(h) % 8)
        with open(filename, "wb") as f:
            f.write(struct.pack("<Q", len(h)))
            f.write(h)
            for raw in blobs:
                f.write(raw)

    def load_file(filename):
        with open(filename, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            data = f.read()
        out = {}
        for name, e in header.items():
            if name == "__metadata__":
                continue
            b, end = e["data_offsets"]
            if e["dtype"] == "BF16":
                a = np.frombuffer(data[b:end], dtype="<i2").copy()
                out[name] = torch.from_numpy(a).view(torch.bfloat16).reshape(e["shape"])
            else:
                a = np.frombuffer(data[b:end], dtype=np.dtype(_NUMPY[e["dtype"]]).newbyteorder("<")).copy()
                out[name] = torch.from_numpy(a.astype(a.dtype.newbyteorder("="))).reshape(e["shape"])
        return out


def metadata_of(filename):
    with open(filename, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)).get("__metadata__", {})


GRAD_TOL = 1e-5
LOSS_TOL = 1e-6
OUT_TOL = 1e-5


class Run:
    def __init__(self, checkprop, workdir):
        self.checkprop = checkprop
        self.dir = workdir
        self.failures = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def cli(self, *args, expect_ok=True):
        cmd = self.checkprop + [str(a) for a in args]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if expect_ok and p.returncode != 0:
            raise SystemExit("checkprop %s failed (exit %d):\n%s%s" % (args[0], p.returncode, p.stdout, p.stderr))
        return p

    def check(self, ok, what):
        print(("  ok    " if ok else "  FAIL  ") + what)
        if not ok:
            self.failures.append(what)


def gelu_supported(run):
    """Whether this checkprop has GELU: import-torch names it when it has not."""
    probe = run.path("probe.safetensors")
    save_file({"0.weight": torch.zeros(1, 1), "0.bias": torch.zeros(1)}, probe)
    p = run.cli("import-torch", "--state-dict", probe, "--arch", "linear:gelu", "--out", run.path("probe-model.safetensors"),
                expect_ok=False)
    if p.returncode == 0:
        return True
    if "gelu is not supported by this version" in p.stderr:
        return False
    raise SystemExit("import-torch probe failed unexpectedly:\n" + p.stderr)


def torch_to_checkprop(run, gelu):
    print("torch -> checkprop: gradients of nn.MSELoss() (checkprop loss mse-mean)")
    torch.manual_seed(0)
    modules = [nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.LayerNorm(16), nn.Linear(16, 12), nn.Sigmoid(),
               nn.Linear(12, 12)]
    arch = "linear:tanh,linear:relu,layernorm,linear:sigmoid,linear"
    if gelu:
        modules.append(nn.GELU())
        arch += ":gelu"
    modules.append(nn.Linear(12, 4))
    arch += ",linear"
    model = nn.Sequential(*modules)
    with torch.no_grad():  # LayerNorm's gamma and beta away from 1 and 0, so that both are exercised
        model[4].weight.uniform_(0.5, 1.5)
        model[4].bias.uniform_(-0.2, 0.2)
    x = torch.randn(32, 6)
    y = torch.randn(32, 4)

    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    save_file(state, run.path("state.safetensors"))
    save_file({k: v.double() for k, v in state.items()}, run.path("state64.safetensors"))
    save_file({k: v.bfloat16() for k, v in state.items()}, run.path("state16.safetensors"))
    save_file({"x": x, "y": y}, run.path("data.safetensors"))

    p = run.cli("import-torch", "--state-dict", run.path("state.safetensors"), "--arch", arch,
                "--out", run.path("model.safetensors"), "--report", run.path("import.json"))
    print("  " + p.stdout.strip().replace("\n", "\n  "))
    names = json.load(open(run.path("import.json")))["tensors"]  # checkprop name -> torch key
    run.cli("grad", "--model", run.path("model.safetensors"), "--data", run.path("data.safetensors"),
            "--loss", "mse-mean", "--out", run.path("grad.safetensors"), "--threads", "1")
    grads = load_file(run.path("grad.safetensors"))
    loss_cp = float(metadata_of(run.path("grad.safetensors"))["loss"])

    model.zero_grad()
    loss32 = nn.MSELoss()(model(x), y)
    loss32.backward()
    g32 = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
    m64 = copy.deepcopy(model).double()  # the same weights, in float64
    m64.zero_grad()
    loss64 = nn.MSELoss()(m64(x.double()), y.double())
    loss64.backward()
    g64 = {k: p.grad.detach().clone() for k, p in m64.named_parameters()}

    run.check(sorted(names.values()) == sorted(g32), "gradient file covers every parameter: %s" % sorted(names.values()))
    worst = worst_rel = worst64 = worst_torch64 = 0.0
    for cp_name, key in names.items():
        g = grads[cp_name].double()
        t32, t64 = g32[key].double(), g64[key]
        scale = max(float(t32.abs().max()), 1e-30)
        d = float((g - t32).abs().max())
        d64 = float((g - t64).abs().max())
        worst = max(worst, d)
        worst_rel = max(worst_rel, d / scale)
        worst64 = max(worst64, d64 / scale)
        worst_torch64 = max(worst_torch64, float((t32 - t64).abs().max()) / scale)
        run.check(d <= GRAD_TOL * scale and d64 <= GRAD_TOL * scale,
                  "%-16s = torch %-9s %-12s max |diff| %.2e vs float32 autograd, %.2e vs float64 (largest |g| %.2e)"
                  % (cp_name, key, list(g.shape), d, d64, scale))
    run.check(abs(loss_cp - float(loss64)) <= LOSS_TOL * float(loss64),
              "loss %.9g = torch nn.MSELoss() %.9g (float64 %.9g)" % (loss_cp, float(loss32), float(loss64)))
    print("  max gradient difference %.3e (%.2e of its tensor's largest element) vs torch float32; %.2e vs float64,"
          " where torch float32 itself is %.2e" % (worst, worst_rel, worst64, worst_torch64))

    # The same weights as F64 convert back to the same floats; as BF16 they are rounded, and say so.
    p = run.cli("import-torch", "--state-dict", run.path("state64.safetensors"), "--arch", arch,
                "--out", run.path("model64.safetensors"))
    n = len(state)
    run.check(("converted %d tensors from f64 to f32" % n) in p.stdout, "F64 state_dict: '%s'" % p.stdout.splitlines()[0])
    run.check(open(run.path("model64.safetensors"), "rb").read() == open(run.path("model.safetensors"), "rb").read(),
              "F64 state_dict gives the F32 one's model file byte for byte")
    p = run.cli("import-torch", "--state-dict", run.path("state16.safetensors"), "--arch", arch,
                "--out", run.path("model16.safetensors"))
    run.check(("converted %d tensors from bf16 to f32" % n) in p.stdout, "BF16 state_dict: '%s'" % p.stdout.splitlines()[0])
    m16 = load_file(run.path("model16.safetensors"))
    same = all(torch.equal(m16[cp], state[key].bfloat16().float()) for cp, key in names.items())
    run.check(same, "BF16 weights arrive as exactly their float values")

    # Back again: the imported model exported is the original state_dict, bit for bit.
    p = run.cli("export-torch", "--model", run.path("model.safetensors"), "--out", run.path("back.safetensors"))
    back = load_file(run.path("back.safetensors"))
    run.check(sorted(back) == sorted(state) and all(torch.equal(back[k], state[k]) for k in state),
              "export-torch of the imported model = the original state_dict, bit for bit")
    canonical = json.load(open(run.path("import.json")))["architecture"]  # e.g. linear*2 for linear,linear
    meta = metadata_of(run.path("back.safetensors"))
    run.check(meta.get("checkprop.architecture") == canonical,
              "architecture in its metadata: %s (given as %s)" % (meta.get("checkprop.architecture"), arch))
    return worst, worst_rel


def checkprop_to_torch(run):
    print("checkprop -> torch: a trained checkprop model's outputs in torch")
    p = run.cli("train", "--task", "spirals", "--samples", "400", "--blocks", "0", "--width", "32", "--activation", "tanh",
                "--epochs", "5", "--lr", "1e-2", "--batch", "32", "--plan", "full", "--no-progress", "--save", run.path("trained.safetensors"))
    print("  " + p.stdout.strip().splitlines()[-1])
    x = torch.rand(64, 2) * 2 - 1
    save_file({"x": x}, run.path("inputs.safetensors"))
    p = run.cli("export-torch", "--model", run.path("trained.safetensors"), "--out", run.path("trained-torch.safetensors"),
                "--inputs", run.path("inputs.safetensors"), "--outputs", run.path("outputs.safetensors"))
    print("  " + p.stdout.strip().replace("\n", "\n  "))
    expression = metadata_of(run.path("trained-torch.safetensors"))["checkprop.torch"]
    model = eval(expression, {"nn": nn})
    model.load_state_dict(load_file(run.path("trained-torch.safetensors")), strict=True)
    model.eval()
    with torch.no_grad():
        out = model(x)
    ref = load_file(run.path("outputs.safetensors"))
    run.check(torch.equal(ref["x"], x), "the outputs file holds the same x")
    d = float((out - ref["outputs"]).abs().max())
    scale = float(ref["outputs"].abs().max())
    run.check(d <= OUT_TOL * scale, "%s: outputs [64, %d] max |diff| %.2e (largest |output| %.2e)"
              % (expression, out.shape[1], d, scale))
    return d


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkprop", default="java --add-modules jdk.incubator.vector -Dcheckprop.warmup=false"
                        " -jar target/checkprop.jar", help="the command that runs checkprop (default: %(default)s)")
    parser.add_argument("--workdir", help="folder for the files (default: a temporary one, removed)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("torch %s, %s" % (torch.__version__, SAFETENSORS))
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(shlex.split(args.checkprop), args.workdir or tmp)
        gelu = gelu_supported(run)
        print("GELU: " + ("supported" if gelu else "not supported by this checkprop: the network has none"))
        worst, worst_rel = torch_to_checkprop(run, gelu)
        out = checkprop_to_torch(run)
    if run.failures:
        print("torch_roundtrip: FAILED: " + "; ".join(run.failures))
        return 1
    print("torch_roundtrip: OK: max gradient difference %.3e (relative %.2e, tolerance %.0e), outputs %.3e, gelu %s"
          % (worst, worst_rel, GRAD_TOL, out, "yes" if gelu else "no"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
