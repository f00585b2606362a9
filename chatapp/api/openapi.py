"""GET /api/v1/openapi.json: the OpenAPI document, made from the views' docstrings and the schemas (apispec)."""
from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask, current_app, jsonify

from .blueprint import bp
from .schemas import COMPONENTS

# Every refusal, on every operation (docs/api.md, "Errors").
ERROR_RESPONSES = {
    "400": "invalid: the request breaks a rule (the message says which)",
    "401": "unauthorized: no credentials, or a token that is malformed, unknown, revoked or expired",
    "403": "forbidden: not allowed to this account, or the token lacks the scope",
    "404": "not_found",
    "409": "conflict",
    "413": "too_large",
    "429": "rate_limited: wait retry_after seconds",
}


def build_spec(app: Flask) -> dict:
    """The document for app's /api/v1 routes: each view's YAML, its scope as security, the errors it may answer."""
    spec = APISpec(
        title="chatapp API", version="1.0.0", openapi_version="3.0.3",
        info={"description": "Personal access tokens and bots; see docs/api.md."},
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "cat_…"})
    for schema in COMPONENTS:
        spec.components.schema(schema.__name__, schema=schema)
    for name, description in ERROR_RESPONSES.items():
        spec.components.response(
            name, {"description": description, "content": {"application/json": {"schema": "Error"}}}
        )
    scopes = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not rule.endpoint.startswith(f"{bp.name}.") or rule.endpoint == f"{bp.name}.openapi":
            continue
        view = app.view_functions[rule.endpoint]
        spec.path(view=view, app=app)
        scopes[FlaskPlugin.flaskpath2openapi(rule.rule)] = getattr(view, "api_scope", None)
    document = spec.to_dict()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            operation["security"] = [{"bearer": []}]
            operation["x-scope"] = scopes[path]  # what a token needs here (docs/api.md, "Scopes")
            operation["tags"] = [path.split("/")[3]]  # rooms, conversations, me
            operation["responses"].update(
                {status: {"$ref": f"#/components/responses/{status}"} for status in ERROR_RESPONSES}
            )
    return document


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API (no credentials needed: it holds no data)."""
    document = current_app.extensions.get("chatapp_openapi")
    if document is None:
        document = current_app.extensions["chatapp_openapi"] = build_spec(current_app)
    return jsonify(document)
