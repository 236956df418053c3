"""Pages per commit in a SQLite WAL, by the b-tree each page belongs to.

Used by bench/cpu.sh (BENCH_WAL=1, SQLite): python3 bench/wal_pages.py COPY.db
COPY.db and COPY.db-wal are a copy taken while the server was idle; the copy is opened (so SQLite may
recover it), never the server's own files. Frames of the current WAL generation (its salts) are grouped
into commits by their commit marker; pages are named by `dbstat` as the copy stands at the end, so a
page that changed b-tree within the WAL is named by its last owner. The last commits are counted (at most
BENCH_WAL_COMMITS, default 500).
"""
import collections
import os
import sqlite3
import struct
import sys

path = sys.argv[1]
with open(path + "-wal", "rb") as f:
    wal = f.read()
if len(wal) < 32:
    sys.exit("no WAL frames (the WAL was just restarted); run again")
page_size, salts = struct.unpack(">I", wal[8:12])[0], wal[16:24]
commits, frames, offset = [], [], 32
while offset + 24 + page_size <= len(wal):
    page, size_after = struct.unpack(">II", wal[offset:offset + 8])
    if wal[offset + 8:offset + 16] != salts:
        break
    frames.append(page)
    if size_after:
        commits.append(frames)
        frames = []
    offset += 24 + page_size
if not commits:
    sys.exit("no commits in the WAL's current generation; run again")

owner = {}
with sqlite3.connect(path) as db:
    for name, page, kind in db.execute("SELECT name, pageno, pagetype FROM dbstat"):
        owner[page] = f"{name} ({kind})"
counted = commits[-int(os.environ.get("BENCH_WAL_COMMITS", "500")):]
pages = collections.Counter(owner.get(p, "other (free or new)") for c in counted for p in c)
print(f"{len(commits)} commits in the WAL (page size {page_size}); the last {len(counted)}: "
      f"{sum(map(len, counted)) / len(counted):.1f} pages per commit")
for name, n in pages.most_common():
    print(f"{n / len(counted):6.2f}  {name}")
