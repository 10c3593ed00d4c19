"""The platform's two renderings: the CDK app (cloud) and the local runner.

Both read the platform description (``infra.platform``), which takes the table layout and
the settings model from the common layer: that is the layer's own description of what it
needs, so it is importable from here (it imports no function code and no AWS SDK)."""

import sys
from pathlib import Path

_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "common" / "python")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)
