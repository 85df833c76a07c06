# ruff: noqa: E501  (the card text below is a card file, kept as written)
"""The site an attacker's pull request would publish, opened in headless Chromium: every link
clicked, every request and dialog recorded."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deckgen.build import build
from tests.conftest import CHROMIUM, SampleBuild
from tests.htmlaudit import audit

playwright = pytest.importorskip("playwright.sync_api")

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Chromium is not installed (.ci/run installs it)", allow_module_level=True)

CLICK_SETTLE_MS = 100  # the longest a click's request is awaited before the next click

# Content that lint allows, chosen to sit as close to the edge as allowed content can.
EDGE = """---
topic: rust
---

## rust-edge-links
Q: Which of <abbr title="Transmission Control Protocol">TCP</abbr>, [RFC 9293](https://www.rfc-editor.org/rfc/rfc9293#section-3.1) and <a href="mailto:security@example.com">mail</a> is math \\(\\frac{a}{b}\\)?

A: `<img src=x onerror=alert(1)>` and &lt;script&gt;alert(2)&lt;/script&gt; stay text; see ![diagram](../net/img/handshake.png).

Source: https://developers.cloudflare.com/workers/

## rust-edge-cloze
Cloze: The {{c1::<b>borrow</b>::hint with &quot;quotes&quot;}} checker runs and {{c2::javascript&#58;alert(3)}}.

Source: RFC 9293 §3.1
"""


def test_published_site_runs_no_script_and_loads_nothing_remote(
    chromium: Any, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    (sample_cards / "lang" / "edge.md").write_text(EDGE, encoding="utf-8")
    (site,) = build(sample_cards, tmp_path / "dist", formats=["html"]).paths
    page_html = (site / "index.html").read_text(encoding="utf-8")
    body = page_html.split("<body", 1)[1].split('<script src="app.js">')[0]
    controls = frozenset({"button", "input", "select", "textarea", "form"})
    assert audit(body, allow=controls) == []
    requests: list[str] = []
    dialogs: list[str] = []
    context = chromium.new_context()

    def route(request_route) -> None:  # type: ignore[no-untyped-def]
        request = request_route.request
        requests.append(request.url)
        if request.url.startswith(site.as_uri()):
            request_route.continue_()
        elif request.is_navigation_request():
            # recorded, never sent; "204 No Content" leaves the tab on the page, so the next
            # link is clicked without loading the page again
            request_route.fulfill(status=204)
        else:
            request_route.abort()  # recorded, never sent

    context.route("**/*", route)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.goto((site / "index.html").as_uri())
    revealed = tab.locator("button.reveal").evaluate_all("bs => bs.map(b => (b.click(), 1))")
    assert len(revealed) == 9  # every card's answer is shown, as a learner would open it
    hrefs = tab.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    assert hrefs
    for index in range(len(hrefs)):
        # a click as the learner makes it; target=_blank links open a popup page
        before = len(requests)
        with contextlib.suppress(playwright.Error):  # the click navigated away meanwhile
            tab.eval_on_selector_all("a[href]", f"els => els[{index}].click()")
        for _ in range(CLICK_SETTLE_MS // 10):  # until the click's request is recorded
            tab.wait_for_timeout(10)
            if len(requests) > before:
                tab.wait_for_timeout(10)  # and whatever it starts right after
                break
        if not tab.url.startswith((site / "index.html").as_uri()):
            tab.goto((site / "index.html").as_uri())
    tab.wait_for_timeout(200)
    context.close()
    assert dialogs == []
    local = [u for u in requests if u.startswith(site.as_uri())]
    remote = [u for u in requests if not u.startswith(site.as_uri())]
    assert local, requests
    # Only links a learner clicked may leave the site, and only to https or mailto targets.
    assert all(u.startswith(("https://", "mailto:")) for u in remote), remote
    assert any(u.startswith("https://www.rfc-editor.org/") for u in remote), remote  # clicked
    assert all(h.startswith(("https://", "mailto:", "file://")) for h in hrefs), hrefs


def test_the_site_policy_stops_what_a_sanitizer_bug_would_let_through(
    chromium: Any, sample_build: SampleBuild, tmp_path: Path
) -> None:
    """Defence in depth: markup injected into the built page past every check (as a sanitizer
    bug would) runs no script and loads nothing remote, while the page's own script still runs."""
    site = tmp_path / "site"
    shutil.copytree(sample_build.site.parent, site)
    index = site / "index.html"
    injected = (
        '<img src="https://t.example/pixel.png" onerror="alert(1)">'
        "<script>alert(2)</script>"
        '<a id="evil" href="javascript:alert(3)">x</a>'
        '<iframe src="https://t.example/frame"></iframe>'
    )
    index.write_text(index.read_text().replace("<main", injected + "<main", 1))
    routed: list[str] = []
    blocked: list[tuple[str, str | None]] = []
    dialogs: list[str] = []
    context = chromium.new_context()
    context.route(
        "**/*",
        lambda r: (
            (routed.append(r.request.url), r.continue_())
            if r.request.url.startswith("file://")
            else (routed.append(r.request.url), r.abort())
        ),
    )
    tab = context.new_page()
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.on("requestfailed", lambda r: blocked.append((r.url, r.failure)))
    tab.goto(index.as_uri())
    tab.click("#evil")
    tab.wait_for_timeout(200)
    tab.fill("#search", "no-card-has-this-word")
    status = tab.inner_text("#status")
    context.close()
    assert dialogs == []
    assert all(u.startswith("file://") for u in routed), routed  # nothing reached the network
    assert ("https://t.example/pixel.png", "csp") in blocked
    assert status.startswith("0 of ")  # app.js, a file beside the page, still ran
