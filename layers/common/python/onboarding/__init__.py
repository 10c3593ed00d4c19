"""Shared code of the peppol-onboarding functions (the common Lambda layer).

- ``domain``: models and pure rules (no I/O, no boto3, no events);
- ``adapters``: DynamoDB repositories, SES mailer, Cognito identity;
- ``web``: the HTTP edge (resolver set-up, error mapping, the caller's identity).
"""
