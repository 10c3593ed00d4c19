"""The domain: models and pure rules. Imports nothing from adapters or web."""
