"""Serial checks without a database: forged/mistyped rejections and genuine decodes per second.

Forged codes are genuine serials with one character changed (typos, and forgers copying a real
code) plus random 20-character strings in the serial alphabet with a known key version. Each
serial is checked one at a time as the resolver does (``check_serial``), then all at once with
the vectorised ``verify_many`` (bulk checks). One thread: the rates are per core; the
``per_cpu_s`` figures divide by the process's CPU time, which a busy shared machine inflates
less than wall time. The last line
is one JSON object, e.g. ``{"bench": "codes_verify", "forged_rejected_per_s": ..., ...}``.

    .venv/bin/python bench/codes_verify.py [--codes N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time

import numpy as np

from bcone.codes._serials import ALPHABET, CodeKey, check_serial, encode_range, verify_many


def forged_serials(genuine: list[str], rng: random.Random) -> list[str]:
    out = []
    for i, serial in enumerate(genuine):
        if i % 2:
            position = rng.randrange(1, len(serial))
            char = rng.choice([c for c in ALPHABET if c != serial[position]])
            out.append(serial[:position] + char + serial[position + 1 :])
        else:
            out.append(serial[0] + "".join(rng.choice(ALPHABET) for _ in range(len(serial) - 1)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--codes", type=int, default=500_000, help="forged and genuine serials each")
    args = parser.parse_args()
    rng = random.Random(7)
    key = CodeKey(1, os.urandom(32))
    keys = {1: key}
    rows = encode_range(key, 5_000_000, args.codes)
    genuine = [r.tobytes().decode("ascii") for r in rows]
    forged = forged_serials(genuine, rng)

    started, cpu = time.perf_counter(), time.process_time()
    rejected = sum(1 for s in forged if isinstance(check_serial(s, keys), str))
    forged_s, forged_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    decoded = sum(1 for s in genuine if not isinstance(check_serial(s, keys), str))
    genuine_s, genuine_cpu = time.perf_counter() - started, time.process_time() - cpu
    forged_rows = np.frombuffer("".join(forged).encode("ascii"), dtype=np.uint8).reshape(-1, 20)
    started = time.perf_counter()
    valid_forged, _ = verify_many(forged_rows, keys)
    bulk_forged_s = time.perf_counter() - started
    started = time.perf_counter()
    valid_genuine, _ = verify_many(rows, keys)
    bulk_genuine_s = time.perf_counter() - started
    if decoded != args.codes or not valid_genuine.all():
        raise SystemExit("a genuine serial was refused")
    print(
        f"forged: {rejected:,} of {args.codes:,} refused by the tag, {rejected / forged_s:,.0f}/s one by one"
    )
    print(f"genuine: {decoded:,} decoded, {decoded / genuine_s:,.0f}/s one by one")
    print(
        json.dumps(
            {
                "bench": "codes_verify",
                "codes": args.codes,
                "forged_rejected": rejected,
                "forged_rejected_per_s": round(rejected / forged_s),
                "forged_rejected_per_cpu_s": round(rejected / forged_cpu),
                "genuine_decoded_per_s": round(decoded / genuine_s),
                "genuine_decoded_per_cpu_s": round(decoded / genuine_cpu),
                "bulk_forged_rejected_per_s": round(int((~valid_forged).sum()) / bulk_forged_s),
                "bulk_genuine_decoded_per_s": round(args.codes / bulk_genuine_s),
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
