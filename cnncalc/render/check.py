"""`cnncalc check` reports: text for people, JSON, GitHub annotations and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from cnncalc.checking import SpecResult
from cnncalc.enums import CheckFormat
from cnncalc.errors import Notice, Pos, SpecError, one_line
from cnncalc.render.grid import paint
from cnncalc.safetext import github_data, github_property, json_safe, terminal, xml


def _where(result: SpecResult, pos: Pos | None) -> str:
    """FILE:LINE:COL, or the file alone, as safe terminal text (it may begin a line)."""
    return one_line(f"{pos}" if pos is not None else result.path)


def _problems(result: SpecResult) -> list[tuple[str, Pos | None]]:
    """(message, position) for everything wrong with one spec, each message one line of
    printable text (a spec's names may hold line breaks and control characters)."""
    if result.error is not None:
        return [
            (one_line((f"layer '{e.layer}': " if e.layer else "") + e.message), e.pos)
            for e in result.error.errors
            if isinstance(e, SpecError)
        ]
    return [(one_line(f.message), f.pos) for f in result.failures]


def _warnings(result: SpecResult) -> list[tuple[str, Notice]]:
    """(message, notice) for each warning about a valid spec: an unused layer, fields that
    do not line up at a merge."""
    return [
        (one_line((f"layer '{n.layer}': " if n.layer else "") + n.message), n)
        for n in result.notices
    ]


def tally(results: list[SpecResult]) -> str:
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "invalid")}
    specs = f"{len(results)} spec{'s' if len(results) != 1 else ''}"
    return f"{specs}: " + ", ".join(f"{n} {s}" for s, n in counts.items())


def text(results: list[SpecResult], *, color: bool) -> str:
    def style(s: str, how: str) -> str:
        return paint(s, how) if color else s

    marks = {
        "passed": style("✓", "green"),
        "failed": style("✗", "red"),
        "invalid": style("!", "red"),
    }
    lines = []
    for r in results:
        if r.status == "passed":
            detail = (
                f"{r.checked} expectation{'s' if r.checked != 1 else ''} met"
                if r.checked
                else "valid, no expectations"
            )
        elif r.status == "failed":
            detail = f"{len(r.failures)} of {r.checked} expectations failed"
        else:
            detail = "invalid spec"
        lines.append(f"{marks[r.status]} {style(terminal(r.path), 'bold')}  {detail}")
        lines += [f"    {_where(r, pos)}: {msg}" for msg, pos in _problems(r)]
        lines += [
            f"    {_where(r, n.pos)}: {style('warning:', 'yellow')} {msg}"
            for msg, n in _warnings(r)
        ]
    lines.append(tally(results))
    return "\n".join(lines) + "\n"


def as_json(results: list[SpecResult]) -> str:
    def problem(message: str, pos: Pos | None) -> dict[str, Any]:
        where = {
            "line": None if pos is None else pos.line,  # None: a command-line budget
            "column": None if pos is None else pos.column,
        }
        return {"message": message, **where}

    data = {
        "specs": [
            {
                "path": r.path,
                "name": r.name,
                "status": r.status,
                "expectations": r.checked,
                "problems": [problem(m, p) for m, p in _problems(r)],
                "warnings": [problem(m, n.pos) for m, n in _warnings(r)],
            }
            for r in results
        ],
        "summary": {
            s: sum(r.status == s for r in results) for s in ("passed", "failed", "invalid")
        },
    }
    return json_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def github(results: list[SpecResult]) -> str:
    """GitHub Actions workflow commands: one ::error per problem, at its line. Every line of
    user text is escaped by safetext, so only these commands begin a line with '::'."""
    lines = []
    for r in results:
        kind = "invalid spec" if r.error else "expectation failed"
        for message, pos in _problems(r):
            props = [f"file={github_property(r.path)}"]
            if pos is not None and pos.line:
                props += [f"line={pos.line}", f"col={pos.column}"]
            props.append(f"title={github_property('cnncalc: ' + kind)}")
            lines.append(f"::error {','.join(props)}::{github_data(message)}")
        for message, notice in _warnings(r):
            props = [
                f"file={github_property(r.path)}",
                f"line={notice.pos.line}",
                f"col={notice.pos.column}",
                f"title={github_property('cnncalc: warning')}",
            ]
            lines.append(f"::warning {','.join(props)}::{github_data(message)}")
    lines.append(tally(results))
    return "\n".join(lines) + "\n"


def junit(results: list[SpecResult]) -> str:
    """JUnit XML: one testcase per spec; a failed expectation is a failure, a broken spec an
    error."""
    failures = sum(r.status == "failed" for r in results)
    errors = sum(r.status == "invalid" for r in results)
    counts = {"tests": str(len(results)), "failures": str(failures), "errors": str(errors)}
    suites = ET.Element("testsuites", {"name": "cnncalc check", **counts})
    suite = ET.SubElement(suites, "testsuite", {"name": "cnncalc check", "skipped": "0", **counts})
    for r in results:
        path = xml(r.path)
        case = ET.SubElement(suite, "testcase", classname="cnncalc.check", name=path, file=path)
        problems = _problems(r)
        if r.notices:
            ET.SubElement(case, "system-err").text = "\n".join(
                xml(f"{_where(r, n.pos)}: warning: {m}") for m, n in _warnings(r)
            )
        if not problems:
            continue
        body = "\n".join(xml(f"{_where(r, p)}: {m}") for m, p in problems)
        tag, kind = ("error", "invalid spec") if r.error else ("failure", "expectation")
        element = ET.SubElement(case, tag, message=xml(problems[0][0]), type=kind)
        element.text = body
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _text(results: list[SpecResult], color: bool) -> str:
    return text(results, color=color)


RENDERERS: dict[CheckFormat, Callable[[list[SpecResult], bool], str]] = {
    CheckFormat.TEXT: _text,
    CheckFormat.JSON: lambda results, color: as_json(results),
    CheckFormat.GITHUB: lambda results, color: github(results),
    CheckFormat.JUNIT: lambda results, color: junit(results),
}
