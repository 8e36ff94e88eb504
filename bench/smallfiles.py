#!/usr/bin/python3
"""Small-file workloads for scripts/bench, in one process so that no
per-file process spawn dominates the figures.

  smallfiles.py ops DIR COUNT SIZE   create+write+close, stat, read, unlink
                                     COUNT files of SIZE bytes in DIR; prints
                                     one JSON object of ops/s per phase
  smallfiles.py populate DIR COUNT   create COUNT empty files in DIR (setup
                                     for the `ls -l` workload); prints seconds
"""
import json
import os
import sys
import time


def names(count):
    return [f"f{i:07d}" for i in range(count)]


def ops(directory, count, size):
    os.makedirs(directory, exist_ok=True)
    files = [os.path.join(directory, n) for n in names(count)]
    # Half text, half random, like the sequential workload: shoal compresses.
    payload = (b"small file text " * (size // 32 + 1))[: size // 2]
    payload += os.urandom(size - len(payload))
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    rates = {}

    start = time.perf_counter()
    for f in files:
        fd = os.open(f, flags, 0o644)
        os.write(fd, payload)
        os.close(fd)
    rates["create"] = count / (time.perf_counter() - start)

    start = time.perf_counter()
    for f in files:
        os.stat(f)
    rates["stat"] = count / (time.perf_counter() - start)

    start = time.perf_counter()
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        while os.read(fd, 65536):
            pass
        os.close(fd)
    rates["read"] = count / (time.perf_counter() - start)

    start = time.perf_counter()
    for f in files:
        os.unlink(f)
    rates["unlink"] = count / (time.perf_counter() - start)
    os.rmdir(directory)
    print(json.dumps(rates))


def populate(directory, count):
    os.makedirs(directory, exist_ok=True)
    start = time.perf_counter()
    for n in names(count):
        os.close(os.open(os.path.join(directory, n), os.O_WRONLY | os.O_CREAT, 0o644))
    print(f"{time.perf_counter() - start:.3f}")


def main(argv):
    if len(argv) == 5 and argv[1] == "ops":
        ops(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 4 and argv[1] == "populate":
        populate(argv[2], int(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
