#!/usr/bin/python3
"""Small-file workloads for scripts/bench, one process per phase so that no
per-file process spawn dominates the figures (and so that the caller can act
between phases: rclone must finish its uploads before an unlink).

  smallfiles.py create DIR COUNT SIZE  create+write+close COUNT files of SIZE
                                       bytes (half text, half random) in DIR
  smallfiles.py stat DIR COUNT         stat each of them
  smallfiles.py read DIR COUNT         open, read to the end, close each
  smallfiles.py unlink DIR COUNT       unlink each, then DIR
  smallfiles.py populate DIR COUNT     create COUNT empty files in DIR, the
                                       keys for the `ls -l` workload

Each prints its rate in operations (files) per second.
"""
import os
import sys
import time


def paths(directory, count):
    return [os.path.join(directory, f"f{i:07d}") for i in range(count)]


def create(files, size):
    payload = (b"small file text " * (size // 32 + 1))[: size // 2]
    payload += os.urandom(size - len(payload))
    for f in files:
        fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, payload)
        os.close(fd)


def populate(files):
    for f in files:
        os.close(os.open(f, os.O_WRONLY | os.O_CREAT, 0o644))


def stat(files):
    for f in files:
        os.stat(f)


def read(files):
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        while os.read(fd, 65536):
            pass
        os.close(fd)


def unlink(files):
    for f in files:
        os.unlink(f)


def main(argv):
    if len(argv) not in (4, 5) or argv[1] not in ("create", "stat", "read", "unlink", "populate"):
        sys.exit(__doc__)
    phase, directory, count = argv[1], argv[2], int(argv[3])
    files = paths(directory, count)
    if phase in ("create", "populate"):
        os.makedirs(directory, exist_ok=True)
    start = time.perf_counter()
    if phase == "create":
        create(files, int(argv[4]))
    elif phase == "populate":
        populate(files)
    else:
        globals()[phase](files)
    rate = count / (time.perf_counter() - start)
    if phase == "unlink":
        os.rmdir(directory)
    print(f"{rate:.3f}")


if __name__ == "__main__":
    main(sys.argv)
