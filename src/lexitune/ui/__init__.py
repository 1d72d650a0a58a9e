"""`lexitune ui`: a local web app over the same library as the CLI (see docs/ui.md).

lexitune ui --runs runs      # then open http://127.0.0.1:7860
"""

from lexitune.ui.app import create_app, require_token

__all__ = ["create_app", "require_token"]
