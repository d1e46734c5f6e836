#!/usr/bin/env python
"""Size of the evidence tests on clean twins of the clean real elections.

``audit calibrate`` measures every test on clean twins of the three Russian
files.  This script asks the same question of twins of the other files in
the corpus, the honestly counted elections (Poland 2020, Czech Republic
2018, Canada 2011): their stations, districts and sizes are those of
countries the Russian files do not resemble (Canada's constituencies each
have their own candidates; Czech stations are small).  A test that holds
its size only on twins of Russian files would show it here.

For each file, ``--twins`` clean twins are drawn (:func:`audit.stations.twin.fit_twin`,
seeds 1000, 1001, ...), every evidence test of the default battery runs on
each (national scope, the battery's seed = the twin's seed), and one JSON
line per twin is appended to ``--out`` with every test's p-value.
``--summary`` reads the lines back and prints, per test, the rejections at
0.05 over all twins with their Clopper-Pearson interval, and per file.

``--contested`` asks it of twins of two contested elections whose
observers typed in or photographed the protocols (Georgia 2024, Belarus 2020,
``../shared/datasets/contested``): a twin keeps a file's stations, sizes and
districts but draws honest counts, so whatever the real file shows, its twins
are clean. These files are not in the dataset registry; they are read from
the cache folder (sha256 checked) with the column mappings in
``benchmarks/mappings/``.

Run from the repository root (about a minute per file on two processes)::

    AUDIT_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/clean_twins.py \\
        --twins 20 --out docs/calibration/clean_twins.jsonl
    .venv/bin/python benchmarks/clean_twins.py --summary docs/calibration/clean_twins.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ALPHA = 0.05
FIRST_SEED = 1000
_MODELS: dict = {}
#: Contested elections (not registered): file under the cache folder, its
#: sha256 (../shared/datasets/README.md) and the mapping in benchmarks/mappings/.
CONTESTED = {
    "contested/georgia_parl2024_precincts.xlsx": (
        "3dbb19d6b2da1267e6b0e237299c95afc4592348801ddb8d793a3877b63861ab",
        "georgia_parl2024_precincts.yaml"),
    "contested/belarus_pres2020_honest_people.csv": (
        "7d1a796430a6577285af04ddbdd486c2c67f2ca638fd23ec41bcaeada0f37262",
        "belarus_pres2020_honest_people.yaml"),
}


def load(name):
    """A registered dataset, or a contested file of :data:`CONTESTED` read from
    the cache folder through its mapping after checking its sha256."""
    from audit.tables import datasets

    if name not in CONTESTED:
        return datasets.load(name)
    from audit.core.outputs import sha256_of
    from audit.tables.readers import read

    digest, mapping = CONTESTED[name]
    path = datasets.data_dir() / name
    if not path.exists():
        raise SystemExit(f"{path} not found: put the contested files in the cache folder "
                         "(AUDIT_DATA_DIR)")
    if sha256_of(path) != digest:
        raise SystemExit(f"{path}: sha256 differs from the pinned one")
    return read(path, "canonical", mapping=Path(__file__).resolve().parent / "mappings"
                / mapping)


def _evidence_tests() -> list[str]:
    from audit.stations import forensics  # noqa: F401  (fills the registry)
    from audit.stations.registry import REGISTRY

    return sorted(n for n, s in REGISTRY.items() if s.evidence and s.default)


def one_twin(job) -> dict:
    """The evidence tests' p-values on twin ``seed`` of dataset ``name``."""
    from audit.stations.battery import run_battery
    from audit.stations.twin import fit_twin

    name, seed = job
    if name not in _MODELS:                 # one fit per file and process
        _MODELS[name] = fit_twin(load(name))
    twin = _MODELS[name].draw(seed)
    ev = run_battery(twin, tests=_evidence_tests(), rng=seed, processes=1).evidence
    return {"file": name, "seed": seed,
            "kept_as_is": _MODELS[name].info["kept_as_is"],
            "pvalue": {r.test: (None if r.pvalue != r.pvalue else float(r.pvalue))
                       for r in ev.itertuples()},
            "status": {r.test: r.status for r in ev.itertuples()}}


def run(files, twins: int, out: Path, procs: int) -> None:
    jobs = [(f, s) for f in files for s in range(FIRST_SEED, FIRST_SEED + twins)]
    with out.open("a", encoding="utf-8") as fh, ProcessPoolExecutor(procs) as ex:
        for line in ex.map(one_twin, jobs):
            fh.write(json.dumps(line, sort_keys=True) + "\n")
            fh.flush()
            print(f"{line['file']} twin {line['seed']}: "
                  f"{sum(p is not None and p <= ALPHA for p in line['pvalue'].values())} "
                  f"of {len(line['pvalue'])} tests at p <= {ALPHA}", flush=True)


def summary(path: Path) -> str:
    from audit.stations.calibration.real import _cp

    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
    files = sorted({r["file"] for r in rows})
    tests = sorted({t for r in rows for t in r["pvalue"]})
    short = {f: f.split("/")[-1].split("_")[0] for f in files}
    head = ["test", "all twins: p <= 0.05 [95% CI]"] + [short[f] for f in files]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(["---"] * len(head)) + " |"]
    total_k = total_m = 0
    for t in tests:
        cells, k_all, m_all = [], 0, 0
        for f in files:
            ps = [r["pvalue"].get(t) for r in rows if r["file"] == f]
            ps = [p for p in ps if p is not None]
            k = sum(p <= ALPHA for p in ps)
            cells.append(f"{k} / {len(ps)}")
            k_all, m_all = k_all + k, m_all + len(ps)
        lo, hi = _cp(k_all, m_all)
        total_k, total_m = total_k + k_all, total_m + m_all
        lines.append(f"| `{t}` | {k_all / max(m_all, 1):.3f} [{lo:.3f}, {hi:.3f}] "
                     f"({k_all} / {m_all}) | " + " | ".join(cells) + " |")
    lo, hi = _cp(total_k, total_m)
    lines.append(f"| all tests | {total_k / max(total_m, 1):.3f} [{lo:.3f}, {hi:.3f}] "
                 f"({total_k} / {total_m}) | " + " | ".join("" for _ in files) + " |")
    # the family-wise question: does any evidence test reject at Holm 0.05?
    from audit.stations.battery import p_adjust_holm

    cells, k_all = [], 0
    for f in files:
        k = 0
        mine = [r for r in rows if r["file"] == f]
        for r in mine:
            ps = [p for p in r["pvalue"].values() if p is not None]
            k += bool(ps) and bool((p_adjust_holm(ps) <= ALPHA).any())
        cells.append(f"{k} / {len(mine)}")
        k_all += k
    lo, hi = _cp(k_all, len(rows))
    lines.append(f"| any test at Holm 0.05 (per twin) | {k_all / max(len(rows), 1):.3f} "
                 f"[{lo:.3f}, {hi:.3f}] ({k_all} / {len(rows)}) | " + " | ".join(cells) + " |")
    kept = {f: next(r["kept_as_is"] for r in rows if r["file"] == f) for f in files}
    lines.append("")
    lines.append("Stations copied as they are in each twin (no registered voters, ballots "
                 "cast or leader's count): " + ", ".join(f"{short[f]} {kept[f]:,}"
                                                        for f in files) + ".")
    return "\n".join(lines)


def main(argv=None) -> int:
    from audit.stations.calibration.real import clean_elections

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--twins", type=int, default=20)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--files", default="", help="comma-separated dataset names "
                    "(default: the clean elections of the registry)")
    ap.add_argument("--contested", action="store_true",
                    help="twins of the contested files of CONTESTED instead")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--summary", type=Path)
    a = ap.parse_args(argv)
    if a.summary:
        print(summary(a.summary))
        return 0
    if not a.out:
        ap.error("--out is required (or --summary)")
    files = ([f for f in a.files.split(",") if f]
             or (list(CONTESTED) if a.contested else clean_elections()))
    run(files, a.twins, a.out, a.procs)
    print(summary(a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
