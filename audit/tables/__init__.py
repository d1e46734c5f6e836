"""Station tables: the canonical table, the readers that make one from
each results format (:mod:`audit.tables.readers`), and the verified
registry of public datasets (:mod:`audit.tables.datasets`).

The bundled data package (:mod:`audit.tables.datapackage`) is read here
too: hashes, schemas and typed columns.
"""
