#!/usr/bin/python3
"""CUDA models run on an emulated GPU, against their reference outputs: the
numerics of the GPU backend checked on a machine without a GPU.

For each model and matmul precision, sinterc --target=cuda compiles the
artifact (host code, embedded PTX) and, with --emit=nvvm, the LLVM IR from
which that PTX is made. The IR is recompiled for this CPU -- each NVVM
intrinsic renamed to its emulation in gpu_emulator.c (special registers,
bar.sync, mma.sync, cvt.rna.tf32), address spaces dropped, and an entry
added per kernel that reads its parameters as the driver passes them --
into a library that the fake driver (fake_cuda_driver.c, FAKE_CUDA_KERNELS)
runs each launch in. sinter-run then runs the artifact unchanged, through
the runtime's CUDA path: device memory, copies, every launch with the grid
the host code computes, and the kernels' results are checked as on a real
GPU (the bars of gpu_models.py). What this does not check is the NVPTX
backend's translation of the same IR to PTX, which ptxas assembles in
e2e-gpu-ptx, and the hardware's own rounding inside mma.sync.

Runs listed in --known-failures ("<model> <precision>: why", one a line)
are run and reported but do not fail the test; one that passes fails it,
so that the list is kept true.

  emulated_gpu.py --bin build/bin --fake-driver libfake_cuda.so
                  --clang clang-22 --work DIR [--precisions ...]
                  [--known-failures FILE] MODEL_DIR...
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gpu_models import PRECISIONS  # noqa: E402

# NVVM intrinsic -> its emulation. The mma intrinsics return a struct of
# four floats, which the C emulation (emu_mma) writes through a pointer
# instead: an IR wrapper per shape (MMA_WRAPPER) adapts the call.
RENAMES = {f"llvm.nvvm.read.ptx.sreg.{reg}.{d}": f"emu_{reg}_{d}"
           for reg in ("tid", "ctaid", "ntid", "nctaid") for d in "xyz"}
RENAMES.update({
    "llvm.nvvm.barrier.cta.sync.aligned.all": "emu_barrier",
    "llvm.nvvm.f2tf32.rna": "emu_f2tf32_rna",
    "llvm.nvvm.mma.m16n8k8.row.col.tf32": "emu_mma_m16n8k8_tf32.ir",
    "llvm.nvvm.mma.m16n8k16.row.col.bf16": "emu_mma_m16n8k16_bf16.ir",
})

MMA_WRAPPER = """
define internal {{ float, float, float, float }} @"{name}.ir"(i32 %a0, i32 %a1, i32 %a2, i32 %a3, i32 %b0, i32 %b1, float %c0, float %c1, float %c2, float %c3) {{
  %d = alloca [4 x float]
  call void @emu_mma(ptr %d, i32 {bf16}, i32 %a0, i32 %a1, i32 %a2, i32 %a3, i32 %b0, i32 %b1, float %c0, float %c1, float %c2, float %c3)
  %p1 = getelementptr float, ptr %d, i64 1
  %p2 = getelementptr float, ptr %d, i64 2
  %p3 = getelementptr float, ptr %d, i64 3
  %d0 = load float, ptr %d
  %d1 = load float, ptr %p1
  %d2 = load float, ptr %p2
  %d3 = load float, ptr %p3
  %r0 = insertvalue {{ float, float, float, float }} poison, float %d0, 0
  %r1 = insertvalue {{ float, float, float, float }} %r0, float %d1, 1
  %r2 = insertvalue {{ float, float, float, float }} %r1, float %d2, 2
  %r3 = insertvalue {{ float, float, float, float }} %r2, float %d3, 3
  ret {{ float, float, float, float }} %r3
}}
"""


def split_parameters(text):
    """'i64 %0, ptr readonly captures(none) %1' -> ['i64 %0', 'ptr ...']:
    commas inside parentheses (captures(none)) do not split."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += c == "("
        depth -= c == ")"
        if c == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


def cpu_ir(nvvm):
    """The kernels' NVVM IR rewritten for the CPU (see the module doc)."""
    lines = []
    entries = []
    for line in nvvm.splitlines():
        if line.startswith(("target datalayout", "target triple")):
            continue
        # The intrinsics' declarations: the emulation declares its own.
        declared = re.match(r"declare .*@(llvm\.nvvm\.[\w.]+)\(", line)
        if declared:
            if declared.group(1) not in RENAMES:
                sys.exit(f"no emulation of {declared.group(1)}")
            continue
        # Function attributes (memory effects, nosync, ...) were inferred
        # for the GPU's intrinsics, not for calls of their emulation.
        if line.startswith("attributes #"):
            line = re.sub(r"\{.*\}", "{ nounwind }", line)
        kernel = re.match(r"define ptx_kernel void @(\w+)\((.*)\)", line)
        if kernel:
            entries.append((kernel.group(1),
                            [p.split()[0] for p in
                             split_parameters(kernel.group(2))]))
            line = line.replace("define ptx_kernel ", "define ")
        line = re.sub(r"addrspace\(\d+\) ?", "", line)
        line = line.replace("addrspacecast", "bitcast")
        line = re.sub(r"@(llvm\.nvvm\.[\w.]+)",
                      lambda m: "@" + (f'"{RENAMES[m.group(1)]}"'
                                       if m.group(1) in RENAMES
                                       else m.group(1)), line)
        lines.append(line)
    text = "\n".join(lines) + "\n"
    leftover = sorted(set(re.findall(r"@(llvm\.nvvm\.[\w.]+)", text)))
    if leftover:
        sys.exit("no emulation of " + ", ".join(leftover))
    for reg in ("tid", "ctaid", "ntid", "nctaid"):
        for d in "xyz":
            text += f"declare i32 @emu_{reg}_{d}()\n"
    text += "declare void @emu_barrier(i32)\n"
    text += "declare i32 @emu_f2tf32_rna(float)\n"
    text += "declare void @emu_mma(ptr, i32, i32, i32, i32, i32, i32, i32, " \
            "float, float, float, float)\n"
    for name, bf16 in (("emu_mma_m16n8k8_tf32", 0),
                       ("emu_mma_m16n8k16_bf16", 1)):
        text += MMA_WRAPPER.format(name=name, bf16=bf16)
    # Each kernel as the driver calls it: parameters[i] points to the i-th.
    for name, types in entries:
        body = []
        arguments = []
        for i, type_ in enumerate(types):
            body.append(f"  %p{i} = getelementptr ptr, ptr %parameters, i64 {i}")
            body.append(f"  %q{i} = load ptr, ptr %p{i}")
            body.append(f"  %v{i} = load {type_}, ptr %q{i}")
            arguments.append(f"{type_} %v{i}")
        text += (f"define void @emu_entry_{name}(ptr %parameters) {{\n"
                 + "\n".join(body) + "\n"
                 f"  call void @{name}({', '.join(arguments)})\n"
                 "  ret void\n}\n")
    return text, len(entries)


def build_kernels(bin_dir, clang, source, flags, stem):
    """The kernels of `source` (a model file sinterc reads, compiled with
    --target=cuda and `flags`) for the emulator: STEM.kernels.so, and what
    was built (or why it was not)."""
    nvvm_path = stem + ".nvvm.ll"
    run = subprocess.run(
        [os.path.join(bin_dir, "sinterc"), source, "--target=cuda", *flags,
         "--emit=nvvm", "-o", nvvm_path], capture_output=True, text=True)
    if run.returncode != 0:
        return None, f"sinterc --emit=nvvm failed: {run.stderr.strip()}"
    with open(nvvm_path) as f:
        text, kernels = cpu_ir(f.read())
    cpu_path = stem + ".cpu.ll"
    with open(cpu_path, "w") as f:
        f.write(text)
    library = stem + ".kernels.so"
    run = subprocess.run(
        [clang, "-O1", "-fPIC", "-shared", "-Wno-override-module",
         cpu_path, os.path.join(HERE, "gpu_emulator.c"), "-o", library],
        capture_output=True, text=True)
    if run.returncode != 0:
        return None, f"clang failed: {run.stderr.strip()[:2000]}"
    return library, f"{kernels} kernels"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--fake-driver", required=True)
    parser.add_argument("--clang", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--precisions", default="fp32,tf32x3,tf32,bf16")
    parser.add_argument("--known-failures")
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    known = {}
    if args.known_failures:
        with open(args.known_failures) as f:
            for line in f:
                line = line.split("#")[0].strip()
                if line:
                    label, why = line.split(":", 1)
                    known[label.strip()] = why.strip()

    failed, runs, expected = [], 0, 0
    for model in args.models:
        name = os.path.basename(os.path.normpath(model))
        for precision in args.precisions.split(","):
            runs += 1
            label = f"{name} {precision}"
            stem = os.path.join(args.work, f"{name}.{precision}")
            library, what = build_kernels(
                args.bin, args.clang, os.path.join(model, "model.onnx"),
                [f"--gpu-matmul-precision={precision}"], stem)
            if not library:
                print(f"FAIL: {label}: {what}")
                failed.append(label)
                continue
            atol, rtol, bar = PRECISIONS[precision]
            env = dict(os.environ, SINTER_CUDA_DRIVER=args.fake_driver,
                       FAKE_CUDA_KERNELS=library)
            run = subprocess.run(
                [sys.executable, os.path.join(HERE, "check_artifact.py"),
                 "--bin", args.bin, "--model", model,
                 "--work", os.path.join(args.work, precision),
                 "--threads", "1", "--atol", str(atol), "--rtol", str(rtol),
                 "--", "--target=cuda", f"--gpu-matmul-precision={precision}"],
                capture_output=True, text=True, env=env)
            output = run.stdout.strip() or run.stderr.strip()
            errors = [float(e) for e in re.findall(
                r"\|out - ref\|/\|ref\| ([0-9.e+-]+)", run.stdout)]
            worst = max(errors, default=float("inf"))
            ok = run.returncode == 0 and worst <= bar
            status = "ok:  " if ok else "FAIL:"
            if label in known:
                status = "now passes, remove it from the known failures:" \
                    if ok else "known failure:"
            print(f"{status} {label} ({what}): worst |out - ref|/|ref| "
                  f"{worst:.3g} (bar {bar:g})" +
                  (f"; {known[label]}" if label in known and not ok else ""))
            if label in known and not ok:
                expected += 1
            elif ok == (label in known):
                if not ok:
                    print(output[-3000:])
                failed.append(label)
    print(f"{runs - len(failed) - expected} passed, {expected} known "
          f"failures, {len(failed)} failed" +
          (": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
