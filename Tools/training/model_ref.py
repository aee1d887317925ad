"""Imports the reference model from Tools/reference, the one source of the architecture and the official key names."""
import pathlib
import sys

_REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
if str(_REFERENCE) not in sys.path:
    sys.path.insert(0, str(_REFERENCE))

from universeg_model import UniverSeg, load, widths_from_state_dict  # noqa: E402,F401
