#!/usr/bin/python3
"""Checks that fma_peak.c's timed loop issues every FMA its rate counts.

The probe's figure is the denominator of every "% of FMA peak" in bench/;
a compiler that folds one of its chains away (GCC 12 did: one chain started
at the fixed point of its recurrence) makes the peak read high and every
kernel look slower. Compiles the probe to assembly for each x86 target it
can be built for and counts the packed-single FMAs in it against the
chains. Exits 77 (skipped) off x86.

  bench/limits/check_fma_probe.py [--cc cc]
"""
import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, "fma_peak.c")
# The targets the bench meets: this CPU, AVX2 + FMA, AVX-512.
TARGETS = ["native", "x86-64-v3", "x86-64-v4"]


def chains():
    with open(PROBE) as f:
        return int(re.search(r"kChains = (\d+)", f.read()).group(1))


def packed_fmas(cc, target, work):
    asm = os.path.join(work, target + ".s")
    subprocess.run([cc, "-O3", "-march=" + target, "-S", PROBE, "-o", asm], check=True)
    with open(asm) as f:
        return len(re.findall(r"^\s*vfn?m(?:add|sub)\d{3}ps\b", f.read(), re.M))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cc", default="cc")
    args = parser.parse_args()
    if platform.machine() not in ("x86_64", "AMD64"):
        print("check_fma_probe: not an x86 machine; skipped")
        return 77
    wanted = chains()
    failed = False
    with tempfile.TemporaryDirectory() as work:
        for target in TARGETS:
            found = packed_fmas(args.cc, target, work)
            print(f"-march={target}: {found} packed FMAs for {wanted} chains")
            # A multiple, should the loop ever be unrolled; fewer is a loss.
            failed |= found == 0 or found % wanted != 0
    if failed:
        print("check_fma_probe: the probe's loop does not issue one FMA per chain; "
              "its GFLOP/s would be wrong", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
