"""The 2022 referendum audit on region totals: the bundled announcements
and baselines (:mod:`audit.referenda.bundle`), the aggregate checks
(:mod:`audit.referenda.checks`) and the tables behind the case-study
figures (:mod:`audit.referenda.casestudy`).

Nothing here imports the station-level battery (:mod:`audit.stations`).
"""
