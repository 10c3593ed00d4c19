"""The local rendering of the platform: ``python -m infra.local`` (``make dev``)."""
