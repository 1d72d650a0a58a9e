"""Self-contained HTML reports: one per run (report.html), and comparisons across runs or trials.

lexitune report runs/culinary-sweep --out compare.html
"""

from lexitune.report.compare import write_comparison
from lexitune.report.run_report import write_run_report

__all__ = ["write_comparison", "write_run_report"]
