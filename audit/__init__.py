"""vote-audit: plausibility checks and forensic tests for reported vote counts.

Data flow one way: load -> validate -> run checks -> collect evidence -> draw
-> report.  A statistical anomaly is evidence to explain, not proof of fraud.
"""

__version__ = "0.1.0"
