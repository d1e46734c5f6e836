"""Shape of the station distributions of turnout and leader share.

Five families of checks on station-level rates, where turnout is
``ballots_cast / registered`` and the leader's share is
``leader / ballots_cast``:

- skewness and kurtosis of turnout and of leader share (D'Agostino tests);
- Hartigan's dip test of unimodality of turnout;
- the correlation between turnout and leader share;
- the Sobyanin-Sukhovolsky regression of leader votes per registered voter
  on turnout.

Stations with no registered voters (turnout) or no ballots (share) are left
out and counted in ``details``; so are stations reporting more ballots than
voters or more leader votes than ballots (impossible figures are findings of
the validation step, not data for a shape test).

Warning: real clean elections are mixtures of heterogeneous regions, so their
station rates are neither normal nor free of turnout-share association.  The
normal-theory skewness and kurtosis tests reject on clean simulated elections
(see ``docs/calibration.md``): read them as descriptions, not as evidence.
"""


# The tests register in this order (the order of the battery's rows).
from .moments import (leader_share_kurtosis, leader_share_skewness, turnout_kurtosis,
                      turnout_skewness)
from .dip import dip_pvalue, dip_statistic, turnout_dip
from .correlation import turnout_leader_correlation
from .regression import sobyanin_sukhovolsky

__all__ = ["dip_statistic", "dip_pvalue", "turnout_skewness", "turnout_kurtosis",
           "leader_share_skewness", "leader_share_kurtosis", "turnout_dip",
           "turnout_leader_correlation", "sobyanin_sukhovolsky"]
