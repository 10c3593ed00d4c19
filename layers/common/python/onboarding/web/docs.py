"""The platform's OpenAPI document (generated from the resolvers by ``make openapi`` and
checked for drift by the tests) and a Swagger UI page for it that needs no CDN."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

OPENAPI_FILE = "openapi.json"


@lru_cache(maxsize=1)
def openapi_document() -> str:
    return resources.files(__package__).joinpath(OPENAPI_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def swagger_page() -> str:
    ui = resources.files("aws_lambda_powertools.event_handler.openapi.swagger_ui")
    js = ui.joinpath("swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = ui.joinpath("swagger-ui.min.css").read_text(encoding="utf-8")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Peppol onboarding API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{css}</style></head>
<body><div id="swagger-ui"></div><script>{js}</script>
<script>SwaggerUIBundle({{url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true}});</script>
</body></html>"""
