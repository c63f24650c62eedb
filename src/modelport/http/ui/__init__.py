"""The web dashboard at `/ui`: static HTML, JS and CSS shipped in the package, reading the `/api/v1` routes.

The files are public (the page must load to ask for a key); every number it shows comes
from the JSON API with the key the user typed, so the data stays behind the guard.
"""

from __future__ import annotations

from modelport.http.ui.routes import ASSETS, routes

__all__ = ["ASSETS", "routes"]
