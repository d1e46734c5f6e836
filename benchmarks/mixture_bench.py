"""The mixture model's national fit on the 2020 Russian file, for
``benchmarks/run.py`` (section ``mixture``)."""

from __future__ import annotations


def bench_mixture(t, table, args, measure):
    """Time :func:`audit.stations.forensics.mixture.mixture_table` at its defaults
    (district groups, 29 bootstrap and 19 null refits) on ``table``."""
    from audit.stations.forensics.mixture import mixture_table

    opts = {"n_boot": 3, "n_null": 3} if args.quick else {}
    with measure() as m:
        res = mixture_table(table, leader=args.leader, rng=0, **opts)
    d = res.details
    t.add("mixture", "national fit with intervals and p-value"
          + (" (--quick: 3 + 3 refits)" if args.quick else ""), n=res.n, m=m,
          value=f"fraud share {res.statistic:.4f} [{d['share_fraud_ci_low']:.4f}, "
                f"{d['share_fraud_ci_high']:.4f}], p = {res.pvalue:.3g}",
          note=f"manufactured {d['manufactured']:,.0f}, stolen {d['stolen']:,.0f}; "
               f"{res.params['n_boot']} bootstrap + {res.params['n_null']} null refits, "
               f"{d['iterations']} EM steps")
    if not args.quick:
        t.target("mixture national fit with intervals <= 60 s", m.seconds <= 60,
                 f"{m.seconds:.1f} s")
    print(f"mixture: national fit with intervals on {res.n:,} stations in "
          f"{m.seconds:.1f} s", flush=True)
