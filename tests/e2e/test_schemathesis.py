"""Property-based tests of every documented operation against `make dev` (bounded)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import RunningPlatform

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 25


def test_every_operation_holds_up_under_generated_requests(platform: RunningPlatform, tmp_path: Path) -> None:
    st = Path(sys.executable).parent / "st"
    command = [
        str(st),
        "--config-file",
        str(CONFIG),
        "run",
        f"{platform.url}/openapi.json",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261128",
        "--request-timeout",
        "15",
        "--header",
        f"Authorization: Bearer {platform.new_account('fuzz')[1]['id_token']}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
