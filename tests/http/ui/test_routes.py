"""The dashboard's routes in-process: the page and its files, their headers, and what is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from modelport.foundation.settings import Settings
from modelport.http.app import create_app
from modelport.http.ui import ASSETS
from modelport.serving.config import ServerConfig
from tests.security.http.conftest import ASGIClient, call_asgi

STATIC = resources.files("modelport.http.ui").joinpath("static")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    """The whole app with keys on, over an empty registry (the dashboard's files need no model)."""
    made = create_app(Settings.at(tmp_path), config=ServerConfig(access_log=False), watch=False)
    yield made
    made.state.registry.close()


@pytest.fixture
def client(app: FastAPI) -> ASGIClient:
    return ASGIClient(app)


def test_page_is_public_with_a_strict_policy(client: ASGIClient) -> None:
    page = client.get("/ui/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="/ui/assets/app.js">' in page.text


def test_bare_path_redirects_to_the_page(client: ASGIClient) -> None:
    answer = client.get("/ui")
    assert answer.status_code == 308 and answer.headers["location"] == "/ui/"


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_every_asset_is_served_with_its_type(client: ASGIClient, name: str) -> None:
    answer = client.get(f"/ui/assets/{name}")
    assert answer.status_code == 200 and answer.headers["content-type"] == ASSETS[name]
    assert answer.content == STATIC.joinpath(name).read_bytes()
    assert "script-src 'self'" in answer.headers["content-security-policy"]


def test_the_table_names_exactly_the_shipped_files() -> None:
    shipped = {item.name for item in STATIC.iterdir()} - {"index.html"}
    assert shipped == set(ASSETS)
    page = STATIC.joinpath("index.html").read_text()
    scripts = [STATIC.joinpath(n).read_text() for n in ASSETS if n.endswith(".js")]
    referenced = set(re.findall(r"/ui/assets/([\w.]+)", page))
    imported = {m for text in scripts for m in re.findall(r'from "\./([\w.]+)"', text)}
    assert referenced | imported <= set(ASSETS) and "app.js" in referenced


def test_nothing_is_fetched_from_elsewhere_and_no_data_becomes_markup() -> None:
    for item in STATIC.iterdir():
        text = item.read_text()
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), item.name
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in text, (item.name, sink)


@pytest.mark.parametrize("name", ["nope.js", "index.html", "APP.JS", "app.js.map"])
def test_unknown_assets_are_404(client: ASGIClient, name: str) -> None:
    answer = client.get(f"/ui/assets/{name}")
    assert answer.status_code == 404 and name in answer.json()["error"]


@pytest.mark.parametrize("raw", [b"/ui/../api/v1/keys", b"/ui/%2e%2e/", b"/ui/assets/..%2f..%2fpyproject.toml",
                                 b"/ui/assets/%2e%2e", b"/ui//assets/app.js", b"/ui/assets/..\\app.js"])
def test_path_tricks_are_refused(app: FastAPI, raw: bytes) -> None:
    status, _, body = call_asgi(app, "GET", raw)
    assert status == 400 and b"send the plain path" in body


def test_data_and_other_paths_still_need_a_key(client: ASGIClient) -> None:
    assert client.get("/api/v1/models").status_code == 401
    assert client.get("/ui/anything-else").status_code == 401  # fail closed: only the page and its files are public
    assert client.request("POST", "/ui/").status_code == 401
    assert client.request("DELETE", "/ui/assets/app.js").status_code == 401


def test_head_answers_like_get(client: ASGIClient) -> None:
    answer = client.request("HEAD", "/ui/assets/app.css")
    assert answer.status_code == 200 and answer.headers["content-type"] == ASSETS["app.css"]


def test_page_survives_no_auth_mode(tmp_path: Path) -> None:
    app = create_app(Settings.at(tmp_path), config=ServerConfig(access_log=False), watch=False, no_auth=True)
    try:
        answer = ASGIClient(app).get("/ui/assets/app.js")
        assert answer.status_code == 200 and isinstance(answer, httpx.Response)
    finally:
        app.state.registry.close()
