"""The polling-station test battery: the test registry
(:mod:`audit.stations.registry`), the tests themselves
(:mod:`audit.stations.forensics`), the battery that runs them
(:mod:`audit.stations.battery`), simulated elections and clean twins, the
calibration harness (:mod:`audit.stations.calibration`) and its Dask
variant (:mod:`audit.stations.distributed`).

Nothing here imports the referendum audit (:mod:`audit.referenda`).
"""
