"""Election fingerprints and the Klimek et al. (2012) ballot-stuffing model.

The *fingerprint* of an election is the two-dimensional histogram of station
turnout against the leader's share. Clean elections give one compact blob
(sometimes a few, one per region type); ballot stuffing smears the blob
towards the upper right corner and extreme fraud piles stations up at 100%
turnout and 100% for the leader. Klimek, Yegorov, Hanel and Thurner fit a
simple generative model to the fingerprint: each station's turnout and
leader share are drawn around typical values; with probability ``f_i`` the
station sees *incremental* fraud (a fraction of non-voters' ballots is added
for the leader and a fraction of the other votes is moved to him) and with
probability ``f_e`` *extreme* fraud (nearly everything is). Fitting ``f_i``
and ``f_e`` says how much of the election the model needs to call fraud.
"""


from .model import fingerprint_histogram, simulate_klimek
from .test import FingerprintResult, fingerprint

__all__ = ["FingerprintResult", "fingerprint", "fingerprint_histogram",
           "simulate_klimek"]
