"""Logger and metrics, one of each per container. The X-Ray tracer is left out: importing
its SDK costs more than a whole lean handler, and these functions only call AWS services
whose latency the metrics and logs already show."""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "peppol-onboarding")

logger = Logger(service=SERVICE)
# Most requests record no metric; that is normal, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "PeppolOnboarding"), service=SERVICE
)
