"""Where a running `make dev` keeps its emulator, for commands that act on it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from infra.platform import ROOT


def state_file() -> Path:
    return Path(os.environ.get("LOCAL_STATE_FILE") or ROOT / "build" / "local-platform.json")


def write_state(values: dict[str, Any]) -> None:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))


def read_state() -> dict[str, Any]:
    path = state_file()
    if not path.exists():
        raise SystemExit("the local platform is not running: start it with `make dev`")
    return json.loads(path.read_text())  # type: ignore[no-any-return]
