"""The default configuration and its street and grid maps, shipped inside the package.

In the source tree `config.yaml` and `data` here are symlinks to the repository's own; a regular
install (`pip install .`) copies the files, so `python -m bot` runs the demo from any directory.
"""

from pathlib import Path

DEFAULT_CONFIG = Path(__file__).parent / "config.yaml"
