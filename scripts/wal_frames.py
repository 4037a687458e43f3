#!/usr/bin/env python3
"""Pages a store's commits wrote, by B-tree (issue 19, docs/BENCHMARKS.md, ninth pass).

SQLCipher encrypts a WAL frame's page, not its 24-byte header (page number, and on a
commit's last frame the database's size). Trace a run with

    strace -f -y -xx -s 24 -e trace=pwrite64,fsync,fdatasync -o TRACE COMMAND

map the store's pages with `cargo run -p field-core --example page_map -- DB USER PIN > MAP`,
then `wal_frames.py TRACE MAP DBNAME [PAGE_SIZE] [FIRST LAST]`: one line per transaction of
the file whose name ends in DBNAME (not under /dev/shm), then the mean frames per commit of
each B-tree over transactions FIRST..LAST (all when not given). Header writes that follow a
commit with no commit of their own (SQLite rewriting checksums after frames of the same
transaction were overwritten in place) show as a transaction of their own.
"""
import collections
import re
import sys


def dec(p):
    return bytes.fromhex(p.replace('\\x', '')).decode('utf-8', 'replace') if p.startswith('\\x') else p


def main():
    trace, pmap, dbname = sys.argv[1], sys.argv[2], sys.argv[3]
    ps = int(sys.argv[4]) if len(sys.argv) > 4 else 8192
    sel = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else None
    owner = {}
    for line in open(pmap):
        p, n = line.split()
        owner[int(p)] = n
    pat = re.compile(r'pwrite64\((\d+)<([^>]*)>, "((?:\\x[0-9a-f]{2})*)"(?:\.\.\.)?, (\d+), (\d+)\) = (\d+)')
    txns, cur = [], []
    wal_bytes = db_bytes = fsyncs = 0
    for line in open(trace):
        if 'fsync(' in line or 'fdatasync(' in line:
            m = re.search(r'sync\(\d+<([^>]*)>', line)
            if m:
                path = dec(m.group(1))
                if not path.startswith('/dev/shm') and (path.endswith(dbname) or path.endswith(dbname + '-wal')):
                    fsyncs += 1
            continue
        m = pat.search(line)
        if not m:
            continue
        _, path, data, count, _, _ = m.groups()
        path, count = dec(path), int(count)
        if path.startswith('/dev/shm'):
            continue
        if path.endswith(dbname + '-wal'):
            wal_bytes += count
            if count == 24:
                b = bytes.fromhex(data.replace('\\x', ''))
                cur.append(int.from_bytes(b[0:4], 'big'))
                if int.from_bytes(b[4:8], 'big'):
                    txns.append(cur)
                    cur = []
        elif path.endswith(dbname):
            db_bytes += count
    print(f'{len(txns)} transactions; WAL {wal_bytes / 2**20:.1f} MiB, database file '
          f'{db_bytes / 2**20:.1f} MiB, fsyncs {fsyncs}')
    total = collections.Counter()
    n = 0
    for i, pages in enumerate(txns):
        c = collections.Counter(owner.get(p, 'free or other') for p in set(pages))
        top = ', '.join(f'{k} {v}' for k, v in c.most_common(4))
        print(f'{i}: {len(pages)} frames ({top})')
        if sel is None or sel[0] <= i <= sel[1]:
            total.update(c)
            n += 1
    if n:
        print(f'mean frames per commit over {n} transactions: {sum(total.values()) / n:.1f}')
        for k, v in total.most_common():
            print(f'  {k:34s} {v / n:8.1f}')


if __name__ == '__main__':
    main()
