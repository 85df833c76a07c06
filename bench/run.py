"""deckgen's benchmark: synthetic decks, whole processes and in-process stages, beside its peers.

    python bench/run.py                       # 1,000 and 10,000 cards
    python bench/run.py --sizes 1000,10000,50000 --repeat 3 --json bench/results.json
    python bench/run.py --only site --json /tmp/site.json   # the static site alone

Two corpora (bench/synth.py): `zipf`, a mix of prose, lists, code, cloze and reversed cards over a
Zipf vocabulary, 25 to a file; and `template`, a vocabulary deck of 40 files (250 cards to a
file past 10,000) whose 12-word questions share one template, with 40-word answers and Python
code on every third card. Each is written in every tool's own format and built to .apkg by
deckgen and, in the same run, by its peers, installed into a venv of their own (ankdown 0.7.1,
plain and with --highlight, and markdown-anki-decks 1.1.1, which needs click 8.1.8), and by the
floor: genanki writing the notes deckgen rendered, in a process of its own. Every deckgen
figure is reported as a ratio to the floor and to `ankdown --highlight` (the peer that
highlights code, as deckgen does) of that run.

The static site of a 20,000-card Zipf deck (`--site-cards`) is opened in headless Chromium
(playwright, and the browser tests/conftest.py finds): first contentful paint, the load event, and
the time from each key typed into the search to the frame that shows its results, against the
targets (first paint ≤ 1 s, ≤ 50 ms a keystroke). `--skip-site` leaves it out.

Also measured: `deckgen --version` and `--help`, a 2,000-card PDF, the PDFs of a 20,000-card
deck built and then rebuilt after one card is edited, and the shipped deck. Prints
the Markdown tables, then issue 17's targets, each met or not by this run (also in the JSON,
under "targets"). Times are medians of --repeat runs (50,000 cards: one run); peak memory is the
child process's maximum resident set size.

This process never imports deckgen: on Linux a child inherits its parent's peak-memory mark, so
every measurement, in-process stages included, runs in a child of a small parent.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from synth import (
    Corpus,
    template_corpus,
    write_ankdown,
    write_deckgen,
    write_markdown_anki_decks,
    zipf_corpus,
)

PROJECT = Path(__file__).resolve().parent.parent
CORPORA: dict[str, tuple[Callable[[int], Corpus], str, bool]] = {
    # name: (the corpus, the deck id's prefix, whether its syllabus has subtopics)
    "zipf": (zipf_corpus, "synthetic", True),
    "template": (template_corpus, "template", False),
}
PEER_PACKAGES = ["ankdown==0.7.1", "markdown-anki-decks==1.1.1", "click==8.1.8"]
REFERENCE = "ankdown --highlight"  # the peer every deckgen figure is compared with
DECKGEN = [sys.executable, "-m", "deckgen"]

FLOOR_SCRIPT = r"""
import json, sys, genanki
data = json.load(open(sys.argv[1]))
model = genanki.Model(1607392319, "Floor", fields=[{"name": n} for n in data["fields"]],
                      templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}])
deck = genanki.Deck(2059400110, "Floor")
for fields, guid in data["notes"]:
    deck.add_note(genanki.Note(model=model, fields=fields, guid=guid))
genanki.Package(deck).write_to_file(sys.argv[2], timestamp=1700000000)
"""


# Every tool runs as installed: with its modules' bytecode cached. pip compiles the peers' at
# install time; deckgen, installed editable, writes its own on the first run (a machine that
# sets PYTHONDONTWRITEBYTECODE would make every deckgen run compile its modules again).
CHILD_ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_process(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> dict[str, float]:
    """Wall time and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**CHILD_ENVIRONMENT, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    process.stderr.close() if process.stderr else None
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr[-2000:]}")
    return {"seconds": elapsed, "peak_mb": usage.ru_maxrss / 1024}


def median_of(repeat: int, measure: Callable[[], dict[str, float]]) -> dict[str, float]:
    runs = [measure() for _ in range(repeat)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def in_process_stages(cards: Path, out: Path, pdf: bool) -> dict[str, float]:
    """Each stage once, in one process, with the cache off (run by `--child stages`)."""
    os.environ["DECKGEN_NO_CACHE"] = "1"
    from deckgen.cache import Cache
    from deckgen.check import check_deck
    from deckgen.compile import compile_deck
    from deckgen.exporters import ExportContext, available_exporters
    from deckgen.load import load_sources

    stages: dict[str, float] = {}
    stages["load"], sources = timed(lambda: load_sources(cards))
    stages["compile"], compiled = timed(lambda: compile_deck(sources, Cache(None)))
    stages["check"], _ = timed(lambda: check_deck(compiled))
    rendered = compiled.rendered
    context = ExportContext(stem="bench", timestamp=1_700_000_000)
    exporters = available_exporters()
    formats = ["apkg", "html", "csv", "json", *(["pdf"] if pdf else [])]
    for name in formats:
        stages[f"export {name}"], _ = timed(
            lambda n=name: exporters[n]().export(rendered, out, context)
        )
    del os.environ["DECKGEN_NO_CACHE"]
    return stages


def floor_data(cards: Path, data: Path) -> None:
    """The deck's notes rendered by deckgen, saved for the floor (run by `--child floor`)."""
    from deckgen.cache import Cache
    from deckgen.compile import compile_deck
    from deckgen.load import load_sources

    rendered = compile_deck(load_sources(cards), Cache(None)).rendered
    notes = [
        [[r.front or r.text, r.back or r.extra], f"g{n}"] for n, r in enumerate(rendered.cards)
    ]
    data.write_text(json.dumps({"fields": ["Front", "Back"], "notes": notes}))


def child(task: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", task, *args]


def floor(cards: Path, work: Path, repeat: int) -> dict[str, float]:
    """genanki writing the deck's notes, already rendered, as a process of its own."""
    data = work / "floor.json"
    run_process(child("floor", str(cards), str(data)), work)
    script = work / "floor.py"
    script.write_text(FLOOR_SCRIPT)
    return median_of(
        repeat,
        lambda: run_process(
            [sys.executable, str(script), str(data), str(work / "floor.apkg")], work
        ),
    )


def install_peers(venv: Path) -> Path:
    """A venv with the peers (made once: an existing one is reused); returns its bin folder."""
    bin_dir = venv / "bin"
    if not (bin_dir / "ankdown").exists() or not (bin_dir / "mdankideck").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # Without SOURCE_DATE_EPOCH: wheel refuses one that is set but empty, and the peers'
        # wheels need no fixed clock.
        env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
        subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "-q", *PEER_PACKAGES],
            check=True,
            env=env,
        )
    return bin_dir


def write_corpus(corpus_name: str, size: int, folder: Path) -> None:
    """The corpus in every tool's format under `folder` (run by `--child write`): deckgen's in
    cards/, ankdown's in deck/, markdown-anki-decks' in decks/."""
    make, prefix, subtopics = CORPORA[corpus_name]
    corpus = make(size)
    write_deckgen(folder, f"{prefix}-{size}", corpus, subtopics)
    write_ankdown(folder, corpus)
    write_markdown_anki_decks(folder, corpus)


def written(corpus_name: str, size: int, folder: Path) -> Path:
    """`write_corpus` in a child process: this one stays small (see the module's docstring);
    returns deckgen's cards folder."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    run_process(child("write", corpus_name, str(size), str(folder)), folder)
    return folder / "cards"


def bench_peers(folder: Path, peers: Path, reps: int) -> dict[str, Any]:
    """Each peer building the corpus, written in its own format by write_corpus, to .apkg."""
    ankdown, decks = folder / "deck", folder / "decks"
    out = folder / "peers-out"
    out.mkdir(exist_ok=True)
    commands = {
        "ankdown": [str(peers / "ankdown"), "-r", str(ankdown), "-p", str(out / "ankdown.apkg")],
        "ankdown --highlight": [
            *[str(peers / "ankdown"), "-r", str(ankdown), "-p", str(out / "ankdown-hl.apkg")],
            "--highlight",
        ],
        # one .apkg per file: a file is a deck in markdown-anki-decks
        "markdown-anki-decks": [str(peers / "mdankideck"), str(decks), str(out)],
    }
    return {
        name: median_of(reps, functools.partial(run_process, command, folder))
        for name, command in commands.items()
    }


DECKGEN_FIGURES = (
    "build apkg (cold)",
    "build apkg (warm)",
    "build apkg (one card edited)",
    "lint (cold)",
    "lint (warm)",
)


def bench_size(
    corpus_name: str, size: int, repeat: int, work: Path, peers: Path | None
) -> dict[str, Any]:
    prefix = CORPORA[corpus_name][1]
    folder = work / f"{corpus_name}-{size}"
    cards = written(corpus_name, size, folder)
    cache_dir = folder / "cache"
    cold_env = {"DECKGEN_NO_CACHE": "1"}
    warm_env = {"DECKGEN_CACHE_DIR": str(cache_dir)}
    result: dict[str, Any] = {"corpus": corpus_name, "cards": size}
    reps = repeat if size <= 10_000 else 1

    build = [*DECKGEN, "build", "-q", "--format", "apkg", "--cards", "cards", "--out", "out"]
    lint = [*DECKGEN, "lint", "--cards", "cards"]
    result["build apkg (cold)"] = median_of(reps, lambda: run_process(build, folder, cold_env))
    result["lint (cold)"] = median_of(reps, lambda: run_process(lint, folder, cold_env))
    run_process(build, folder, warm_env)  # fill the cache
    result["build apkg (warm)"] = median_of(reps, lambda: run_process(build, folder, warm_env))
    run_process(lint, folder, warm_env)  # a lint of its own to replay
    result["lint (warm)"] = median_of(reps, lambda: run_process(lint, folder, warm_env))

    edits = iter(range(1_000_000))

    def edit_one() -> dict[str, float]:
        """Change the answer of one card, then rebuild with the cache of the previous build."""
        first = sorted(cards.rglob("*.md"))[0]
        first.write_text(first.read_text().replace("A: ", f"A: Edit {next(edits)}. ", 1))
        return run_process(build, folder, warm_env)

    result["build apkg (one card edited)"] = median_of(reps, edit_one)
    package = folder / "out" / f"{prefix}-{size}.apkg"
    result["apkg bytes"] = package.stat().st_size
    result["floor genanki"] = floor(cards, folder, reps)
    if peers is not None:
        result["peers"] = bench_peers(folder, peers, reps)
    references = {"floor": result["floor genanki"]["seconds"]}
    if "peers" in result:
        references[REFERENCE] = result["peers"][REFERENCE]["seconds"]
    result["ratios"] = {
        figure: {name: result[figure]["seconds"] / seconds for name, seconds in references.items()}
        for figure in DECKGEN_FIGURES
    }
    result["ratio incremental/cold"] = (
        result["build apkg (one card edited)"]["seconds"] / result["build apkg (cold)"]["seconds"]
    )
    stages_out = folder / "stages"
    stages_out.mkdir(exist_ok=True)
    stages_json = folder / "stages.json"
    run_process(
        child(
            "stages",
            str(cards),
            str(stages_out),
            str(stages_json),
            "pdf" if size <= 2_000 else "nopdf",
        ),
        folder,
    )
    result["stages"] = json.loads(stages_json.read_text())
    result["output bytes"] = {
        p.name: p.stat().st_size if p.is_file() else sum(f.stat().st_size for f in p.rglob("*"))
        for p in sorted(stages_out.iterdir())
    }
    return result


def bench_startup(repeat: int, work: Path) -> dict[str, dict[str, float]]:
    """`deckgen --version` and `deckgen --help`: what every command pays before its work."""
    return {
        f"deckgen {flag}": median_of(
            max(repeat, 5), functools.partial(run_process, [*DECKGEN, flag], work)
        )
        for flag in ("--version", "--help")
    }


def _target(name: str, measured: float, limit: float, unit: str) -> dict[str, Any]:
    return {
        "target": name,
        "measured": measured,
        "limit": limit,
        "unit": unit,
        "met": measured <= limit,
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 17's targets, each against what this run measured (those it measured)."""
    found = []
    for e in results["sizes"]:
        n = f"{e['corpus']} {e['cards']:,}"
        ratios = e["ratios"]
        if e["cards"] <= 10_000 and REFERENCE in ratios["build apkg (cold)"]:
            found.append(
                _target(
                    f"{n}: build cold vs {REFERENCE}",
                    ratios["build apkg (cold)"][REFERENCE],
                    1.0,
                    "×",
                )
            )
        if e["cards"] == 10_000:
            found.append(
                _target(
                    f"{n}: build warm vs the floor", ratios["build apkg (warm)"]["floor"], 1.5, "×"
                )
            )
            found.append(
                _target(
                    f"{n}: one card edited vs the floor",
                    ratios["build apkg (one card edited)"]["floor"],
                    2.0,
                    "×",
                )
            )
            found.append(_target(f"{n}: lint warm", e["lint (warm)"]["seconds"], 0.5, "s"))
        if e["cards"] == 50_000:
            peak = max(v["peak_mb"] for k, v in e.items() if k in DECKGEN_FIGURES)
            found.append(_target(f"{n}: peak memory", peak, 300, "MB"))
    for key, value in results.items():
        if key.startswith("linearity"):
            found.append(_target(key, value, 5.0, "×"))
    for name, value in results.get("startup", {}).items():
        found.append(_target(name, value["seconds"], 0.1, "s"))
    for name, value in results.get("pdf 20000", {}).items():
        found.append(_target(f"20,000 cards: {name}, peak memory", value["peak_mb"], 2048, "MB"))
    if "pdf 2000" in results:
        found.append(_target("pdf 2,000 cards cold", results["pdf 2000"]["seconds"], 4.0, "s"))
        found.append(
            _target("pdf 2,000 cards peak memory", results["pdf 2000"]["peak_mb"], 2048, "MB")
        )
    if "site" in results:
        for key, value in results["site"]["browser"].items():
            if key in SITE_TARGETS:
                found.append(
                    _target(
                        f"site {results['site']['cards']:,}: {key}", value, SITE_TARGETS[key], "ms"
                    )
                )
    return found


def targets_table(found: list[dict[str, Any]]) -> list[str]:
    lines = ["", "| target | measured | limit | |", "|---|---|---|---|"]
    for t in found:
        value = f"{t['measured']:.2f}" if t["unit"] in ("×", "s") else f"{t['measured']:.0f}"
        limit = f"{t['limit']:g}"
        lines.append(
            f"| {t['target']} | {value} {t['unit']} | ≤ {limit} {t['unit']} | "
            f"{'met' if t['met'] else '**not met**'} |"
        )
    return lines


PDF_BUILD = [*DECKGEN, "build", "-q", "--format", "pdf", "--cards", "cards", "--out", "out"]


def bench_pdf_2000(work: Path) -> dict[str, float]:
    folder = work / "deck-pdf-2000"
    written("zipf", 2000, folder)
    return run_process(PDF_BUILD, folder, {"DECKGEN_NO_CACHE": "1"})


def bench_pdf_edit(work: Path, size: int = 20_000) -> dict[str, dict[str, float]]:
    """Both PDFs of a large Zipf deck: a first build (filling the cache), then one card edited."""
    folder = work / f"deck-pdf-{size}"
    cards = written("zipf", size, folder)
    env = {"DECKGEN_CACHE_DIR": str(folder / "cache")}
    first = run_process(PDF_BUILD, folder, env)
    edited = sorted(cards.rglob("*.md"))[0]
    edited.write_text(edited.read_text().replace("A: ", "A: Edited. ", 1))
    return {
        "build pdf (cold)": first,
        "build pdf (one card edited)": run_process(PDF_BUILD, folder, env),
    }


def bench_shipped(repeat: int, work: Path) -> dict[str, Any]:
    command = [
        *DECKGEN,
        "build",
        "-q",
        "--cards",
        str(PROJECT / "cards"),
        "--out",
        str(work / "shipped"),
    ]
    warm = {"DECKGEN_CACHE_DIR": str(work / "c")}
    cold = median_of(repeat, lambda: run_process(command, work, {"DECKGEN_NO_CACHE": "1"}))
    run_process(command, work, warm)  # fill the cache
    return {
        "every default format (cold)": cold,
        "every default format (warm)": median_of(repeat, lambda: run_process(command, work, warm)),
    }


SITE_QUERY = "packet window"  # typed one key at a time into the site's search
SITE_TARGETS = {"first paint ms": 1000.0, "search keystroke ms (median)": 50.0}
# Run in the page before its own scripts: the time of each key, and the time of the frame after
# the page handled it (its search runs on the input event; the next frame shows the results).
SITE_HOOK = """
window.__keys = [];
window.addEventListener('keydown', () => { window.__t0 = performance.now(); }, true);
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('search').addEventListener('input', () => {
    const t0 = window.__t0;
    requestAnimationFrame(() => setTimeout(() => window.__keys.push(performance.now() - t0)));
  });
});
"""


def site_timings(index: Path, repeat: int) -> dict[str, float]:
    """The site in headless Chromium (run by `--child site`): first contentful paint, the load
    event, and the time from each key typed into the search to the frame that shows its results;
    medians of `repeat` fresh tabs."""
    sys.path.insert(0, str(PROJECT))
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM_ARGS, find_chromium

    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium (see tests/conftest.py's find_chromium)")
    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for _ in range(repeat):
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.add_init_script(SITE_HOOK)
            tab.goto(index.as_uri())
            paint, load = tab.evaluate(
                """() => [performance.getEntriesByName('first-contentful-paint')[0].startTime,
                performance.getEntriesByType('navigation')[0].loadEventStart]"""
            )
            tab.click("#search")
            for n, key in enumerate(SITE_QUERY, start=1):
                tab.keyboard.press("Space" if key == " " else key)
                tab.evaluate(  # a promise, not wait_for_function: the page's CSP forbids eval
                    "n => new Promise(r => { const c = () => __keys.length >= n ? r() : "
                    "setTimeout(c, 5); c(); })",
                    n,
                )
            keys = tab.evaluate("__keys")
            runs.append(
                {
                    "first paint ms": paint,
                    "load event ms": load,
                    "search keystroke ms (median)": statistics.median(keys),
                    "search keystroke ms (slowest)": max(keys),
                }
            )
            tab.close()
        browser.close()
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def bench_site(work: Path, size: int, repeat: int) -> dict[str, Any]:
    """The static site of the Zipf deck of `size` cards: its build, its size on disk and its
    timings in headless Chromium against the targets."""
    folder = work / f"site-{size}"
    written("zipf", size, folder)
    command = [*DECKGEN, "build", "-q", "--format", "html", "--cards", "cards", "--out", "out"]
    result: dict[str, Any] = {"cards": size, "query": SITE_QUERY}
    result["build html (cold)"] = run_process(command, folder, {"DECKGEN_NO_CACHE": "1"})
    (site,) = (folder / "out").iterdir()
    files = sorted(site.iterdir())
    result["files"] = len(files)
    result["index.html bytes"] = (site / "index.html").stat().st_size
    result["bytes"] = sum(f.stat().st_size for f in files)
    timings_json = folder / "site.json"
    run_process(child("site", str(site / "index.html"), str(timings_json), str(repeat)), folder)
    result["browser"] = json.loads(timings_json.read_text())
    result["targets met"] = {
        key: result["browser"][key] <= limit for key, limit in SITE_TARGETS.items()
    }
    return result


def _seconds(value: dict[str, float]) -> str:
    return f"{value['seconds']:.2f} s"


def side_by_side(results: dict[str, Any]) -> list[str]:
    """One Markdown table per corpus: the floor, the peers and deckgen, a column per size;
    each deckgen figure with its ratios to the floor and to the reference peer."""
    lines: list[str] = []
    for corpus in CORPORA:
        entries = [e for e in results["sizes"] if e["corpus"] == corpus]
        if not entries:
            continue
        lines += ["", f"{corpus} corpus (.apkg only; medians of {results['repeat']}):", ""]
        lines.append("| | " + " | ".join(f"{e['cards']:,} cards" for e in entries) + " |")
        lines.append("|---|" + "---|" * len(entries))
        rows: list[tuple[str, list[str]]] = [
            (
                "genanki, pre-rendered notes (the floor)",
                [_seconds(e["floor genanki"]) for e in entries],
            )
        ]
        for peer in ("ankdown", "ankdown --highlight", "markdown-anki-decks"):
            if all(peer in e.get("peers", {}) for e in entries):
                rows.append((peer, [_seconds(e["peers"][peer]) for e in entries]))
        for figure in DECKGEN_FIGURES:
            cells = []
            for e in entries:
                ratios = e["ratios"][figure]
                shown = [f"{ratios['floor']:.1f}× floor"]
                if REFERENCE in ratios:
                    shown.append(f"{ratios[REFERENCE]:.2f}× {REFERENCE}")
                cells.append(f"**{_seconds(e[figure])}** ({', '.join(shown)})")
            rows.append((f"deckgen {figure}", cells))
        lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
    return lines


def details(results: dict[str, Any]) -> list[str]:
    """Everything else measured: peak memory, the in-process stages, sizes, PDF, shipped deck."""
    rows = []
    for entry in results["sizes"]:
        n = f"{entry['corpus']} {entry['cards']:,}"
        measured = {**{k: v for k, v in entry.items() if k != "peers"}, **entry.get("peers", {})}
        for key, value in measured.items():
            if isinstance(value, dict) and "seconds" in value:
                rows.append((n, key, _seconds(value), f"{value['peak_mb']:.0f} MB"))
        rows.append((n, "ratio incremental/cold", f"{entry['ratio incremental/cold']:.2f}×", ""))
        for stage, seconds in entry["stages"].items():
            rows.append((n, f"stage: {stage}", f"{seconds:.2f} s", ""))
        rows.append((n, "apkg size", f"{entry['apkg bytes'] / 1e6:.1f} MB", ""))
    for key, value in results.items():
        if key.startswith("linearity"):
            rows.append(("", key, f"{value:.2f}", ""))
    if "pdf 2000" in results:
        v = results["pdf 2000"]
        rows.append(("zipf 2,000", "build pdf (cold)", _seconds(v), f"{v['peak_mb']:.0f} MB"))
    for key, value in results.get("pdf 20000", {}).items():
        rows.append(("zipf 20,000", key, _seconds(value), f"{value['peak_mb']:.0f} MB"))
    for key, value in results.get("startup", {}).items():
        rows.append(("", key, _seconds(value), f"{value['peak_mb']:.0f} MB"))
    for key, value in results.get("shipped", {}).items():
        rows.append(("shipped", key, _seconds(value), f"{value['peak_mb']:.0f} MB"))
    if "site" in results:
        site = results["site"]
        n = f"site {site['cards']:,}"
        build = site["build html (cold)"]
        rows.append((n, "build html (cold)", _seconds(build), f"{build['peak_mb']:.0f} MB"))
        rows.append((n, "site on disk", f"{site['bytes'] / 1e6:.1f} MB", f"{site['files']} files"))
        for key, value in site["browser"].items():
            met = site["targets met"].get(key)
            limit = (
                ""
                if met is None
                else f"≤ {SITE_TARGETS[key]:.0f} ms: {'met' if met else 'NOT met'}"
            )
            rows.append((n, key, f"{value:.0f} ms", limit))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("deck", "measure", "time", "peak")
    table = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    table += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000", help="card counts (50000 is optional)")
    parser.add_argument("--corpora", default=",".join(CORPORA), help="zipf, template or both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("bench/results.json"))
    parser.add_argument("--skip-pdf", action="store_true")
    parser.add_argument("--no-peers", action="store_true", help="deckgen and the floor only")
    parser.add_argument(
        "--peers-venv",
        type=Path,
        help="install the peers here, or reuse them (default: a venv in the temporary folder)",
    )
    parser.add_argument(
        "--only", choices=["site"], help="measure this part alone (site: the static site)"
    )
    parser.add_argument("--skip-site", action="store_true", help="no static site measurement")
    parser.add_argument(
        "--site-cards", type=int, default=20_000, help="the site's deck size (default 20000)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, *rest = args.child
        if task == "stages":
            cards, out, target, pdf = rest
            stages = in_process_stages(Path(cards), Path(out), pdf == "pdf")
            Path(target).write_text(json.dumps(stages))
        elif task == "write":
            write_corpus(rest[0], int(rest[1]), Path(rest[2]))
        elif task == "floor":
            floor_data(Path(rest[0]), Path(rest[1]))
        elif task == "site":
            index, target, repeat = rest
            Path(target).write_text(json.dumps(site_timings(Path(index), int(repeat))))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    corpora = [c for c in args.corpora.split(",") if c]
    for corpus in corpora:
        if corpus not in CORPORA:
            parser.error(f"unknown corpus {corpus!r} (known: {', '.join(CORPORA)})")
    with tempfile.TemporaryDirectory(prefix="deckgen-bench-") as tmp:
        work = Path(tmp)
        peers = None
        if not args.no_peers and args.only is None:
            print(f"installing {', '.join(PEER_PACKAGES)}…", file=sys.stderr, flush=True)
            peers = install_peers(args.peers_venv or work / "peers")
        results: dict[str, Any] = {
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
            "commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True
            ).stdout.strip(),
            "repeat": args.repeat,
            "peers": [] if peers is None else PEER_PACKAGES,
        }
        results["sizes"] = []
        for corpus in corpora if args.only is None else []:
            for size in sizes:
                print(f"benchmarking {corpus} {size:,} cards…", file=sys.stderr, flush=True)
                results["sizes"].append(bench_size(corpus, size, args.repeat, work, peers))
            by_size = {e["cards"]: e for e in results["sizes"] if e["corpus"] == corpus}
            if 10_000 in by_size and 50_000 in by_size:
                results[f"linearity 50k/10k cold ({corpus})"] = (
                    by_size[50_000]["build apkg (cold)"]["seconds"]
                    / by_size[10_000]["build apkg (cold)"]["seconds"]
                )
        if args.only is None:
            results["startup"] = bench_startup(args.repeat, work)
        if not args.skip_pdf and args.only is None:
            print("benchmarking the 2,000-card PDF…", file=sys.stderr, flush=True)
            results["pdf 2000"] = bench_pdf_2000(work)
            print("benchmarking a one-card edit of a 20,000-card PDF…", file=sys.stderr, flush=True)
            results["pdf 20000"] = bench_pdf_edit(work)
        if args.only is None:
            print("benchmarking the shipped deck…", file=sys.stderr, flush=True)
            results["shipped"] = bench_shipped(args.repeat, work)
        if not args.skip_site:
            print(
                f"benchmarking the site of {args.site_cards:,} cards…", file=sys.stderr, flush=True
            )
            results["site"] = bench_site(work, args.site_cards, args.repeat)
    results["targets"] = targets(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join([*side_by_side(results), "", *details(results)]))
    print("\n".join(targets_table(results["targets"])))
    print(f"\nwrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
