"""Shpilkin's excess votes (:mod:`.votes`) and their split into stuffed
ballots and switched votes, station by station (:mod:`.split`)."""

from .split import ExcessSplit, excess_split
from .votes import ExcessVotesResult, excess_votes

__all__ = ["ExcessSplit", "ExcessVotesResult", "excess_split", "excess_votes"]
