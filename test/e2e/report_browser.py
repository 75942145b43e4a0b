"""The optimization report (sinterc --report) in a real browser.

The test compiles the tiny MoE model with --calibrate, --eval and --report.
It loads the page in Debian's chromium, headless, from a file with no
network, and fails if:

- the page logs anything to the console (errors, uncaught exceptions);
- its closing script did not run (it sets data-rendered on <body> to the
  number of plots);
- a plot or a section is missing;
- a figure of the stats or evaluation files is not on the page.

It also saves a screenshot, to --screenshot if given.

Usage: report_browser.py --bin build/bin --work DIR MODEL_DIR [--screenshot PNG]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys


def chromium_command():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("FAIL: chromium is not installed (scripts/setup.sh installs it)")


def browse(browser, work, url, *extra):
    profile = os.path.join(work, "profile")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *extra, url]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        sys.exit(f"FAIL: chromium exited with {result.returncode}\n{result.stderr[-3000:]}")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--screenshot")
    parser.add_argument("model")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    browser = chromium_command()

    stem = os.path.join(args.work, "out", "model")
    page = os.path.join(args.work, "report", "report.html")
    subprocess.run([os.path.join(args.bin, "sinterc"), os.path.join(args.model, "model.onnx"),
                    "--quantize=w8", f"--calibrate={args.model}", f"--eval={args.model}",
                    f"--report={page}", "-o", stem], check=True, capture_output=True)
    stats = json.load(open(stem + ".stats.json"))
    evaluation = json.load(open(stem + ".eval.json"))
    html = open(page).read()
    for forbidden in ("http://", "https://", "<link", "src="):
        if forbidden in html:
            sys.exit(f"FAIL: the page is not self-contained: it has '{forbidden}'")

    result = browse(browser, args.work, "file://" + os.path.abspath(page), "--dump-dom")
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    if console:
        sys.exit("FAIL: the page logged to the console:\n" + "\n".join(console))
    dom = result.stdout
    plots = 1 + (1 if stats["attention"] else 0) + len(stats["routing"])
    rendered = re.search(r'<body data-rendered="(\d+)"', dom)
    if not rendered:
        sys.exit("FAIL: the page's script did not run (no data-rendered on <body>)")
    if int(rendered.group(1)) != plots:
        sys.exit(f"FAIL: {rendered.group(1)} plots rendered, expected {plots}")
    for heading in ("Transformations and their cost", "Activations entering the layers",
                    "Where attention heads look", "Expert usage"):
        if heading not in dom:
            sys.exit(f"FAIL: the rendered page has no section '{heading}'")
    # Figures from the files, as the page prints them.
    figures = [t["name"] for t in stats["tensors"]] + [r["name"] for r in stats["routing"]]
    figures.append("%.4g" % evaluation["outputs"][0]["relative_error"])
    for figure in figures:
        if figure.replace("&", "&amp;") not in dom:
            sys.exit(f"FAIL: '{figure}' is not on the rendered page")
    # One heatmap cell per head and key position.
    cells = sum(a["heads"] * a["keys"] for a in stats["attention"])
    drawn = dom.count(": mean attention ")
    if drawn != cells:
        sys.exit(f"FAIL: {drawn} heatmap cells, expected {cells}")

    shot = args.screenshot or os.path.join(args.work, "report.png")
    browse(browser, args.work, "file://" + os.path.abspath(page), "--hide-scrollbars",
           "--window-size=1200,1500", f"--screenshot={os.path.abspath(shot)}")
    if not os.path.exists(shot) or os.path.getsize(shot) < 10000:
        sys.exit("FAIL: no screenshot")
    print(f"report: {len(html)} bytes, {plots} plots and {cells} heatmap cells rendered by "
          f"{os.path.basename(browser)} without console messages; screenshot {shot}")
    print("PASS")


if __name__ == "__main__":
    main()
