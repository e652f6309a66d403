"""summarize --format html: one self-contained page, well formed, its totals exact, its names
escaped, and read back from a real browser's DOM (Debian's headless chromium).

The browser and Graphviz are installed in CI (.ci/run); where one is missing these tests skip
on a developer's machine and fail under CI=true, so that they never pass by not running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_draw import check_mermaid, need_graphviz
from test_security_output import HOSTILE, assert_safe, yaml_quoted

from cnncalc import api, safetext
from cnncalc.exporters import draw
from cnncalc.render import Columns
from cnncalc.render.html import Figure, render_html
from conftest import SPECS, run, write_spec

VOID = {"meta", "br", "link", "img", "input", "hr", "col", "wbr", "source", "area", "base"}
TOTALS = ["params", "buffers", "non-trainable", "macs", "flops", "training-memory"]


class Page(HTMLParser):
    """What a test reads of a page: the elements by tag, id and class, the text of each
    element with an id, and whether the tags nest (every one closed, in order)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: dict[str, int] = {}
        self.classes: dict[str, int] = {}
        self.attrs: list[tuple[str, str, str]] = []  # tag, attribute, value
        self.by_id: dict[str, dict[str, str]] = {}
        self.text: dict[str, str] = {}  # id → text inside
        self.open_ids: list[tuple[int, str]] = []  # (depth, id) of elements being read
        self.pre = ""  # the text of <pre> elements
        self.feed(text)
        self.close()
        if self.stack:
            self.problems.append(f"left open: {self.stack}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name in values.get("class", "").split():
            self.classes[f"{tag}.{name}"] = self.classes.get(f"{tag}.{name}", 0) + 1
        self.attrs += [(tag, k, v) for k, v in values.items()]
        if "id" in values:
            self.by_id[values["id"]] = values
            self.text[values["id"]] = ""
            self.open_ids.append((len(self.stack), values["id"]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        while self.open_ids and self.open_ids[-1][0] >= len(self.stack):
            self.open_ids.pop()

    def handle_data(self, data: str) -> None:
        for _, key in self.open_ids:
            self.text[key] += data
        if "pre" in self.stack:
            self.pre += data


def page_of(*args: str) -> str:
    result = run("summarize", *args, "-f", "html")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def check_page(text: str) -> Page:
    """Well formed, self-contained, and nothing that could run or fetch."""
    page = Page(text)
    assert not page.problems, page.problems
    assert text.startswith("<!DOCTYPE html>\n")
    assert page.tags["html"] == page.tags["head"] == page.tags["body"] == 1
    assert "script" not in page.tags and "iframe" not in page.tags and "link" not in page.tags
    for tag, name, value in page.attrs:
        assert not name.startswith("on"), (tag, name)
        assert name not in ("src", "href", "xlink:href", "srcset", "action"), (tag, name)
        assert "url(" not in value and "javascript:" not in value.lower(), (tag, name, value)
    assert "@import" not in text and "url(" not in text
    policy = [v for t, k, v in page.attrs if t == "meta" and k == "content" and "src" in v]
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    return page


def test_the_page_of_resnet50() -> None:
    text = page_of(str(SPECS / "resnet50.yaml"), "--depth", "3")
    page = check_page(text)
    summary = api.summarize(SPECS / "resnet50.yaml", depth=3)
    assert page.text["title"] == "resnet50: 3×224×224 → 1000"
    figures = {
        "params": summary.totals.params,
        "buffers": summary.totals.buffers,
        "macs": summary.totals.macs,
        "flops": summary.totals.flops,
        "training-memory": summary.memory.total_bytes,
        "inference-memory": summary.memory.inference_bytes,
        "layers": summary.layer_count,
    }
    for key, value in figures.items():
        assert page.by_id[f"total-{key}"]["data-value"] == str(value)
    assert page.text["total-params"] == (
        "25,557,032 (25,557,032 trainable, 0 frozen)= 25,529,472 weights + 27,560 biases"
    )
    assert page.classes["tr.layer"] == 175 and "tr.block" not in page.classes
    assert page.classes["details.block"] == 4 + 16  # the stages, the bottlenecks
    assert page.tags["svg"] == 1 if shutil.which("dot") else page.tags["pre"] == 1


def test_collapsed_rows_and_open_stages() -> None:
    text = page_of(str(SPECS / "resnet50.yaml"), "--depth", "2", "--flops", "--no-rf")
    page = check_page(text)
    assert page.classes["tr.block"] == 16 and page.classes["details.block"] == 4
    assert text.count('<details class="block" open>') == 4
    assert '<summary>layer1 <span class="kind">stage</span>' in text
    assert '<span class="figures">32 layers, 215,808 params</span>' in text
    assert "<th class=num>FLOPs</th>" in text and "RF stride" not in text


def test_the_drawing_is_svg_with_graphviz() -> None:
    need_graphviz()
    text = page_of(str(SPECS / "unet.yaml"))
    page = check_page(text)
    assert page.tags["svg"] == 1 and "pre" not in page.tags
    assert "<?xml" not in text and "<!--" not in text
    assert 'id="drawing"' in text and page.classes["g.node"] == 67 + 2


def test_without_graphviz_the_drawing_is_mermaid_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    text = page_of(str(SPECS / "tiny_resnet.yaml"))
    page = check_page(text)
    assert "svg" not in page.tags and page.classes["pre.mermaid-source"] == 1
    assert "Graphviz is not installed (apt-get install graphviz, or brew install graphviz)" in text
    expected = draw.mermaid(draw.drawing(api.graph_of(SPECS / "tiny_resnet.yaml")))
    assert page.pre == expected
    check_mermaid(page.pre)


def test_a_large_network_has_no_drawing(tmp_path: Path) -> None:
    layers = "".join("  - relu\n" for _ in range(1_001))
    text = page_of(write_spec(tmp_path, f"input: [4]\nlayers:\n{layers}"))
    check_page(text)
    assert "The drawing would have 1,003 nodes, too many to read" in text
    assert "<svg" not in text and "<pre" not in text


def test_the_renderers_page_has_no_drawing() -> None:
    summary = api.summarize(SPECS / "lenet5.yaml")
    from cnncalc.render import Format, render

    text = render(summary, Format.HTML)
    assert 'id="drawing"' not in check_page(text).by_id
    figure = Figure(mermaid='flowchart TB\n  n0["<b>"]', note="<i>")
    text = render_html(summary, Columns(), figure)
    assert '<pre class="mermaid-source">flowchart TB\n  n0[&quot;&lt;b&gt;&quot;]</pre>' in text
    assert '<p class="note">&lt;i&gt;</p>' in text


@pytest.mark.parametrize(
    "hostile", [*HOSTILE.values(), "</title><script>alert(1)</script>", "<img src=x onerror=a()>"]
)
def test_hostile_spec_name(tmp_path: Path, hostile: str) -> None:
    spec = write_spec(
        tmp_path,
        f"name: {yaml_quoted(hostile)}\ninput: [3, 8, 8]\nlayers:\n"
        "  - conv2d: {out_channels: 2, kernel_size: 3}\n",
    )
    result = run("summarize", spec, "-f", "html")
    assert result.exit_code == 0
    assert_safe(result)
    page = check_page(result.stdout)
    assert page.text["title"] == f"{safetext.terminal(hostile)}: 3×8×8 → 2×6×6"
    assert f"<title>{safetext.html(hostile)}: 3×8×8 → 2×6×6</title>" in result.stdout


# --- in a real browser ---------------------------------------------------------------------


def chromium() -> str:
    """The browser's path; a skip without it, a failure in CI."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: CI must install it (.ci/run)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def dom(page: Path, profile: Path) -> str:
    """The page's DOM as headless chromium builds it (a fresh profile, no sandbox: CI runs
    as root, and the page is ours)."""
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode()


@pytest.mark.slow
def test_the_browser_reads_the_totals(tmp_path: Path) -> None:
    chromium()
    name = "<script>document.title='pwned'</script>&amp; \u202e"
    spec = (
        (SPECS / "resnet50.yaml")
        .read_text()
        .replace("name: resnet50", f"name: {yaml_quoted(name)}")
    )
    path = tmp_path / "report.html"
    path.write_text(page_of(write_spec(tmp_path, spec), "--depth", "2"))
    page = Page(dom(path, tmp_path / "profile"))
    assert not page.problems, page.problems
    summary = api.summarize(SPECS / "resnet50.yaml", depth=2)
    for key, value in (
        ("params", summary.totals.params),
        ("macs", summary.totals.macs),
        ("layers", summary.layer_count),
    ):
        assert page.by_id[f"total-{key}"]["data-value"] == str(value)
    assert page.text["total-params"].startswith(f"{summary.totals.params:,} (")
    assert page.text["total-macs"] == f"4.09G ({summary.totals.macs:,}) at batch 1"
    assert page.text["total-layers"] == "175"
    assert page.classes["tr.block"] + page.classes["tr.layer"] == len(summary.rows)
    assert "script" not in page.tags  # the name stayed text
    assert page.text["title"] == f"{safetext.terminal(name)}: 3×224×224 → 1000"
