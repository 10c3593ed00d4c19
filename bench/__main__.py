"""Prints, per function, the median import time of its handler module against a bare
``import boto3`` + one client (measured in the same run, in fresh interpreters), the number
of AWS calls each route makes against the local emulator, the Peppol worker's figures
(``bench/peppol.py``), and how synth grows with tenant stacks (``bench/tenants.py``).

    make bench            # RUNS=9 make bench for more samples
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from infra.platform import LAYER_SOURCE, PLATFORM

RUNS = int(os.environ.get("RUNS", "7"))
BASELINE = "import boto3; boto3.client('dynamodb', region_name='eu-west-1')"


def _time_import(code: str, extra_path: list[str]) -> float:
    """Milliseconds to run ``code`` in a fresh interpreter (after interpreter start-up)."""
    program = f"import time; t = time.perf_counter(); {code}; print((time.perf_counter() - t) * 1000)"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(extra_path),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    }
    command = [sys.executable, "-c", program]  # our own interpreter and program
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return float(output.stdout.strip().splitlines()[-1])


def cold_start() -> None:
    print(f"Cold start: median import time over {RUNS} fresh interpreters (lower is better)")
    print(f"  {'module':42} {'median ms':>10} {'ratio to boto3+client':>22}")
    for function in PLATFORM.functions:
        module = function.handler.rpartition(".")[0]
        paths = [str(LAYER_SOURCE), str(function.source)]
        _time_import(f"import {module}", paths)  # warm the bytecode cache
        baseline, handler = [], []
        for _ in range(RUNS):  # interleaved, so load on the machine hits both alike
            baseline.append(_time_import(BASELINE, paths))
            handler.append(_time_import(f"import {module}", paths))
        base, own = statistics.median(baseline), statistics.median(handler)
        print(f"  {'import boto3 + one client (baseline)':42} {base:10.1f} {1.0:22.2f}")
        print(f"  {module + ' (' + function.name + ')':42} {own:10.1f} {own / base:22.2f}")


def aws_calls() -> None:
    from bench.peppol import ACCESS_POINT, SMP_DELAY, peppol
    from infra.local.aws_calls import count_aws_calls
    from infra.local.bootstrap import bootstrap
    from infra.local.emulator import own_process
    from infra.local.sandboxes import Sandboxes
    from infra.local.smp_sandbox import own_process as smp_process

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "bench")  # the emulator accepts any credentials
    # The handlers' own log lines and metrics would drown the table.
    os.environ.update(POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_LOG_LEVEL="ERROR")
    # The emulator and the SMP in processes of their own, as AWS and an SMP are not in the
    # functions' process either: sharing the GIL with the worker's threads, the figures would
    # measure that rather than the worker.
    with own_process() as endpoint_url, smp_process(delay=SMP_DELAY) as smp:
        sandboxes = Sandboxes().start()
        os.environ.update(sandboxes.environment())
        os.environ.update({**smp, **ACCESS_POINT, "PLAN_FREE_ORGANISATIONS": "1000"})
        try:
            resources = bootstrap(endpoint_url, stage="bench")
            os.environ.update(resources.environment("https://bench.example"))
            from bench.routes import scenario

            print("\nAWS calls per request (against the local emulator; Scan never allowed)")
            print(f"  {'route':44} {'calls':>5}  operations")
            for label, request in scenario(resources):
                with count_aws_calls() as log:
                    status = request()
                operations = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in log.by_operation().items())
                print(f"  {label:44} {log.count:5}  {operations}  -> {status}")
                if any(op.endswith(".Scan") for op in log.by_operation()):
                    raise SystemExit(f"{label} uses a Scan")
            peppol(resources)
        finally:
            sandboxes.stop()


def main(argv: list[str]) -> int:
    from bench.tenants import synth

    cold_start()
    aws_calls()
    synth()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
