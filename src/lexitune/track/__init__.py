"""Experiment tracking (MLflow, or none).

python -c "from lexitune.track import make_tracker"
"""

from lexitune.track.tracker import MlflowTracker, NullTracker, make_tracker, tracked

__all__ = ["MlflowTracker", "NullTracker", "make_tracker", "tracked"]
