"""Reports: the notebooks executed with papermill and exported to HTML,
figures and tables (:mod:`audit.reporting.report`)."""
