"""Shares of a profile's samples: per thread, and under each named frame (inclusive).

Reads `perf script -F comm,ip,sym --no-inline` from stdin. Used by bench/cpu.sh (BENCH_PROFILE=1):
python3 bench/perf_shares.py REGEX... < script.txt
"""
import collections
import re
import sys

samples = []  # (thread, [frames, leaf first])
for line in sys.stdin:
    if not line.strip():
        continue
    if not line[0].isspace():
        samples.append((line.split()[0], []))
    elif samples:
        parts = line.split(None, 1)
        samples[-1][1].append(parts[1].strip() if len(parts) > 1 else "?")

total = max(len(samples), 1)
print(f"{len(samples)} samples of the server")
threads = collections.Counter(thread for thread, _ in samples)
for thread, n in threads.most_common():
    print(f"{100 * n / total:6.1f}%  thread {thread}")
for pattern in sys.argv[1:]:
    frame = re.compile(pattern)
    n = sum(1 for _, frames in samples if any(frame.search(f) for f in frames))
    print(f"{100 * n / total:6.1f}%  under {pattern}")
