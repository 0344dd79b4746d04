"""The vendored browser libraries and the console's own assets are served, as shipped."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bcone.web.templating import STATIC_DIR, static_url

VENDOR = STATIC_DIR / "vendor"


def _readme_checksums() -> dict[str, str]:
    text = (VENDOR / "README.md").read_text(encoding="utf-8")
    return {path: digest for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", text, re.M)}


def test_vendored_files_match_the_checksums_in_the_readme() -> None:
    checksums = _readme_checksums()
    assert set(checksums) == {"htmx/htmx.min.js", "echarts/echarts.min.js"}
    for path, digest in checksums.items():
        assert hashlib.sha256((VENDOR / path).read_bytes()).hexdigest() == digest, path


@pytest.mark.parametrize("path", ["htmx/LICENSE", "echarts/LICENSE", "echarts/NOTICE", "echarts/LICENSE-d3"])
def test_licences_travel_with_the_libraries(path: str) -> None:
    assert (VENDOR / path).stat().st_size > 100


def test_readme_names_versions_and_licences() -> None:
    text = (VENDOR / "README.md").read_text(encoding="utf-8")
    assert re.search(r"`htmx\.org` \| 2\.\d+\.\d+ ", text)
    assert re.search(r"`echarts` \| [56]\.\d+\.\d+ ", text)
    assert "0BSD" in text
    assert "Apache-2.0" in text


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        ("/static/vendor/echarts/echarts.min.js", b"echarts"),
        ("/static/vendor/htmx/htmx.min.js", b"htmx"),
        ("/static/css/console.css", b".sidenav"),
        ("/static/js/console.js", b"htmx:afterRequest"),
        ("/static/js/overview.js", b"echarts.init"),
    ],
)
def test_assets_are_served(client: TestClient, path: str, marker: bytes) -> None:
    resp = client.get(path)
    assert resp.status_code == 200
    assert marker in resp.content
    assert resp.headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
        "text/css",
    )


def test_static_url_carries_a_content_hash() -> None:
    url = static_url("css/console.css")
    digest = hashlib.sha256((STATIC_DIR / "css/console.css").read_bytes()).hexdigest()[:12]
    assert url == f"/static/css/console.css?v={digest}"


@pytest.mark.parametrize("path", ["css/nope.css", "../templating.py", "/etc/passwd"])
def test_static_url_refuses_what_is_not_a_static_file(path: str) -> None:
    with pytest.raises(FileNotFoundError):
        static_url(path)


def test_no_source_maps_are_referenced_that_are_not_shipped() -> None:
    for js in Path(VENDOR).rglob("*.js"):
        for ref in re.findall(rb"sourceMappingURL=(\S+)", js.read_bytes()):
            assert (js.parent / ref.decode()).exists(), f"{js.name} points at a missing {ref!r}"
