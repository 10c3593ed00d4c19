"""How synth grows with tenants: ``make synth``'s work (the CDK app, cdk-nag on every stack)
with no tenant, one, and fifty tenant files, each in a fresh interpreter as the CDK CLI runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.platform import ROOT

COUNTS = (0, 1, 50)
PROGRAM = "from infra.app import build_app; build_app(outdir={outdir!r})[0].synth()"


def _tenant_file(index: int) -> dict[str, object]:
    domain = f"tenant{index:02d}.example"
    return {
        "name": f"Tenant {index:02d}",
        "email_domains": [domain],
        "admins": [f"it@{domain}"],
        "idp": {
            "type": "oidc",
            "issuer": f"https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000{index:02d}/v2.0",
            "client_id": f"client-{index:02d}",
            "client_secret_name": f"peppol-onboarding/tenants/tenant{index:02d}",
        },
    }


def _synth_seconds(count: int, folder: Path) -> float:
    tenants = folder / f"tenants-{count}"
    tenants.mkdir()
    for index in range(count):
        (tenants / f"tenant{index:02d}.json").write_text(json.dumps(_tenant_file(index)))
    outdir = folder / f"cdk.out-{count}"
    env = {**os.environ, "TENANTS_DIR": str(tenants), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter and program
        [sys.executable, "-c", PROGRAM.format(outdir=str(outdir))], cwd=ROOT, env=env, check=True
    )
    return time.perf_counter() - started


def synth() -> None:
    if not (ROOT / "build" / "layer" / "python").is_dir():
        print("\nSynth with tenants: skipped (build/layer is missing: `make layer`)")
        return
    print("\nSynth with tenant stacks (the CDK app and cdk-nag, one fresh interpreter each)")
    print(f"  {'tenant files':>12} {'seconds':>8} {'per tenant':>11}")
    with tempfile.TemporaryDirectory() as folder:
        base = None
        for count in COUNTS:
            seconds = _synth_seconds(count, Path(folder))
            base = seconds if base is None else base
            per = f"{(seconds - base) / count:11.2f}" if count else f"{'-':>11}"
            print(f"  {count:12} {seconds:8.1f} {per}")
