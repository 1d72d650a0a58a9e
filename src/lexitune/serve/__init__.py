"""OpenAI-compatible server: one base model in memory, any number of LoRA adapters by name.

lexitune serve --adapter culinary=runs/culinary --adapter va=runs/va --port 8000
"""

from lexitune.serve.app import create_app
from lexitune.serve.registry import BASE_MODEL_ID, AdapterRegistry

__all__ = ["AdapterRegistry", "BASE_MODEL_ID", "create_app"]
