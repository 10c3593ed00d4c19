from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.platform import ROOT

EXAMPLE_TENANTS = ROOT / "examples" / "tenants"


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One synth of the dev stage for the whole session (jsii start-up is the slow part).
    Synth fails if any cdk-nag AwsSolutions finding is not acknowledged on its resource."""
    if not (ROOT / "build" / "layer" / "python").is_dir():
        pytest.fail("build/layer is missing: `make test` builds it (or run `make layer`)")
    from aws_cdk.assertions import Template

    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir=str(outdir), tenants_dir=EXAMPLE_TENANTS)
    assembly = app.synth()
    template_file = Path(assembly.directory) / stack.template_file
    tenants = {
        s.stack_name.rpartition("-tenant-")[2]: json.loads(
            (Path(assembly.directory) / s.template_file).read_text()
        )
        for s in assembly.stacks
        if "-tenant-" in s.stack_name
    }
    return {
        "template": Template.from_json(json.loads(template_file.read_text())),
        "file": template_file,
        "json": json.loads(template_file.read_text()),
        "outdir": Path(assembly.directory),
        # The tenant stacks of the example tenant files (an OIDC and a SAML tenant), by slug.
        "tenants": tenants,
        "tenant_files": {
            s.stack_name.rpartition("-tenant-")[2]: Path(assembly.directory) / s.template_file
            for s in assembly.stacks
            if "-tenant-" in s.stack_name
        },
    }
