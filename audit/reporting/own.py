"""The observer's own-election report: reading, wording and tables.

``notebooks/04-your-election.py`` turns any station file a reader accepts
into an HTML report (``audit report FILE --format F --out DIR``).  The
notebook only calls the functions here, so that the wording of every
sentence is written once, tested, and the same for every file:

- :func:`check_parameters` and :func:`load_station_file`: one-line errors
  for an empty or bad parameter, before any long run;
- :func:`data_summary`, :func:`exclusion_summary`, :func:`findings_summary`:
  what was read, what was left out and why, impossible figures kept;
- :func:`battery_rows` and :func:`finding_sentence`: each test's finding in
  one plain sentence with its Holm-adjusted p-value (written by
  :func:`audit.core.pvalues.pvalue_text`, a bound where it is one);
- :func:`estimates_table`: excess votes, fingerprint and mixture estimates
  with their intervals and what they mean;
- :func:`closing_text`: "what this does and does not show", from the
  results.

The verdict rule is the battery's, stated once: a run *rejects* its
clean-count null when its Holm-adjusted p-value is at most ``alpha``
(``reject_holm`` of :func:`audit.stations.battery.run_battery`); only runs
of evidence tests (``REGISTRY[name].evidence``) count as evidence, and a
rejection is an anomaly to explain, not proof of fraud.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from ..core.errors import InputError
from ..core.pvalues import pvalue_text
from ..stations.stuffing import FOUND_ON_TWINS, HONEST_BALLOT_SHARE, HONEST_STATION_SHARE

__all__ = ["LANGUAGES", "check_parameters", "load_station_file", "data_summary",
           "exclusion_summary", "findings_summary", "battery_rows", "finding_sentence",
           "estimates_table", "closing_text", "verdict", "where_display", "pvalue_column",
           "read_as_text",
           "dataset_pairs", "findings_with_ids"]

#: Languages the report is written in.
LANGUAGES = ("en",)


def _split(text) -> list[str]:
    return [part.strip() for part in str(text or "").split(",") if part.strip()]


def check_parameters(file, fmt, *, by="", region="", lang="en", alpha=0.05,
                     tests="", mapping="") -> dict:
    """Check the report's parameters before anything is read.

    An empty ``fmt`` is told from the file as ``audit run`` does: canonical
    with a ``mapping``, else the one reader whose columns the file has (one
    line listing the candidates when none or several fit).

    Returns the cleaned parameters (``file``, ``format``, ``dataset``: True
    for a registered dataset name, ``by``, ``regions``, ``tests``); raises
    :class:`InputError` with one line naming the bad parameter.
    """
    from ..stations import forensics  # noqa: F401  (fills the registry)
    from ..stations.registry import REGISTRY
    from ..tables import datasets
    from ..tables.readers import FORMATS

    file = str(file or "").strip()
    fmt = str(fmt or "").strip()
    if not file:
        raise InputError("FILE is empty: give a polling-station results file (or a "
                         "registered dataset name, see `audit datasets`)")
    if lang not in LANGUAGES:
        raise InputError(f"--lang {lang!r} is not available; languages: "
                         + ", ".join(LANGUAGES))
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise InputError(f"ALPHA must be a number in (0, 1), got {alpha!r}") from None
    if not 0 < alpha < 1:
        raise InputError(f"ALPHA must be a number in (0, 1), got {alpha!r}")
    is_dataset = datasets.is_dataset(file)
    if is_dataset:
        spec = datasets.REGISTRY[file]
        if not spec.format:
            raise InputError(f"dataset {file!r} is not a station table")
        if fmt and fmt != spec.format:
            raise InputError(f"dataset {file!r} has format {spec.format!r}, not {fmt!r}")
        fmt = spec.format
    else:
        if not Path(file).exists():
            raise InputError("no such file, and not a registered dataset", file=file)
        if not fmt and str(mapping or "").strip():
            fmt = "canonical"
        elif not fmt:
            from ..tables.detect import detect_format

            fmt = detect_format(Path(file), FORMATS)
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}; expected one of " + ", ".join(FORMATS))
    names = _split(tests)
    unknown = [t for t in names if t not in REGISTRY]
    if unknown:
        raise InputError(f"unknown test {unknown[0]!r}; see `audit tests`")
    by = str(by or "").strip()
    if by and by not in ("region", "district"):
        raise InputError(f"BY must be region or district (or empty), got {by!r}")
    return {"file": file, "format": fmt, "dataset": is_dataset, "by": by or None,
            "regions": _split(region), "tests": names or None, "alpha": alpha}


def dataset_pairs(name: str, text: str, *, leaders: bool = True,
                  required: bool = True) -> list[tuple[str, str | None]]:
    """Parse a bundled report's dataset parameter: ``"name:leader,..."``
    (``leaders=False``: ``"name,..."``) into ``(dataset, leader)`` pairs.

    Raises :class:`InputError` (one line) for an empty value where one is
    ``required``, an item without its leader, or a name that is not a
    registered dataset (a file path is pointed to ``audit report FILE``).
    """
    from ..tables import datasets

    items = _split(text)
    if not items and required:
        raise InputError(f"{name} is empty: give registered dataset names (see `audit "
                         "datasets`); for a file of your own run `audit report FILE`")
    pairs = []
    for item in items:
        if leaders:
            if ":" not in item:
                raise InputError(f"{name}: {item!r} needs its leader, as NAME:LEADER")
            ds, lead = item.rsplit(":", 1)
        else:
            ds, lead = item, None
        if not datasets.is_dataset(ds):
            raise InputError(f"{name}: {ds!r} is not a registered dataset (see `audit "
                             "datasets`); for a file of your own run `audit report FILE "
                             "--format F --out DIR`")
        pairs.append((ds, lead))
    return pairs


def load_station_file(params: dict, *, mapping: str = ""):
    """Read the file (or dataset) of :func:`check_parameters`; keep the
    regions asked for.  Returns the :class:`StationTable`."""
    from ..tables import datasets
    from ..tables.readers import read

    if params["dataset"]:
        table = datasets.load(params["file"])
    else:
        options = {"mapping": mapping} if mapping else {}
        if mapping and params["format"] != "canonical":
            raise InputError("MAPPING applies only to FORMAT canonical")
        table = read(params["file"], params["format"], **options)
    if table.data.empty:
        raise InputError("the file holds no station with results", file=params["file"])
    if params["by"] and params["by"] not in table.data.columns:
        raise InputError(f"BY {params['by']!r}: the file has no such level; it has "
                         + (", ".join(table.hierarchy) or "no hierarchy"))
    if params["regions"]:
        if "region" not in table.data.columns:
            raise InputError("REGION: the file has no region column to select on")
        known = set(table.data["region"].astype(str))
        missing = [r for r in params["regions"] if r not in known]
        if missing:
            sample = ", ".join(sorted(known)[:5])
            raise InputError(f"REGION {missing[0]!r} is not in the file (regions include: "
                             f"{sample})")
        table = table.select("region", params["regions"])
    return table


def data_summary(table, *, name: str, leader: str) -> pd.DataFrame:
    """What was read: one row per fact, ``item`` and ``value``."""
    src = table.source
    d = table.data
    rows = [("file", name), ("format", src.get("format", "")),
            ("sha256 (first 16 hex digits)", str(src.get("sha256", ""))[:16]),
            ("stations kept", f"{len(d):,}"),
            ("source rows left out", f"{len(table.excluded):,}"),
            ("impossible figures kept (findings)", f"{len(table.findings):,}"),
            ("hierarchy", ", ".join(table.hierarchy) or "none"),
            ("options", f"{len(table.options)}: " + ", ".join(map(str, table.options[:8]))
             + (", ..." if len(table.options) > 8 else "")),
            ("leader (option tested)", leader)]
    if src.get("ballots_cast_from_options"):
        rows.append(("ballots cast", "the options added up (valid votes): the file has "
                                     "no ballots-cast column"))
    sel = src.get("selection")
    if sel:
        rows.append(("selection", "; ".join(f"{k}: {', '.join(map(str, v))}"
                                            for k, v in sel.items())))
    for col in ("registered", "ballots_cast", leader):
        if col in d.columns:
            rows.append((f"total {col}", f"{int(pd.to_numeric(d[col]).sum()):,}"))
    return pd.DataFrame(rows, columns=["item", "value"])


def _count_by(frame: pd.DataFrame, column: str, count: str) -> pd.DataFrame:
    """Rows of ``frame`` counted by ``column`` (largest first, ties by name)."""
    if not len(frame):
        return pd.DataFrame({column: pd.Series(dtype=object),
                             count: pd.Series(dtype="int64")})
    out = frame[column].astype(str).value_counts().rename_axis(column).reset_index(name=count)
    return out.sort_values([count, column], ascending=[False, True], ignore_index=True)


def exclusion_summary(table) -> pd.DataFrame:
    """Source rows left out, counted by reason (largest first)."""
    return _count_by(table.excluded, "reason", "rows")


def findings_summary(table) -> pd.DataFrame:
    """Impossible figures kept as reported, counted by check."""
    return _count_by(table.findings, "check", "stations")


def findings_with_ids(table) -> pd.DataFrame:
    """The findings one by one, with the station's labels as in the file
    (:meth:`audit.tables.station_table.StationTable.labelled_findings`)."""
    return table.labelled_findings()


def pvalue_column(pvalues, results, adjusted=None) -> list[str]:
    """P-values of battery rows as text (see :func:`audit.core.pvalues.pvalue_text`).

    Parameters
    ----------
    pvalues : sequence of float
        The raw p-values, one per row.
    results : sequence of TestResult or None
        The results aligned with the rows (their settings tell whether a
        p-value is a bound).
    adjusted : sequence of float, optional
        Adjusted p-values of the same rows, written instead of the raw ones.
    """
    pvalues = list(pvalues)
    results = list(results)
    if len(results) != len(pvalues):
        raise ValueError(f"{len(pvalues)} p-values but {len(results)} results")
    adj = [None] * len(pvalues) if adjusted is None else list(adjusted)
    return [pvalue_text(p, params=getattr(r, "params", None),
                        details=getattr(r, "details", None), adjusted=a)
            for p, r, a in zip(pvalues, results, adj)]


def _first_sentence(text: str) -> str:
    """The first sentence of a description, without its full stop."""
    first = re.split(r"(?<=[a-z0-9)])\.\s+(?=[A-Z])", text.strip())[0]
    return first.strip().rstrip(".,;:")


def verdict(reject: bool, evidence: bool, has_p: bool = True) -> str:
    """The verdict words of one run (the battery's ``reject_holm``)."""
    if not has_p:
        return "estimate only (no p-value)"
    if reject:
        return ("rejects a clean count" if evidence
                else "departs from its model (descriptive, not evidence)")
    return "no departure found"


def battery_rows(battery) -> pd.DataFrame:
    """The battery's runs with their p-values as text and their verdicts.

    Columns: ``class`` (evidence / descriptive), ``test``, ``scope``,
    ``what it checks`` (the registry's description), ``n``, ``p`` (raw),
    ``Holm p`` (adjusted; both as :func:`~audit.core.pvalues.pvalue_text`
    writes them), ``verdict``, ``status``, ``reason``, ``read as``
    (:func:`read_as_text`); then the numbers
    ``pvalue``, ``p_holm`` and ``reject_holm``.
    """
    from ..stations.registry import REGISTRY

    rows = []
    for rec, res in zip(battery.evidence.itertuples(index=False), battery.results):
        params = getattr(res, "params", None)
        details = getattr(res, "details", None)
        ok = rec.status == "ok"
        spec = REGISTRY.get(rec.test)
        desc = (spec.description if spec is not None else "") or ""
        rows.append({
            "class": "evidence" if bool(rec.evidence) else "descriptive",
            "test": rec.test, "scope": rec.scope,
            "what it checks": _first_sentence(desc),
            "n": int(rec.n),
            "p": pvalue_text(rec.pvalue, params=params, details=details) if ok else "",
            "Holm p": pvalue_text(rec.pvalue, params=params, details=details,
                                  adjusted=rec.p_holm) if ok else "",
            "verdict": (verdict(bool(rec.reject_holm), bool(rec.evidence),
                                not math.isnan(float(rec.pvalue)))
                        if ok else "not run"),
            "status": rec.status, "reason": rec.reason,
            "read as": read_as_text(details),
            "pvalue": rec.pvalue, "p_holm": rec.p_holm,
            "reject_holm": bool(rec.reject_holm) and ok})
    return pd.DataFrame(rows)


def read_as_text(details) -> str:
    """The columns a test read in the place of others the file lacks (the
    registry's stand-ins), in words; '' when none."""
    read = (details or {}).get("read_as") or {}
    return "; ".join(f"{other.replace('_', ' ')} read as {role.replace('_', ' ')} "
                     "(the file has none)" for role, other in read.items())


def finding_sentence(row, *, alpha: float) -> str:
    """One plain sentence for one run of :func:`battery_rows`."""
    where = "nationally" if row["scope"] == "national" else f"in {row['scope']}"
    what = row["what it checks"] or row["test"]
    if row.get("read as"):
        where += f"; {row['read as']}"
    if row["status"] != "ok":
        return f"**{row['test']}** ({where}) did not run: {row['reason']}."
    if math.isnan(float(row["pvalue"])):
        return (f"**{row['test']}** ({what}) {where}: an estimate without a p-value; see "
                "the estimates below.")
    if row["reject_holm"]:
        if row["class"] == "evidence":
            return (f"**{row['test']}** ({what}) {where}: the counts are unlikely "
                    f"under a clean count (Holm-adjusted p {row['Holm p']}, at most "
                    f"{alpha:g}): an anomaly to explain.")
        return (f"**{row['test']}** ({what}) {where}: the data depart from the "
                f"test's model (Holm-adjusted p {row['Holm p']}); this test also departs "
                "on honestly counted elections, so this is description, not evidence.")
    return (f"**{row['test']}** ({what}) {where}: no departure beyond chance at the "
            f"{alpha:g} level (Holm-adjusted p {row['Holm p']}).")


def _interval(lo, hi, fmt) -> str:
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "no interval"
    return f"{fmt(lo)} to {fmt(hi)}"


def _votes(x) -> str:
    return f"{x:,.0f}"


def _pct(x) -> str:
    return f"{100 * x:.1f}%"


#: Added to an estimate whose interval leaves out its point value.
BIAS_NOTE = (" The interval is corrected for the bias the fit shows on elections simulated "
             "from it, so it can leave out the point value.")


def _estimate(name, value, lo, hi, fmt, level, meaning) -> dict:
    """One row of :func:`estimates_table`."""
    value = float("nan") if value is None else float(value)
    outside = (lo is not None and hi is not None and math.isfinite(value)
               and math.isfinite(lo) and math.isfinite(hi) and not lo <= value <= hi)
    return {"estimate": name, "value": fmt(value) if math.isfinite(value) else "n/a",
            "interval": f"{level}: " + _interval(lo, hi, fmt),
            "what it means": meaning + (BIAS_NOTE if outside else "")}


def _range(bounds, digits: int) -> str:
    """``(0.0, 0.0013)`` as "0% to 0.13%" (a zero without decimals)."""
    return " to ".join(f"{v:.{digits if v else 0}%}" for v in bounds)


def estimates_table(battery, mixture=None, stuffing=None) -> pd.DataFrame:
    """Estimates with their intervals and a plain explanation.

    One row per estimate of the national excess-votes, fingerprint and
    mixture runs that ran: ``estimate``, ``value``, ``interval`` (the
    test's own confidence level), ``what it means``.  ``mixture`` is a
    national :func:`~audit.stations.forensics.mixture.mixture_table` fit
    made apart from the battery (the model is not in its default set);
    ``stuffing`` the :func:`~audit.stations.stuffing.stuffing_scores` of the
    same table (two rows: the share of stations and the ballots added).
    """
    runs = [(rec.test, res) for rec, res in zip(battery.evidence.itertuples(index=False),
                                                battery.results)
            if res is not None and rec.scope == "national" and rec.status == "ok"]
    if mixture is not None and not any(test == "mixture" for test, _ in runs):
        runs.append(("mixture", mixture))
    rows = []
    for test, res in runs:
        d = res.details
        level = f"{100 * d.get('confidence', 0.95):.0f}%"

        def add(name, key, fmt, meaning, value=None):
            # an estimate and its interval, ``key``, ``key_ci_low``, ``key_ci_high``
            rows.append(_estimate(name, d.get(key) if value is None else value,
                                  d.get(f"{key}_ci_low"), d.get(f"{key}_ci_high"), fmt,
                                  level, meaning))

        if test == "excess_votes":
            add("excess votes for the leader", "excess", _votes,
                "Votes the leader received beyond what the stations near the most common "
                "turnout would predict if higher-turnout stations voted like them "
                "(Shpilkin's method). A large positive value fits added ballots, but also "
                "any real link between turnout and support; a negative value means "
                "higher-turnout stations favour the leader less.", value=res.statistic)
        elif test == "fingerprint":
            add("fingerprint: share of stations with incremental fraud (f_i)", "f_i", _pct,
                "From fitting Klimek et al.'s (2012) model to the joint spread of turnout and "
                "leader share: the share of stations whose cloud is smeared toward high "
                "turnout and high support, as added ballots would do. Zero means the cloud "
                "fits a clean count.")
            add("fingerprint: share of stations with extreme fraud (f_e)", "f_e", _pct,
                "Stations reported near 100% turnout and 100% support.")
        elif test == "mixture":
            add("mixture model: share of stations classed as fraud", "share_fraud", _pct,
                "A finite-mixture model (Mebane's eforensics class) sorts stations into "
                "clean, incremental-fraud and extreme-fraud classes; this is the estimated "
                "share of the two fraud classes.")
            add("mixture model: votes in its fraud classes (manufactured + stolen)",
                "fraud_votes", _votes,
                f"Votes the model attributes to fraud, "
                f"{_pct(d.get('fraud_votes_share', float('nan')))} of the leader's votes. It "
                "rests on the model's shape for clean stations; a heterogeneous electorate "
                "can look like fraud to it.")
    if stuffing is not None:
        level = f"{100 * stuffing.level:.0f}%"
        lo, hi = stuffing.share_interval
        rows.append(_estimate(
            "stuffing model: share of stations stuffed", stuffing.share, lo, hi, _pct, level,
            "A two-class model compares each station with the clean law of its own district "
            "(turnout, invalid share, leader share); this is the share of stations it finds "
            "better explained by ballots added for the leader. The honestly counted "
            f"elections measured give {_range(HONEST_STATION_SHARE, 0)}, mostly small "
            "stations where nearly everyone voted."))
        lo, hi = stuffing.ballots_interval
        rows.append(_estimate(
            "stuffing model: ballots added", stuffing.stuffed_ballots, lo, hi, _votes, level,
            f"Ballots the model expects were added, {_pct(stuffing.ballot_share)} of the "
            "ballots cast. It "
            "sees only stations unlike the rest of their district: ballots added alike "
            "across a whole district become part of that district's clean law. The "
            "interval holds the model as right; the honestly counted elections measured "
            f"give {_range(HONEST_BALLOT_SHARE, 2)} of the ballots cast, and on simulated "
            f"stuffing of single stations the model finds {_range(FOUND_ON_TWINS, 0)} of "
            "the ballots added."))
    return pd.DataFrame(rows, columns=["estimate", "value", "interval", "what it means"])


def closing_text(rows: pd.DataFrame, *, alpha: float, where=None, findings: int = 0,
                 excluded: int = 0) -> str:
    """"What this does and does not show", written from the results (Markdown)."""
    ok = rows[rows["status"] == "ok"]
    nat = ok[ok["scope"] == "national"]
    ev = nat[nat["class"] == "evidence"]
    ev_hit = ev[ev["reject_holm"]]
    desc_hit = nat[(nat["class"] == "descriptive") & nat["reject_holm"]]
    sub = ok[(ok["scope"] != "national") & (ok["class"] == "evidence") & ok["reject_holm"]]
    parts = []
    if ev.empty:
        parts.append("**What it shows.** No evidence test could run nationally on this "
                     "file, so this report can state no evidence either way.")
    elif ev_hit.empty:
        who = ("The one evidence test that ran nationally does not reject" if len(ev) == 1
               else f"None of the {len(ev)} evidence tests that ran nationally rejects")
        parts.append(f"**What it shows.** {who} a clean count at the {alpha:g} level after "
                     "Holm adjustment. The "
                     "counts are consistent with an honest count on everything these tests "
                     "look at.")
    else:
        listed = ", ".join(f"{t} (Holm-adjusted p {p})" for t, p in
                           zip(ev_hit["test"], ev_hit["Holm p"]))
        verb = "rejects" if len(ev_hit) == 1 else "reject"
        parts.append(f"**What it shows.** {len(ev_hit)} of the {len(ev)} evidence tests "
                     f"that ran nationally {verb} a clean count at the {alpha:g} level after "
                     f"Holm adjustment: {listed}. These tests hold their false-alarm rate on "
                     "honestly counted elections, so chance alone is an unlikely "
                     "explanation.")
    if len(sub):
        scopes = sorted(set(sub["scope"]))
        parts.append(f"Within units, evidence tests reject in {len(scopes)} of them: "
                     + ", ".join(scopes[:10]) + (", ..." if len(scopes) > 10 else "") + ".")
    if where is not None and where.national["integer_excess"] > 0:
        n = where.national
        parts.append(f"The where-to-look table splits the integer-percentage figures: "
                     f"{n['integer_observed']:,} stations at whole percentages against "
                     f"{n['integer_expected']:,.0f} expected; the units at its top carry "
                     "the largest parts of the excess and are where to look first.")
    if len(desc_hit):
        parts.append(f"{len(desc_hit)} descriptive test{'s' if len(desc_hit) != 1 else ''} "
                     f"depart{'s' if len(desc_hit) == 1 else ''} from their models "
                     f"({', '.join(desc_hit['test'])}); they also do so on honestly "
                     "counted elections, so they are shown for description and counted "
                     "as no evidence.")
    parts.append(
        "**What it does not show.** A rejection is an anomaly to explain, not proof of "
        "fraud: the tests say how unlikely the counts are under a simple model of a clean "
        "count, not who changed them, how, or why. Round numbers can come from tired "
        "officials, heterogeneous electorates can mimic some patterns, and a test whose "
        "null does not fit an election rejects without anyone cheating. Equally, no "
        "rejection is not proof of a clean count: fraud that leaves the counts looking "
        "ordinary (for example, ballots added in proportion) passes these tests. Every "
        "verdict in this report follows one rule: a run rejects when its Holm-adjusted "
        f"p-value is at most {alpha:g}, and only evidence tests count as evidence.")
    if findings or excluded:
        parts.append(f"The file itself reports {findings:,} impossible figures (kept and "
                     f"counted as findings above) and {excluded:,} rows were left out with "
                     "their reasons; both deserve an explanation from the authority that "
                     "published the file.")
    return "\n\n".join(parts)



#: Column names of the where-to-look tables as the report shows them.
WHERE_NAMES = {
    "source_row": "source row", "stations": "stations used",
    "integer_observed": "whole-% stations", "integer_expected": "expected",
    "integer_excess": "excess", "share_of_excess": "share of national excess",
    "spike_stations": "in spikes", "fraud_stations": "in a fraud class (model)",
    "fraud_votes": "votes in fraud classes (model)", "integer": "whole %",
    "p_integer": "chance of whole %", "in_spike": "in a spike",
    "p_fraud": "chance of a fraud class (model)", "likely_fraud": "in a fraud class (model)",
    "stuffed_stations": "likely stuffed (model)", "stuffed_ballots": "ballots added (model)",
    "p_stuffed": "chance of stuffing (model)", "likely_stuffed": "likely stuffed (model)"}


def where_display(frame: pd.DataFrame) -> pd.DataFrame:
    """A where-to-look table as the report shows it: plain column names,
    shares as percentages, expected counts and probabilities rounded, flags
    as yes / no (the CSV files keep the exact numbers)."""
    out = frame.copy()
    for col in ("integer_expected", "integer_excess"):
        if col in out:
            out[col] = out[col].map(lambda v: f"{round(v, 1) + 0.0:,.1f}")  # never "-0.0"
    if "share_of_excess" in out:
        out["share_of_excess"] = out["share_of_excess"].map(
            lambda v: "" if pd.isna(v) else f"{100 * v:.1f}%")
    for col in ("p_integer", "p_fraud", "p_stuffed"):
        if col in out:
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    for col in ("fraud_votes", "stuffed_ballots"):
        if col in out:
            out[col] = out[col].map(lambda v: f"{v:,.0f}")
    for col in ("in_spike", "likely_fraud", "likely_stuffed", "integer"):
        if col in out:
            out[col] = out[col].map(lambda v: "yes" if bool(v) else "no")
    return out.rename(columns=WHERE_NAMES)
