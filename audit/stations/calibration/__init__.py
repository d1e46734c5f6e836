"""Calibration of the station-level tests: false-alarm rate and power on
simulated elections (:mod:`.simulated`), on real clean elections and
twins of real files (:mod:`.real`), and the page and rows under
``docs/calibration`` (:mod:`.page`).

``python -m audit.stations.calibration --help`` runs the simulated part
from the command line (``audit calibrate`` runs both).
"""
