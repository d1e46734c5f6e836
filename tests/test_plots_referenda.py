"""Case-study plots draw what the tables say."""

import matplotlib

matplotlib.use("Agg")

from audit.referenda import casestudy as cs  # noqa: E402
from audit.plots import referenda as rp  # noqa: E402


def test_turnout_chart_draws_the_version_the_table_shows(evidence):
    summary = cs.announced_summary(evidence).set_index("region")
    ax = rp.turnout_by_day(cs.turnout_timeline(evidence))
    lines = {ln.get_label(): ln for ln in ax.lines}
    for region, line in lines.items():
        days, values = line.get_xdata(), line.get_ydata()
        assert len(set(days)) == len(days)              # one point per day
        assert values[list(days).index(5)] == summary.loc[region, "turnout"], region
    assert 85.4 not in lines["Zaporizhzhia"].get_ydata()   # the version found on no page
