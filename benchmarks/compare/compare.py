#!/usr/bin/python3
"""checkprop against PyTorch, the same networks back to back: run by benchmarks/compare-torch.sh.

For every shape (width W, batch B, layers L) of the sweep, `checkprop init` writes one seeded model of
L Linear+Tanh layers W -> W and one batch (x, y); then for every plan, `checkprop grad --repeat` and
torch_step.py time a full-batch training step (forward, MSE loss, backward: the gradients of every
weight and bias) of that same model on that same batch, one right after the other. Both print their
loss, so the script checks that they computed the same function.

Counted FLOPs (the same formula for both libraries, each with its own count R of recomputed
layer forwards): 2*W*W*B per layer forward, 4*W*W*B per layer backward (input gradient and weight
gradient), so  flops = 6*W*W*B*L + 2*W*W*B*R.  R = 0 for full; for sqrt, checkprop's R is the
plan's forward evaluations minus L (from grad's report), PyTorch's R is the number of Linear layers
in the checkpointed segments of checkpoint_sequential. Bias, tanh, the loss and PyTorch's extra
input gradient at the first layer under sqrt are O(W*B) per layer and not counted.

Only the Python standard library is needed here; PyTorch is imported by torch_step.py, in a child
process, and if it cannot be imported the PyTorch columns say n/a.
"""

import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)


def ints(s):
    return [int(v) for v in s.split(",") if v.strip()]


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="benchmarks/compare-torch.sh",
        description="Time the same MLP training step in checkprop and in PyTorch, back to back, over a sweep of shapes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--widths", type=ints, default=[64, 128, 256, 512, 1024], help="comma-separated widths W")
    ap.add_argument("--batches", type=ints, default=[64, 256, 1024, 4096], help="comma-separated batch sizes B")
    ap.add_argument("--layers", default="auto",
                    help="comma-separated layer counts L crossed with every W and B, or 'auto': per shape, "
                         "L = --target-gflop / (6 W^2 B) rounded to 2 significant digits, within [--min-layers, --max-layers]")
    ap.add_argument("--shapes", default=None,
                    help="explicit WxBxL list instead of the sweep, e.g. 256x64x1024,1024x1024x16,64x2048x2000")
    ap.add_argument("--target-gflop", type=float, default=32.0, help="FLOPs of one full step for --layers auto")
    ap.add_argument("--min-layers", type=int, default=4)
    ap.add_argument("--max-layers", type=int, default=4096)
    ap.add_argument("--plans", default="full,sqrt", help="comma-separated: full, sqrt")
    ap.add_argument("--repeat", type=int, default=10, help="timed steps per run (median reported)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps before them")
    ap.add_argument("--threads", type=int, default=2, help="threads of both libraries")
    ap.add_argument("--java", default="java", help="the JVM, e.g. /usr/lib/jvm/temurin-25-jdk-amd64/bin/java")
    ap.add_argument("--jvm-args", default="", help="extra JVM options for checkprop, e.g. '-Xmx8g'")
    ap.add_argument("--jar", default=os.path.join(ROOT, "target", "checkprop.jar"), help="the checkprop CLI jar")
    ap.add_argument("--benchmarks-jar", default=os.path.join(BENCH, "target", "benchmarks.jar"),
                    help="JMH jar: Bench04_FmaPeak for the peak, CompareChart for the plot")
    ap.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable,
                    help="the Python that can import torch (Debian's python3-torch: /usr/bin/python3)")
    ap.add_argument("--peak", default=None,
                    help="FMA peak in GFLOP/s instead of measuring it: ONE_CORE[,T_CORES] (T_CORES defaults to "
                         "threads x ONE_CORE)")
    ap.add_argument("--no-torch", action="store_true", help="checkprop side only")
    ap.add_argument("--torch-flush-denormal", action="store_true",
                    help="torch.set_flush_denormal(True) in PyTorch (default: IEEE subnormals, PyTorch's default)")
    ap.add_argument("--out", default=os.path.join(BENCH, "target", "compare", "results.json"),
                    help="results JSON; the CSV, the Markdown table and the PNG plot are written next to it")
    ap.add_argument("--png", default=None, help="plot path (default: --out with .png)")
    ap.add_argument("--no-png", action="store_true")
    ap.add_argument("--list", action="store_true",
                    help="print the sweep (shapes, layers, GFLOP and model size per step) and exit without running it")
    ap.add_argument("--workdir", default=None, help="where models and data go (default: a temporary folder, removed)")
    a = ap.parse_args(argv)
    a.plans = [p.strip() for p in a.plans.split(",") if p.strip()]
    for p in a.plans:
        if p not in ("full", "sqrt"):
            ap.error(f"--plans: {p!r} is not full or sqrt")
    if a.repeat < 1 or a.warmup < 0 or a.threads < 1:
        ap.error("--repeat >= 1, --warmup >= 0 and --threads >= 1")
    return a


def auto_layers(w, b, a):
    per_layer = 6.0 * w * w * b
    l = a.target_gflop * 1e9 / per_layer
    if l >= 10:
        digits = 10 ** (int(math.floor(math.log10(l))) - 1)
        l = round(l / digits) * digits
    return int(min(max(round(l), a.min_layers), a.max_layers))


def shapes(a):
    if a.shapes:
        out = []
        for s in a.shapes.split(","):
            m = re.fullmatch(r"\s*(\d+)x(\d+)x(\d+)\s*", s)
            if not m:
                sys.exit(f"--shapes: {s!r} is not WxBxL")
            out.append(tuple(int(g) for g in m.groups()))
        return out
    out = []
    for w in a.widths:
        for b in a.batches:
            if a.layers == "auto":
                out.append((w, b, auto_layers(w, b, a)))
            else:
                out.extend((w, b, l) for l in ints(a.layers))
    return out


def run(cmd, env=None, check=True):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} exited with {p.returncode}:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return p


def cpu_facts():
    facts = {"model_name": platform.processor() or "unknown"}
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            k, v = k.strip(), v.strip()
            if k == "Model name":
                facts["model_name"] = v
            elif k in ("CPU family", "Model", "CPU(s)", "Vendor ID", "L2 cache", "L3 cache", "Hypervisor vendor"):
                facts[k.lower().replace(" ", "_").replace("(s)", "s")] = v
            elif k == "Flags":
                facts["simd"] = " ".join(f for f in v.split() if f in ("avx2", "fma", "avx512f", "avx512_bf16"))
    except OSError:
        pass
    return facts


def java_version(a):
    p = run([a.java, "-version"], check=False)
    text = (p.stderr or p.stdout).strip()
    version = re.search(r'version "([^"]+)"', text)
    build = re.search(r"Runtime Environment[^(]*\(build ([^)]+)\)", text)
    vendor = re.search(r"^(.*Runtime Environment[^(]*)", text, re.M)
    if not version:
        return text.splitlines()[0] if text else "unknown"
    return version.group(1) + (f" ({vendor.group(1).strip()}, build {build.group(1)})" if build and vendor else "")


def fma_peak(a, threads):
    """Bench04_FmaPeak with `threads` JMH threads (one state each): its GFLOP aux counter, summed over threads."""
    rff = os.path.join(a.workdir, f"fma-peak-{threads}.json")
    cmd = [a.java, "-jar", a.benchmarks_jar, "Bench04_FmaPeak", "-f", "1", "-wi", "2", "-w", "1s", "-i", "3", "-r", "1s",
           "-t", str(threads), "-jvm", shutil.which(a.java) or a.java, "-rf", "json", "-rff", rff]
    print(f"# measuring the FMA peak on {threads} thread(s): {shlex.join(cmd)}", file=sys.stderr, flush=True)
    run(cmd)
    with open(rff) as f:
        res = json.load(f)
    return res[0]["secondaryMetrics"]["GFLOP"]["score"], shlex.join(cmd[:cmd.index("-rff")])


def checkprop(a, model, data, plan, tag):
    grad = os.path.join(a.workdir, f"G-{tag}.safetensors")
    report = os.path.join(a.workdir, f"R-{tag}.json")
    cmd = [a.java, "--add-modules", "jdk.incubator.vector", *shlex.split(a.jvm_args), "-jar", a.jar, "grad",
           "--model", model, "--data", data, "--loss", "mse", "--plan", plan, "--repeat", str(a.repeat),
           "--warmup", str(a.warmup), "--threads", str(a.threads), "--out", grad, "--report", report]
    p = run(cmd, check=False)
    if p.returncode != 0:
        return {"error": (p.stdout + p.stderr).strip().splitlines()[-1:] or ["exit %d" % p.returncode]}
    try:
        with open(report) as f:
            r = json.load(f)
        out = {"median_s": r["seconds_per_step_median"], "min_s": r.get("seconds_per_step_min"),
               "first_timed_s": r.get("seconds"), "loss": r.get("loss"),
               "forward_evaluations": r.get("forward_evaluations"), "kernel": r.get("kernel"),
               "threads": r.get("threads"), "peak_activation_bytes": r.get("peak_activation_bytes")}
    except (OSError, ValueError, KeyError):
        # Older CLI or no report: the console line "..., 0.1234 s per step (median of N; ...)".
        m = re.search(r"loss ([-+0-9.eE]+),\s*(\d+) forward evaluations.*?([0-9.]+) s per step \(median", p.stdout)
        if not m:
            return {"error": ["no report and no 's per step' line in: " + p.stdout.strip()[-300:]]}
        out = {"median_s": float(m.group(3)), "loss": float(m.group(1)), "forward_evaluations": int(m.group(2))}
    for f in (grad, report):
        if os.path.exists(f):
            os.remove(f)
    return out


def torch_env(a):
    env = dict(os.environ)
    t = str(a.threads)
    env.update({"OMP_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OMP_WAIT_POLICY": "PASSIVE",
                # glibc malloc keeps freed blocks instead of returning them to the kernel: PyTorch's best case
                "MALLOC_TRIM_THRESHOLD_": "10000000000", "MALLOC_MMAP_THRESHOLD_": "1000000000"})
    return env


def torch_available(a):
    if a.no_torch:
        return None, "--no-torch"
    p = run([a.python, "-c", "import torch, numpy; print(torch.__version__)"], env=torch_env(a), check=False)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["?"])[-1]
        return None, (f"PyTorch is not importable by {a.python} ({last}); the PyTorch columns say n/a. "
                      "On Debian/Ubuntu: apt-get install python3-torch python3-numpy libopenblas0-pthread "
                      "(and pass --python if torch lives elsewhere)")
    return p.stdout.strip(), None


def torch_step(a, model, data, plan):
    cmd = [a.python, os.path.join(HERE, "torch_step.py"), "--model", model, "--data", data, "--plan", plan,
           "--repeat", str(a.repeat), "--warmup", str(a.warmup), "--threads", str(a.threads)]
    if a.torch_flush_denormal:
        cmd.append("--flush-denormal")
    p = run(cmd, env=torch_env(a), check=False)
    lines = p.stdout.strip().splitlines()
    try:
        r = json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"error": ((p.stderr or p.stdout).strip().splitlines() or ["exit %d" % p.returncode])[-1:]}
    return {"median_s": r["seconds_per_step_median"], "min_s": r["seconds_per_step_min"],
            "first_s": r["seconds_first_step"], "loss": r["loss"], "recomputed_layers": r["recomputed_layers"],
            "segments": r["segments"], "threads": r["threads"], "torch": r["torch"], "blas": r["blas"],
            "parameters_without_gradient": r["parameters_without_gradient"]}


def fmt_s(s):
    if s is None:
        return "n/a"
    if s >= 1:
        return f"{s:.2f} s"
    return f"{s * 1e3:.0f} ms" if s >= 0.1 else f"{s * 1e3:.3g} ms"


def fmt_g(v):
    """GFLOP/s: whole numbers from 10 up, three significant digits below."""
    return "n/a" if v is None else (f"{v:.0f}" if v >= 10 else f"{v:.3g}")


def main(argv):
    a = parse_args(argv)
    for jar, what in ((a.jar, "mvn -B -q install -DskipTests"),):
        if not os.path.exists(jar):
            sys.exit(f"{jar} not found: build it first ({what}, in {ROOT})")
    need_bench = a.peak is None or not a.no_png
    if need_bench and not os.path.exists(a.benchmarks_jar):
        sys.exit(f"{a.benchmarks_jar} not found: build it (mvn -B -q -f benchmarks/pom.xml package -DskipTests), "
                 "or pass --peak GFLOPS and --no-png")
    if a.list:
        print("| width | batch | layers | GFLOP per full step | model file | activations (full) |")
        print("|---|---|---|---|---|---|")
        for (w, b, l) in shapes(a):
            print(f"| {w} | {b} | {l} | {6.0 * w * w * b * l / 1e9:.1f} | {4 * l * (w * w + w) / 2**20:.0f} MiB "
                  f"| {4 * l * w * b / 2**20:.0f} MiB |")
        return 0
    own_workdir = a.workdir is None
    a.workdir = tempfile.mkdtemp(prefix="checkprop-compare-") if own_workdir else a.workdir
    os.makedirs(a.workdir, exist_ok=True)
    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.splitext(os.path.abspath(a.out))[0]
    png = a.png or base + ".png"

    torch_version, torch_why = torch_available(a)
    if torch_why:
        print(f"# {torch_why}", file=sys.stderr, flush=True)
    cpu = cpu_facts()
    jdk = java_version(a)
    t = a.threads
    if a.peak:
        vals = [float(v) for v in a.peak.split(",")]
        peak1 = vals[0]
        peakT = vals[1] if len(vals) > 1 else t * peak1
        peak_source = f"--peak {a.peak}"
    else:
        peak1, cmd1 = fma_peak(a, 1)
        peakT, _ = fma_peak(a, t) if t > 1 else (peak1, cmd1)
        peak_source = f"Bench04_FmaPeak (16 chains of FloatVector.SPECIES_PREFERRED FMAs, no memory traffic), -t 1 and -t {t}: {cmd1}"

    sweep = shapes(a)
    print(f"# {len(sweep)} shapes x {len(a.plans)} plans; each run: {a.warmup} warm-up + {a.repeat} timed steps, "
          f"{t} threads", file=sys.stderr, flush=True)
    rows = []
    blas = None
    try:
        for (w, b, l) in sweep:
            tag = f"{w}x{b}x{l}"
            model = os.path.join(a.workdir, f"M-{tag}.safetensors")
            data = os.path.join(a.workdir, f"D-{tag}.safetensors")
            run([a.java, "--add-modules", "jdk.incubator.vector", *shlex.split(a.jvm_args), "-jar", a.jar, "init", "--input", str(w),
                 "--layers", str(l), "--width", str(w), "--output", str(w), "--output-activation", "tanh",
                 "--out", model, "--data", data, "--batch", str(b), "--loss", "mse"])
            unit = 2.0 * w * w * b  # FLOPs of one layer's forward product
            for plan in a.plans:
                cp = checkprop(a, model, data, plan, tag)
                tp = torch_step(a, model, data, plan) if torch_version else {"error": ["n/a"]}
                row = {"width": w, "batch": b, "layers": l, "plan": plan}
                for side, r in (("checkprop", cp), ("torch", tp)):
                    if "error" in r:
                        row[side] = {"error": " ".join(r["error"])}
                        continue
                    recomputed = (r["forward_evaluations"] - l) if side == "checkprop" else r["recomputed_layers"]
                    flops = 3 * unit * l + unit * recomputed
                    r.update({"recomputed_layers": recomputed, "gflop": flops / 1e9,
                              "gflops": flops / 1e9 / r["median_s"]})
                    r["pct_peak_1core"] = 100 * r["gflops"] / peak1
                    r[f"pct_peak_{t}cores"] = 100 * r["gflops"] / peakT
                    row[side] = r
                    if side == "torch":
                        blas = r.pop("blas")
                c, p = row["checkprop"], row["torch"]
                row["ratio"] = c["median_s"] / p["median_s"] if "median_s" in c and "median_s" in p else None
                if "loss" in c and "loss" in p:
                    row["loss_rel_diff"] = abs(c["loss"] - p["loss"]) / max(abs(p["loss"]), 1e-30)
                rows.append(row)
                print(f"# {tag} {plan}: checkprop {fmt_s(c.get('median_s'))}"
                      f"{' (' + c['error'] + ')' if 'error' in c else ''}, PyTorch {fmt_s(p.get('median_s'))}"
                      f"{' (' + p['error'] + ')' if 'error' in p and torch_version else ''}", file=sys.stderr, flush=True)
            for f in (model, data):
                os.remove(f)
    finally:
        if own_workdir:
            shutil.rmtree(a.workdir, ignore_errors=True)

    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "benchmarks/compare-torch.sh " + shlex.join(argv),
        "cpu": cpu, "jdk": jdk, "java": a.java, "jvm_args": a.jvm_args, "threads": t,
        "repeat": a.repeat, "warmup": a.warmup,
        "torch": torch_version, "torch_note": torch_why, "blas": blas,
        "torch_flush_denormal": a.torch_flush_denormal,
        "peak_gflops_1core": peak1, f"peak_gflops_{t}cores": peakT, "peak_threads": t, "peak_source": peak_source,
        "flops": "6*W*W*B*L + 2*W*W*B*R (R = recomputed layer forwards, each library its own)",
    }
    md = markdown(meta, rows, t)
    print(md)
    with open(a.out, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    with open(base + ".md", "w") as f:
        f.write(md + "\n")
    write_csv(base + ".csv", rows, t)
    written = [a.out, base + ".csv", base + ".md"]
    if not a.no_png:
        p = run([a.java, "-Djava.awt.headless=true", "-cp", a.benchmarks_jar, "dev.checkprop.bench.CompareChart",
                 a.out, png], check=False)
        if p.returncode == 0:
            written.append(png)
        else:
            print(f"# the plot failed: {(p.stderr or p.stdout).strip()[-500:]}", file=sys.stderr)
    print(f"# wrote {', '.join(written)}", file=sys.stderr)
    bad = [r for r in rows if r.get("loss_rel_diff") is not None and r["loss_rel_diff"] > 1e-3]
    if bad:
        print(f"# WARNING: checkprop's and PyTorch's losses differ by more than 1e-3 (relative) on {len(bad)} runs: "
              "not the same computation?", file=sys.stderr)
    return 0


def markdown(meta, rows, t):
    cpu = meta["cpu"]
    out = [f"checkprop vs PyTorch, {meta['date']}: `{meta['command']}`", "",
           f"- CPU: {cpu.get('model_name')} (family {cpu.get('cpu_family', '?')}, model {cpu.get('model', '?')}, "
           f"{cpu.get('cpus', '?')} CPUs, {cpu.get('simd', '')}{', ' + cpu['hypervisor_vendor'] + ' guest' if 'hypervisor_vendor' in cpu else ''})",
           f"- JDK: {meta['jdk']} (`{meta['java']}`{' ' + meta['jvm_args'] if meta['jvm_args'] else ''})",
           f"- PyTorch: {meta['torch'] or 'n/a (' + (meta['torch_note'] or '') + ')'}"
           + (f", BLAS {meta['blas'].get('openblas_config', ', '.join(meta['blas'].get('libraries', [])))}"
              if meta.get("blas") else "")
           + (", flush denormal" if meta["torch_flush_denormal"] else ""),
           f"- {t} threads each; median of {meta['repeat']} steps after {meta['warmup']} warm-up steps; "
           "one step = forward + MSE + backward (all weight and bias gradients)",
           f"- FMA peak: {meta['peak_gflops_1core']:.0f} GFLOP/s on one core, {meta[f'peak_gflops_{t}cores']:.0f} on {t} "
           f"({meta['peak_source']})",
           f"- GFLOP per step = {meta['flops']}; ratio = checkprop step / PyTorch step", "",
           f"| width | batch | layers | plan | checkprop step | PyTorch step | ratio | checkprop GFLOP/s "
           f"| % of 1-core / {t}-core peak | PyTorch GFLOP/s | % of 1-core / {t}-core peak |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c, p = r["checkprop"], r["torch"]

        def pct(s):
            return "n/a" if "gflops" not in s else f"{s['pct_peak_1core']:.0f}% / {s[f'pct_peak_{t}cores']:.0f}%"
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}"
        out.append(f"| {r['width']} | {r['batch']} | {r['layers']} | `{r['plan']}` | "
                   f"{fmt_s(c.get('median_s')) if 'error' not in c else 'failed'} | "
                   f"{fmt_s(p.get('median_s'))} | {ratio} | {fmt_g(c.get('gflops'))} | {pct(c)} | "
                   f"{fmt_g(p.get('gflops'))} | {pct(p)} |")
    errors = [(r, s) for r in rows for s in ("checkprop", "torch")
              if "error" in r[s] and r[s]["error"] != "n/a"]
    for r, s in errors:
        out.append(f"\n{s} failed on {r['width']}x{r['batch']}x{r['layers']} {r['plan']}: {r[s]['error']}")
    out.append("")
    out.extend(summary(rows, t))
    return "\n".join(out)


def summary(rows, t):
    """Where the sweep stands against issue 11's targets: ratio <= 0.8 everywhere; >= 50% of the
    t-core peak at W >= 256 and B >= 256."""
    lines = []
    paired = [r for r in rows if r.get("ratio") is not None]
    if paired:
        ok = [r for r in paired if r["ratio"] <= 0.8]
        worst = max(paired, key=lambda r: r["ratio"])
        lines.append(f"- checkprop step <= 0.8x PyTorch's on {len(ok)} of {len(paired)} runs; worst ratio "
                     f"{worst['ratio']:.2f} ({worst['width']}x{worst['batch']}, {worst['layers']} layers, {worst['plan']})")
    big = [r for r in rows if r["width"] >= 256 and r["batch"] >= 256 and "gflops" in r["checkprop"]]
    if big:
        key = f"pct_peak_{t}cores"
        ok = [r for r in big if r["checkprop"][key] >= 50]
        low = min(big, key=lambda r: r["checkprop"][key])
        lines.append(f"- at width >= 256 and batch >= 256, checkprop reaches >= 50% of the {t}-core peak on {len(ok)} "
                     f"of {len(big)} runs; lowest {low['checkprop'][key]:.0f}% ({low['width']}x{low['batch']}, {low['plan']})")
    diff = [r for r in rows if r.get("loss_rel_diff") is not None]
    if diff:
        lines.append(f"- losses agree between the libraries to {max(r['loss_rel_diff'] for r in diff):.1e} (relative, worst run)")
    return lines


def write_csv(path, rows, t):
    cols = ["width", "batch", "layers", "plan", "ratio", "loss_rel_diff"]
    side_cols = ["median_s", "min_s", "gflop", "gflops", "pct_peak_1core", f"pct_peak_{t}cores", "recomputed_layers",
                 "loss", "error"]
    with open(path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(cols + [f"{s}_{c}" for s in ("checkprop", "torch") for c in side_cols])
        for r in rows:
            wr.writerow([r.get(c) for c in cols] + [r[s].get(c) for s in ("checkprop", "torch") for c in side_cols])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
