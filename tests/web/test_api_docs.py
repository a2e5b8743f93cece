"""The interactive API page works without internet: Swagger UI comes from this server."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from agentladder.config import Settings
from agentladder.web.app import create_app


def test_api_docs_load_every_asset_from_this_server(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    page = client.get("/api/docs")
    assert page.status_code == 200
    # It once loaded Swagger UI from cdn.jsdelivr.net: a blank page on an intranet.
    assert "cdn." not in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
    csp = page.headers["content-security-policy"]
    assert "cdn" not in csp
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert {asset.rsplit("/", 1)[-1] for asset in assets} >= {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
    }
    for asset in assets:
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.content, asset
    assert "'/api/openapi.json'" in page.text or '"/api/openapi.json"' in page.text
    assert client.get("/api/openapi.json").json()["info"]["title"] == "agentladder"
