#!/usr/bin/env python3
"""CPU per push of `sync_load`'s posyandu day, measured from outside the bench, so that a
`sync_load` of any commit (also one older than the bench's own CPU figures) can be compared.

    server/benches/day_cpu.py SYNC_LOAD --bench --backend postgres --devices 100 --day 300 ...

Samples the bench process's CPU and that of the PostgreSQL processes (the bench's own database's
backends, found from its connections' ports in pg_stat_activity, and PostgreSQL's own processes)
at the line "day: set up" and at the day's end (older benches: "day: N devices x ..."; newer:
"day: CPU per push", printed once the read model caught up), and prints the CPU per push. Used
for issue 13's "than today" (docs/BENCHMARKS.md, "the tenth pass merged")."""
import os, subprocess, sys, time
TICK = os.sysconf('SC_CLK_TCK')
def stat(pid):
    try:
        s = open(f'/proc/{pid}/stat').read()
    except OSError:
        return None
    comm = s[s.find('(')+1:s.rfind(')')]
    rest = s[s.rfind(')')+2:].split()
    return comm, (int(rest[11]) + int(rest[12])) / TICK
DB = None
def bench_db(pid):
    """The database of the bench's PostgreSQL connections (by their client ports)."""
    out = subprocess.run(['ss', '-tnpH'], capture_output=True, text=True).stdout
    ports = set()
    for l in out.splitlines():
        if f'pid={pid},' in l:
            f = l.split()
            if f[4].endswith(':5432'):
                ports.add(f[3].rsplit(':', 1)[1])
    if not ports:
        return None
    q = f"select distinct datname from pg_stat_activity where client_port in ({','.join(ports)})"
    r = subprocess.run(['psql', '-h', '127.0.0.1', '-U', 'postgres', '-Atc', q], capture_output=True, text=True).stdout.split()
    return r[0] if len(r) == 1 else None
def other_db(p):
    try:
        t = open(f'/proc/{p}/cmdline', 'rb').read().decode(errors='replace')
    except OSError:
        return False
    backend = '(' in t or '[local]' in t or 'autovacuum worker' in t
    return backend and DB is not None and DB not in t.replace('\0', ' ').split()
def pg():
    if DB is None:
        return 0.0  # not a PostgreSQL run
    tot = 0.0
    for p in os.listdir('/proc'):
        if p.isdigit():
            st = stat(p)
            if st and st[0] == 'postgres' and not other_db(p):
                tot += st[1]
    return tot
args = sys.argv[1:]
devices = int(args[args.index('--devices') + 1])
proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, bufsize=1)
start = None
for line in proc.stdout:
    sys.stdout.write(line); sys.stdout.flush()
    if line.startswith('day: set up'):
        DB = bench_db(proc.pid)
        print(f'WRAP bench database: {DB}', flush=True)
        start = (stat(proc.pid)[1], pg(), time.time())
    elif start and (line.startswith('day: CPU per push') or (' devices x ' in line and line.startswith('day:') and 'read model' not in line)):
        b, g, t = stat(proc.pid)[1], pg(), time.time()
        print(f'WRAP day: bench {1000*(b-start[0])/devices:.2f} ms/push, postgres {1000*(g-start[1])/devices:.2f} ms/push, sum {1000*((b-start[0])+(g-start[1]))/devices:.2f} ms/push, wall {t-start[2]:.2f} s ({line.split(":")[1].strip()[:20]})', flush=True)
        start = None
proc.wait()
