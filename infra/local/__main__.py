"""``make dev``: the whole platform on this machine, no AWS account needed."""

from __future__ import annotations

import os
import signal
import sys
import threading

from infra.local.server import LocalServer
from infra.local.state import state_file, write_state
from infra.local.tenants import TenantNotSetUp
from infra.tenants import TenantFileError, tenants_dir


def main() -> None:
    port = int(os.environ.get("PORT", "3000"))
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    try:
        server = LocalServer(port=port, endpoint_url=endpoint).start()
    except TenantFileError as problem:
        sys.exit(f"A tenant file is not valid:\n{problem}")
    except TenantNotSetUp as problem:
        sys.exit(f"A tenant could not be set up: {problem}")
    resources = server.resources
    write_state(
        {
            "url": server.url,
            "endpoint_url": resources.endpoint_url,
            "region": resources.region,
            "table_name": resources.table_name,
            "user_pool_id": resources.user_pool_id,
            "smp_url": server.smp_url,
            "smp_sandbox": server.smp_sandbox is not None,
        }
    )
    where = endpoint or f"{resources.endpoint_url} (embedded moto)"
    smp = f"sandbox, state at {server.smp_url}/_sandbox/state" if server.smp_sandbox else "SMP_BASE_URL"
    tenants = (
        "".join(f"\n                 {t['tenant']}: {t['login_url']}" for t in server.tenants) or " none"
    )
    print(
        f"""peppol-onboarding is running on {server.url}
  AWS emulator   {where}
  API docs       {server.url}/docs   (OpenAPI: {server.url}/openapi.json)
  mail outbox    {server.url}/_local/outbox   (activation links are printed here too)
  log in         {server.url}/login   (Google, Microsoft, Apple: the local identity provider;
                 register identities with POST {server.url}/_local/idp/identities)
  user pool      {server.resources.user_pool_id}
  SMP            {server.smp_url}   ({smp})
  Peppol worker  polls the registration queue; job changes are printed as [peppol] lines
  tenants        from {tenants_dir()} (POST {server.url}/_local/tenants/reload loads it again):{tenants}
Press Ctrl+C to stop.""",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        state_file().unlink(missing_ok=True)


if __name__ == "__main__":
    main()
