"""The outbox sweeper, run on a schedule (every minute in AWS): sends registration jobs that
never reached the queue and fails those that never finished (``outbox.py``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from onboarding.observability import logger, metrics
from onboarding.settings import get_settings
from peppol_api import wiring
from peppol_api.outbox import Outbox


@lru_cache(maxsize=1)
def outbox() -> Outbox:
    return Outbox(
        settings=get_settings(),
        jobs=wiring.jobs(),
        organisations=wiring.organisations(),
        queue=wiring.queue(),
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, list[str]]:
    return outbox().sweep().as_dict()
