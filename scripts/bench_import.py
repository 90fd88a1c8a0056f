"""Importing a site's pages: speed beside trafilatura's own bare_extraction, and memory on
an archive of 20,000 pages.

Speed, in one process pinned to one core: the pages of PAGES (a tar archive, by default
the 389 real pages of ../shared/pages) are read into memory once; then, for each of
``--repeat`` rounds, in turn, every page goes through:

- ``import``: the import's whole path for a page (``recommender.imports.run.read_chunk``:
  the page parsed once, its URL and id, its head, the related box and its links' ids,
  trafilatura's text on the same tree, the lead and body);
- trafilatura's ``bare_extraction(html)`` with its defaults (the text alone), with
  ``fast=True``, and with ``with_metadata=True`` (text, title, date, tags: what the import
  gives, without the box and ids).

Pages/s is the median of the rounds. The rounds alternate the four, so that the load of
the machine falls on all of them alike; the ratio of the import's speed to each, round by
round (its median), is the figure that a loaded machine disturbs least.

Memory: an archive of ``--pages`` pages (20,000) is made by repeating the sample (each copy
of a page gets its own id: its ``CNT…`` id with a suffix, in its bytes, so that every page
is an article of the output) as a .tar.gz in a temporary folder; ``recommender import`` of
it then runs in a fresh process with ``--jobs 1`` and ``--jobs 2``: its peak RSS with its
workers (sampled from /proc every 20 ms), its time and pages/s. The same at a tenth of the
pages shows whether the memory grows with the archive (it must not: the import streams).

    python scripts/bench_import.py                      # all of it (about 15 minutes)
    python scripts/bench_import.py --no-memory          # speed only
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT.parent / "shared" / "pages" / "orangesum-pages.tar.gz"
ID_PATTERN = r"(CNT\w+)\.html"
_OWN_ID = re.compile(r"(CNT\w+)\.html$")
#: Run in a fresh process: one import, its peak RSS with its workers, as JSON.
_MEASURE = """
import json, sys, time, warnings
from zoneinfo import ZoneInfo
from recommender.bench.memory import MemorySampler
from recommender.imports import import_pages
warnings.simplefilter("ignore")
archive, out, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
with MemorySampler() as memory:
    started = time.perf_counter()
    summary = import_pages([archive], out, id_pattern=sys.argv[4], jobs=jobs,
                           zone=ZoneInfo("Europe/Paris"))
    seconds = time.perf_counter() - started
print(json.dumps({"pages": summary.pages, "imported": summary.imported, "seconds": seconds,
                  "peak_mb": memory.peak / 2**20}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="?", default=str(PAGES), help="a tar archive of pages")
    parser.add_argument("--repeat", type=int, default=3, help="speed rounds (default: 3)")
    parser.add_argument("--pages", dest="n_pages", type=int, default=20_000,
                        help="pages of the memory archive (default: %(default)s)")
    parser.add_argument("--no-memory", action="store_true", help="speed only")
    parser.add_argument("--no-speed", action="store_true", help="memory only")
    args = parser.parse_args()
    pages = read_pages(Path(args.pages))
    print(f"{len(pages)} pages of {args.pages}, {sum(len(d) for _, d in pages) / 2**20:.1f} MB")
    if not args.no_speed:
        speed(pages, args.repeat)
    if not args.no_memory:
        memory(pages, args.n_pages)


def read_pages(archive: Path) -> list[tuple[str, bytes]]:
    with tarfile.open(archive, "r|*") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar if m.isfile()]


# -- speed ----------------------------------------------------------------------------------
def speed(pages, repeat: int) -> None:
    import trafilatura
    from zoneinfo import ZoneInfo

    from recommender.imports.box import Box
    from recommender.imports.ids import Ids
    from recommender.imports.run import Settings, quiet_libraries, read_chunk
    from recommender.imports.sources import Page, mirror_url

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    settings = Settings(Ids(ID_PATTERN), Box(), ZoneInfo("Europe/Paris"))
    chunk = [Page(name, data, url=mirror_url(name)) for name, data in pages]
    texts = [(mirror_url(name), data.decode("utf-8")) for name, data in pages]

    def ours():
        results = read_chunk(settings, chunk)
        assert all(not isinstance(result, str) for _, result in results)

    def bare(**options):
        def run():
            for url, html in texts:
                trafilatura.bare_extraction(html, url=url, **options)
        return run

    runs = {"import (whole path, box and ids)": ours,
            "bare_extraction()": bare(),
            "bare_extraction(fast=True)": bare(fast=True),
            "bare_extraction(with_metadata=True)": bare(with_metadata=True)}
    rates = {name: [] for name in runs}
    with quiet_libraries():
        ours()  # warm up: imports, caches
        for _ in range(repeat):
            for name, run in runs.items():
                started = time.perf_counter()
                run()
                rates[name].append(len(pages) / (time.perf_counter() - started))
    print(f"\nspeed, one core, {len(pages)} pages, median of {repeat} rounds "
          f"(trafilatura {trafilatura.__version__}):")
    ours = rates["import (whole path, box and ids)"]
    for name, values in rates.items():
        ratios = [a / b for a, b in zip(ours, values)]
        print(f"  {name:<40} {statistics.median(values):6.1f} pages/s   "
              f"({', '.join(f'{v:.1f}' for v in values)}); import / this, round by round: "
              f"median {statistics.median(ratios):.2f}")


# -- memory ---------------------------------------------------------------------------------
def memory(pages, n_pages: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_import.") as scratch:
        scratch = Path(scratch)
        for n in (n_pages // 10, n_pages):
            archive = scratch / f"pages-{n}.tar.gz"
            build_archive(pages, n, archive)
            print(f"\n{n:,} pages: {archive.stat().st_size / 2**20:.0f} MB archive")
            for jobs in (1, 2):
                out = scratch / f"out-{n}-{jobs}.jsonl.gz"
                result = json.loads(subprocess.run(
                    [sys.executable, "-c", _MEASURE, str(archive), str(out), str(jobs),
                     ID_PATTERN], check=True, capture_output=True, text=True,
                    cwd=ROOT).stdout)
                print(f"  --jobs {jobs}: {result['imported']:,} of {result['pages']:,} "
                      f"imported in {result['seconds']:.0f} s "
                      f"({result['pages'] / result['seconds']:.1f} pages/s), peak RSS "
                      f"{result['peak_mb']:.0f} MB (the process and its workers)")
            one, two = (scratch / f"out-{n}-{j}.jsonl.gz" for j in (1, 2))
            print(f"  same output for --jobs 1 and 2: {one.read_bytes() == two.read_bytes()}")
            for jobs in (1, 2):
                (scratch / f"out-{n}-{jobs}.jsonl.gz").unlink()
            archive.unlink()


def build_archive(pages, n: int, path: Path) -> None:
    """A .tar.gz of ``n`` pages: the sample repeated, copy ``k`` of a page with its own id
    ``CNT…`` + ``r{k}`` (copy 0 keeps the real ids), written one member at a time."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for i in range(n):
            copy, (name, data) = divmod(i, len(pages))[0], pages[i % len(pages)]
            if copy:
                own = _OWN_ID.search(name).group(1)
                data = data.replace(own.encode(), f"{own}r{copy}".encode())
                name = name.replace(own, f"{own}r{copy}")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main()
