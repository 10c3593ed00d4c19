from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.platform import ROOT


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One synth of the dev stage for the whole session (jsii start-up is the slow part).
    Synth fails if any cdk-nag AwsSolutions finding is not acknowledged on its resource."""
    if not (ROOT / "build" / "layer" / "python").is_dir():
        pytest.fail("build/layer is missing: `make test` builds it (or run `make layer`)")
    from aws_cdk.assertions import Template

    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir=str(outdir))
    assembly = app.synth()
    template_file = Path(assembly.directory) / stack.template_file
    return {
        "template": Template.from_json(json.loads(template_file.read_text())),
        "file": template_file,
        "json": json.loads(template_file.read_text()),
        "outdir": Path(assembly.directory),
    }
