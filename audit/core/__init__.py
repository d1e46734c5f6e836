"""The shared base every other part of the package may use: errors,
threads, versions, stable JSON and safe, reproducible output files.

It imports nothing else from the package.
"""
