"""The platform's two renderings: the CDK app (cloud) and the local runner."""
