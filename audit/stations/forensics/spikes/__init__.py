"""Spikes of coarse vote shares: Rozenas' resampled kernel density test.

Officials who write results instead of counting them tend to write round
shares (50%, 60%, 2/3, 3/4). Round shares also occur by arithmetic alone,
far more often at small stations (1 of 2 voters is exactly 50%), so their
raw frequency proves nothing. Rozenas (2017) compares the observed shares
with *resampled* ones: each station's count is redrawn with its own
denominator around a share drawn from a smooth law (a mixture of beta laws
fitted to all stations), which keeps the arithmetic chance of a round share
but breaks any deliberate rounding. Where the kernel density of the observed
shares rises above every resampled density, the excess of observed stations
over the resampled mean is the estimated share of "spike" stations.

Two methods share one entry point, :func:`spikes`: ``method="rkd"`` (the
default, the resampled kernel density of the paper and of its R package
``spikes``) and ``method="exact"`` (the earlier exact beta-binomial count at
the focal shares, kept so that results computed with it can be redone).
Both are descriptive: their smooth national null does not fit honest data.

:func:`round_shares` and :func:`round_turnout` keep Rozenas' statistic and
replace the smooth law with a conditional one, each station's count against
its neighbouring counts; they hold their size on honest data (``round``).
"""


from .mixture import BetaBinomialMixture, beta_prior, fit_beta_binomial_mixture, hit_probability
from .test import SpikeResult, coarse_shares, spikes
from .round import round_shares, round_turnout

__all__ = [
    "BetaBinomialMixture",
    "SpikeResult",
    "beta_prior",
    "coarse_shares",
    "fit_beta_binomial_mixture",
    "hit_probability",
    "round_shares",
    "round_turnout",
    "spikes",
]
