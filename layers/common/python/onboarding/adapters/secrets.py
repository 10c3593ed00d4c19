"""Secrets from AWS Secrets Manager, read once per container and only when needed."""

from __future__ import annotations

from functools import lru_cache

from onboarding.adapters import aws


@lru_cache(maxsize=8)
def secret_string(secret_id: str) -> str:
    return str(aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
