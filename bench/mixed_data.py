#!/usr/bin/python3
"""mixed_data.py FILE MIB: write MIB MiB of realistic mixed data to FILE for
scripts/bench: alternate mebibytes of English-like text (compresses about 3:1
with zstd) and of random bytes (does not compress), so that half the file is
each."""
import os
import random
import sys

MIB = 1 << 20


def text_pool(rng, size):
    words = (
        "the of and to in is that for it as was with be by on not he this are "
        "or his from at which but have an they you were her she there been one "
        "all we their has would when if so no will more out up into do any "
        "your what some can other than time only could new these two may "
        "first then do any like my now over such our man me even most made "
        "after also did many before must through back years where much way "
        "well down should because each just those people how too little state "
        "good very make world still own see men work long get here between "
        "both life being under never day same another know while last might "
        "us great old year off come since against go came right used take "
        "bucket object key storage class lifecycle transition glacier archive "
        "stream record partition table schema crawler catalog query"
    ).split()
    out = []
    length = 0
    while length < size:
        line = " ".join(rng.choices(words, k=rng.randint(6, 16)))
        line = line[0].upper() + line[1:] + ".\n"
        out.append(line)
        length += len(line)
    return "".join(out).encode()[:size]


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    path, mib = argv[1], int(argv[2])
    rng = random.Random(20261126)
    pool = text_pool(rng, 8 * MIB)
    with open(path, "wb") as f:
        for i in range(mib):
            if i % 2 == 0:
                start = rng.randrange(len(pool) - MIB)
                f.write(pool[start:start + MIB])
            else:
                f.write(os.urandom(MIB))
        f.flush()
        os.fsync(f.fileno())


if __name__ == "__main__":
    main(sys.argv)
