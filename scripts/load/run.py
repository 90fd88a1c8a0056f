"""The service's load benchmark: wrk against ``recommender serve --workers 2``.

    python scripts/load/run.py MODEL_DIR [--corpus ARTICLES.jsonl.gz] [--duration 60]
        [--threads 2] [--connections 16] [--workers 2] [--port 8800]
        [--runs related,explain,text,reload,writes] [--json FILE]

Serves a copy of MODEL_DIR (the runs change it) and runs, each for ``--duration`` seconds,
``wrk -t THREADS -c CONNECTIONS -d DURATION --latency -s scripts/load/related.lua``:

- ``related``: ``GET /articles/{id}/related?k=5``, ids drawn at random from the model's;
- ``explain``: the same with ``&explain=true``;
- ``text``: ``POST /related?k=5`` with the texts of 500 random articles of ``--corpus``;
- ``reload``: ``related`` while, half-way, a model retrained on ``--corpus`` (trained
  before the run) is saved into the served folder, as ``recommender train --out`` swaps
  one in, and ``POST /admin/reload`` is called: every worker moves to it, and no request
  may fail (``--corpus`` must then be the model's own corpus: the ids asked for are the
  model's);
- ``writes`` (not wrk): ``POST /articles`` of 1,000 new articles (texts of ``--corpus``
  under new ids), then ``DELETE /articles/{id}`` of 20 of them, each timed.

For each wrk run it prints requests/s, the p50 and p99 latencies, and the errors: socket
errors and timeouts (wrk's own count) and answers outside 2xx (counted by the Lua script).
wrk is Debian's ``wrk`` (``apt-get install wrk``). The server and wrk share the machine's
cores, as the figures in BENCHMARKS.md do.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

LUA = Path(__file__).with_name("related.lua")
RUNS = ("related", "explain", "text", "reload", "writes")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def main(argv=None) -> int:
    args = parse(argv)
    if shutil.which("wrk") is None:
        print("run.py: error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    unknown = sorted(set(runs) - set(RUNS))
    if unknown:
        print(f"run.py: error: unknown runs {unknown}: choose among {','.join(RUNS)}",
              file=sys.stderr)
        return 2
    if {"text", "writes"} & set(runs) and not args.corpus:
        print("run.py: error: the text and writes runs need --corpus", file=sys.stderr)
        return 2
    from recommender import ArticleRecommender

    results = {}
    with tempfile.TemporaryDirectory(prefix="recommender-load-") as work:
        work = Path(work)
        served, spare = work / "model", work / "spare"
        shutil.copytree(args.model, served)
        if "reload" in runs:
            make_spare(args, spare)
        ids = ArticleRecommender.load(served, verify=False).ids_.tolist()
        (work / "ids.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
        texts = sample_texts(args.corpus, 1_500) if args.corpus else []
        with open(work / "texts.txt", "w", encoding="utf-8") as fh:
            for text in texts[:500]:
                fh.write(json.dumps({k: text.get(k) for k in ("title", "heading", "body",
                                                                "published", "category")},
                                    ensure_ascii=False) + "\n")
        token = secrets.token_urlsafe(24)
        server = start_server(served, args, token)
        try:
            url = f"http://127.0.0.1:{args.port}"
            wrk(args, url, "related", work / "ids.txt", duration=5)  # warm both workers
            for run in runs:
                if run in ("related", "explain"):
                    results[run] = wrk(args, url, run, work / "ids.txt")
                elif run == "text":
                    results[run] = wrk(args, url, "text", work / "texts.txt")
                elif run == "reload":
                    results[run] = reload_run(args, url, work, spare, served, token)
                elif run == "writes":
                    results[run] = writes_run(url, texts[500:], token)
                show(run, results[run])
        finally:
            stop_server(server)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="model folder (a copy is served)")
    p.add_argument("--corpus", help="articles (.jsonl or .jsonl.gz) for the text and writes "
                                    "runs")
    p.add_argument("--duration", type=int, default=60, help="seconds per run (default 60)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--port", type=int, default=8800)
    p.add_argument("--runs", default=",".join(RUNS), help=f"some of {','.join(RUNS)}")
    p.add_argument("--json", help="write the figures to this file")
    return p.parse_args(argv)


def make_spare(args, spare: Path) -> None:
    """The model the reload run swaps in: retrained on ``--corpus`` (the model's own corpus:
    the run asks for the model's ids) with another table size, so that its version and
    lists differ; without ``--corpus``, a copy of the model."""
    if not args.corpus:
        shutil.copytree(args.model, spare)
        return
    command = [sys.executable, "-m", "recommender.cli", "train", args.corpus, "--out",
               str(spare), "--table-size", "40", "-q"]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def sample_texts(path, n: int) -> list[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    return random.Random(0).sample(records, min(n, len(records)))


# -- the server --------------------------------------------------------------------------------
def start_server(folder: Path, args, token: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "recommender.cli", "serve", str(folder), "--port",
               str(args.port), "--workers", str(args.workers), "-q"]
    print("$", " ".join(command), flush=True)
    process = subprocess.Popen(command, env={**os.environ, "RECOMMENDER_TOKEN": token},
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"run.py: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health", timeout=5):
                return process
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    stop_server(process)
    raise SystemExit("run.py: the server did not answer in 120 s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def call(url: str, method: str = "GET", body=None, token=None) -> tuple[int, dict, float]:
    """(status, JSON answer, seconds) of one request."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    return status, json.loads(payload or b"{}"), time.perf_counter() - started


# -- wrk ---------------------------------------------------------------------------------------
def wrk(args, url: str, mode: str, lines: Path, duration=None, background=False):
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d",
               f"{duration or args.duration}s", "--latency", "-s", str(LUA), url, "--",
               mode, str(lines), "5"]
    if duration is None:
        print("$", " ".join(command), flush=True)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    if background:
        return process
    return figures(process.communicate()[0])


def figures(output: str) -> dict:
    """Requests/s, p50/p99 (ms), and the errors of wrk's output."""
    def number(pattern, default=None):
        found = re.search(pattern, output)
        return float(found.group(1)) if found else default

    latency = {}
    for percent, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output,
                                           re.M):
        latency[percent] = float(value) * _UNITS[unit]
    socket_errors = sum(int(n) for n in re.findall(
        r"(?:connect|read|write|timeout) (\d+)", output))
    return {"requests": int(number(r"(\d+) requests in", 0)),
            "requests_per_s": number(r"Requests/sec:\s+([\d.]+)"),
            "p50_ms": latency.get("50"), "p99_ms": latency.get("99"),
            "non_2xx": int(number(r"non-2xx: (\d+)", -1)), "socket_errors": socket_errors,
            "output": output}


def show(run: str, result: dict) -> None:
    if "requests_per_s" in result:
        print(f"{run}: {result['requests_per_s']:,.0f} requests/s, p50 {result['p50_ms']:.2f} "
              f"ms, p99 {result['p99_ms']:.2f} ms, {result['requests']:,} requests, errors: "
              f"{result['non_2xx']} non-2xx, {result['socket_errors']} socket"
              + (f"; reload answered in {result['reload_s']:.2f} s, version "
                 f"{result['before']} -> {result['after']}" if "reload_s" in result else ""),
              flush=True)
    else:
        print(f"{run}: " + ", ".join(f"{k} {v}" for k, v in result.items()), flush=True)


def reload_run(args, url: str, work: Path, spare: Path, served: Path, token: str) -> dict:
    """``related`` with a model swapped into the folder and reloaded half-way."""
    from recommender import ArticleRecommender

    before = call(f"{url}/health")[1]["model"]
    process = wrk(args, url, "related", work / "ids.txt", background=True)
    print("$ wrk ... related (a model swapped in and POST /admin/reload half-way)", flush=True)
    time.sleep(args.duration / 2)
    swap = threading.Thread(target=lambda: ArticleRecommender.load(spare).save(served))
    swap.start()
    swap.join()
    status, answer, seconds = call(f"{url}/admin/reload", "POST", {}, token)
    if status != 200:
        raise SystemExit(f"run.py: /admin/reload answered {status}: {answer}")
    result = figures(process.communicate()[0])
    return {**result, "reload_s": round(seconds, 3), "before": before,
            "after": answer["model"]}


def writes_run(url: str, texts: list[dict], token: str) -> dict:
    """POST /articles of 1,000 new articles, then DELETE 20 of them, each timed."""
    batch = [{**{k: t.get(k) for k in ("title", "heading", "body", "published", "category",
                                       "url")}, "id": f"load-{i:04d}"}
             for i, t in enumerate(texts[:1000])]
    status, answer, seconds = call(f"{url}/articles", "POST", {"articles": batch}, token)
    if status != 200:
        raise SystemExit(f"run.py: POST /articles answered {status}: {answer}")
    added = len(answer["added"]) + len(answer["updated"])
    deletes = []
    for article in batch[:20]:
        status, answer, took = call(f"{url}/articles/{article['id']}", "DELETE", None, token)
        if status != 200:
            raise SystemExit(f"run.py: DELETE answered {status}: {answer}")
        deletes.append(took * 1e3)
    deletes.sort()
    return {"add_1000_s": round(seconds, 3), "added": added,
            "withdraw_median_ms": round(deletes[len(deletes) // 2], 1),
            "withdraw_max_ms": round(deletes[-1], 1)}


if __name__ == "__main__":
    sys.exit(main())
