"""cdk-nag acknowledgements, always on one resource and with the reason."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """``rule`` as cdk-nag reports it, e.g. ``AwsSolutions-COG1`` or
    ``AwsSolutions-IAM4[Policy::...]``."""
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))
