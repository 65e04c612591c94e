#!/usr/bin/env python3
"""Check the handbook's sources (handbook/src/*.md) before mdBook builds them.

- SUMMARY.md lists files that exist, and every chapter file is listed in it;
- every relative link to a chapter (`other.md`, `other.md#anchor`, `#anchor`) names a file in
  SUMMARY.md and, with an anchor, a heading of that file (mdBook's ids: lowercase, whitespace
  becomes '-', other punctuation dropped, repeats numbered -1, -2, ...);
- every iframe has a `title`, `loading="lazy"`, and a `src` that starts with `../?` and has
  `embed=1`; every chapter embeds at least one, and a page with iframes loads `../embed.js` once;
- nothing is loaded from another origin (no absolute URL in an iframe, script, img or link tag);
- every link into the app (`../?...`, in iframes and in Markdown links, `&amp;` read as `&`)
  decodes without a problem: `BPLAB run --link QUERY --duration 1` exits 0 for each;
- every run quoted in a code block (`$ bplab run ARGS` followed by `"field": value` lines) is
  run again and each quoted field compared with the summary it prints, so a number in the
  prose cannot drift from the engine;
- an embed's `chart=` is one the page draws for its preset (`partitions` needs a topic,
  `control` needs credits, request(n), a limiter or a downstream), since the page would
  otherwise show another chart without a word.

BPLAB is the path of the `bplab` binary (environment variable; default target/release/bplab).
Prints a summary; exits 1 on any failure. Python 3 standard library only.
"""

import html
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "handbook" / "src"
BPLAB = os.environ.get("BPLAB", str(ROOT / "target" / "release" / "bplab"))

FENCE = re.compile(r"^\s*(```|~~~)")
MD_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
TAG = re.compile(r"<(iframe|script|img|link|a|source|video|audio)\b([^>]*)>", re.I)
ATTR = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXPLICIT_ID = re.compile(r"\s*\{#([^}\s]+)[^}]*\}\s*$")

failures: list[str] = []


def fail(where: str, msg: str) -> None:
    failures.append(f"{where}: {msg}")


def prose_lines(text: str):
    """(line number, line) for every line outside fenced code blocks."""
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            yield n, line


def strip_code_spans(line: str) -> str:
    return CODE_SPAN.sub(lambda m: "x" * len(m.group(0)), line)


def heading_text(raw: str) -> str:
    """The text mdBook renders for a heading's Markdown: code spans keep their content, links
    keep their text, emphasis markers and HTML tags go."""
    s = CODE_SPAN.sub(lambda m: m.group(2).strip(), raw)
    s = re.sub(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\([^)]*\)", r"\1", s)
    s = re.sub(r"<[^>]+>", "", s)
    s = re.sub(r"(\*\*|__|\*|(?<!\w)_|_(?!\w))", "", s)
    return html.unescape(s)


def mdbook_id(text: str) -> str:
    out = []
    for ch in text.strip().lower():
        if ch.isalnum() or ch in "_-":
            out.append(ch)
        elif ch.isspace():
            out.append("-")
    return "".join(out)


def anchors_of(text: str) -> set[str]:
    used: set[str] = set()
    for _, line in prose_lines(text):
        m = HEADING.match(line)
        if not m:
            continue
        raw = m.group(2)
        explicit = EXPLICIT_ID.search(raw)
        base = explicit.group(1) if explicit else mdbook_id(heading_text(raw))
        ident, k = base, 0
        while ident in used:
            k += 1
            ident = f"{base}-{k}"
        used.add(ident)
    return used


def summary_files(text: str) -> list[str]:
    files = []
    for _, line in prose_lines(text):
        for m in MD_LINK.finditer(line):
            target = m.group(3)
            if target and not re.match(r"[a-z]+:", target):
                files.append(target.split("#", 1)[0])
    return files


def main() -> int:
    if not SRC.is_dir():
        print(f"check-handbook: no {SRC}", file=sys.stderr)
        return 1
    summary_path = SRC / "SUMMARY.md"
    if not summary_path.is_file():
        print("check-handbook: handbook/src/SUMMARY.md is missing", file=sys.stderr)
        return 1
    listed = summary_files(summary_path.read_text(encoding="utf-8"))
    for f in listed:
        if not (SRC / f).is_file():
            fail("SUMMARY.md", f"lists {f}, which does not exist")
        if "/" in f:
            fail("SUMMARY.md", f"{f} is in a subfolder: chapters are flat files in handbook/src/")
    pages = sorted(p.name for p in SRC.glob("*.md") if p.name != "SUMMARY.md")
    for p in pages:
        if p not in listed:
            fail(p, "is not listed in SUMMARY.md")
    for extra in SRC.rglob("*.md"):
        if extra.parent != SRC:
            fail(str(extra.relative_to(SRC)), "is in a subfolder: chapters are flat files")

    texts = {p: (SRC / p).read_text(encoding="utf-8") for p in pages}
    anchors = {p: anchors_of(t) for p, t in texts.items()}

    app_links: dict[str, list[str]] = {}  # query -> places
    embeds = 0
    chapter_links = 0
    per_page_embeds: dict[str, int] = {}
    embed_srcs: list[tuple[str, str]] = []

    for page, text in texts.items():
        page_embeds = 0
        embed_js = 0
        for n, line in prose_lines(text):
            where = f"{page}:{n}"
            # HTML tags (raw HTML is passed through by mdBook).
            for tm in TAG.finditer(line):
                name = tm.group(1).lower()
                attrs = {k.lower(): html.unescape(v.strip("\"'")) for k, v in ATTR.findall(tm.group(2))}
                for key in ("src", "href"):
                    v = attrs.get(key, "")
                    if re.match(r"(?i)([a-z][a-z0-9+.-]*:)?//", v) and name != "a":
                        fail(where, f"<{name} {key}=\"{v}\"> loads from another origin")
                if name == "iframe":
                    page_embeds += 1
                    src = attrs.get("src", "")
                    if not attrs.get("title", "").strip():
                        fail(where, "iframe without a title")
                    if attrs.get("loading") != "lazy":
                        fail(where, 'iframe without loading="lazy"')
                    if not src.startswith("../?"):
                        fail(where, f"iframe src {src!r} does not start with ../?")
                    elif "embed=1" not in src.split("?", 1)[1].split("&"):
                        fail(where, f"iframe src {src!r} lacks embed=1")
                    if src.startswith("../?"):
                        app_links.setdefault(src[4:], []).append(where)
                        embed_srcs.append((where, src[4:]))
                elif name == "script":
                    src = attrs.get("src", "")
                    if src == "../embed.js":
                        embed_js += 1
                        if "async" not in tm.group(2):
                            fail(where, "embed.js is not loaded async")
                elif name == "a" and "href" in attrs:
                    check_target(where, page, attrs["href"], anchors, app_links)
                    chapter_links += 1
            # Markdown links, outside code spans.
            for mm in MD_LINK.finditer(strip_code_spans_keep_links(line)):
                target = html.unescape(mm.group(3))
                if check_target(where, page, target, anchors, app_links):
                    chapter_links += 1
        if page_embeds and embed_js != 1:
            fail(page, f"has {page_embeds} iframe(s) and loads ../embed.js {embed_js} times (want once)")
        if page_embeds == 0:
            fail(page, "has no embedded simulation")
        per_page_embeds[page] = page_embeds
        embeds += page_embeds

    # Every app link must decode: bplab refuses a link with any problem.
    quoted_runs = 0
    if not (os.path.isfile(BPLAB) and os.access(BPLAB, os.X_OK)):
        fail("BPLAB", f"{BPLAB} is not an executable (build it: cargo build --release -p bplab-cli, or set BPLAB)")
    else:
        for query, places in sorted(app_links.items()):
            r = subprocess.run([BPLAB, "run", "--link", query, "--duration", "1"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                msg = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
                fail(", ".join(places), f"link ../?{query} refused (exit {r.returncode}): {msg}")
        check_charts(embed_srcs)
        quoted_runs = check_quoted_runs(texts)

    for page in pages:
        print(f"  {page:26} {per_page_embeds.get(page, 0)} embed(s)")
    print(f"check-handbook: {len(pages)} chapters, {embeds} embeds, "
          f"{chapter_links} chapter links and {sum(len(v) for v in app_links.values())} app links "
          f"({len(app_links)} distinct, each run with bplab run --link), "
          f"{quoted_runs} quoted runs re-run and compared")
    if failures:
        print(f"check-handbook: {len(failures)} problem(s):", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print("check-handbook: ok")
    return 0


def check_quoted_runs(texts: dict) -> int:
    """Re-run every `$ bplab run ...` quoted in a code block and compare the fields quoted under it."""
    import json
    import shlex

    count = 0
    for page, text in texts.items():
        lines = text.splitlines()
        in_fence = False
        i = 0
        while i < len(lines):
            line = lines[i]
            if FENCE.match(line):
                in_fence = not in_fence
                i += 1
                continue
            m = re.match(r"\s*\$ bplab (run .*)$", line) if in_fence else None
            if not m:
                i += 1
                continue
            start = i + 1
            command = m.group(1)
            j = i + 1
            while command.rstrip().endswith("\\") and j < len(lines):  # a continued command line
                command = command.rstrip()[:-1] + " " + lines[j].strip()
                j += 1
            quoted = []  # (line number, key, value text, in ledger)
            in_ledger = False  # inside a quoted `"ledger": { ... }`
            while j < len(lines) and not FENCE.match(lines[j]) and not re.match(r"\s*\$ ", lines[j]):
                if '"ledger": {' in lines[j]:
                    in_ledger = True
                for km in re.finditer(r'"([a-z0-9_]+)":\s*(-?[0-9.eE+-]+|null|true|false)', lines[j]):
                    quoted.append((j + 1, km.group(1), km.group(2), in_ledger))
                if "}" in lines[j]:
                    in_ledger = False
                j += 1
            i = j
            if not quoted:
                continue
            args = shlex.split(command, comments=True)[1:]
            r = subprocess.run([BPLAB, "run", *args], capture_output=True, text=True)
            where = f"{page}:{start}"
            if r.returncode != 0:
                fail(where, f"quoted run `bplab run {' '.join(args)}` failed: {r.stderr.strip()}")
                continue
            count += 1
            summary = json.loads(r.stdout)["summary"]
            for n, key, value, in_ledger in quoted:
                actual = find_field(summary, key, prefer="ledger" if in_ledger else None)
                if actual is _MISSING:
                    fail(f"{page}:{n}", f"quoted field {key!r} is not in the summary of `bplab run {' '.join(args)}`")
                elif json.dumps(actual) != value and not same_number(actual, value):
                    fail(f"{page}:{n}", f"quoted {key} = {value}, but `bplab run {' '.join(args)}` prints {json.dumps(actual)}")
    return count


_MISSING = object()


def find_field(summary: dict, key: str, prefer=None):
    if prefer and isinstance(summary.get(prefer), dict) and key in summary[prefer]:
        return summary[prefer][key]
    if key in summary:
        return summary[key]
    for v in summary.values():
        if isinstance(v, dict) and key in v:
            return v[key]
    return _MISSING


def same_number(actual, text: str) -> bool:
    try:
        return isinstance(actual, (int, float)) and float(text) == float(actual)
    except ValueError:
        return False


def check_charts(embed_srcs) -> None:
    """The page draws `partitions` only with a topic and `control` only with a windowed link,
    a limiter or a downstream (src/charts.rs, Chart::applies); otherwise an embed falls back."""
    import json
    from urllib.parse import parse_qsl

    scenarios: dict[str, dict] = {}
    for where, query in embed_srcs:
        q = dict(parse_qsl(query))
        chart, preset = q.get("chart"), q.get("preset", "incident-106")
        if chart not in ("partitions", "control"):
            continue
        if preset not in scenarios:
            r = subprocess.run([BPLAB, "show", "--preset", preset, "--format", "json"], capture_output=True, text=True)
            if r.returncode != 0:
                continue  # already reported by the link check
            scenarios[preset] = json.loads(r.stdout)
        s = scenarios[preset]
        stages = s.get("stages", [])
        windowed = lambda link: (link or {}).get("control", {}).get("kind", "none") != "none"
        if chart == "partitions":
            ok = any(st.get("kind") == "topic" for st in stages)
        else:
            c = s.get("consumer", {})
            ok = (c.get("limiter") is not None or c.get("downstream") is not None or windowed(c.get("link"))
                  or any(windowed(st.get("link")) for st in stages if st.get("kind") in ("channel", "map", "filter")))
        if not ok:
            fail(where, f"chart={chart} does not apply to preset {preset}: the embed would show another chart")


def strip_code_spans_keep_links(line: str) -> str:
    """Blank out code spans that are not a link's text, so that `[x](y)` written as code is not
    read as a link, while [`x`](y) still is."""
    out, i = [], 0
    for m in CODE_SPAN.finditer(line):
        start, end = m.span()
        inside_link_text = line.rfind("[", 0, start) > line.rfind("]", 0, start) and line.startswith("](", end)
        out.append(line[i:start])
        out.append(m.group(0) if inside_link_text else "x" * (end - start))
        i = end
    out.append(line[i:])
    return "".join(out)


def check_target(where: str, page: str, target: str, anchors: dict, app_links: dict) -> bool:
    """Check one link target. Returns True when it is a link to a chapter or an anchor."""
    if re.match(r"(?i)[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
        return False  # an absolute URL: not ours to resolve
    if target.startswith("../?"):
        app_links.setdefault(target[4:], []).append(where)
        return False
    if target.startswith("../"):
        fail(where, f"link {target!r} leaves the handbook but is not a link to the app (../?...)")
        return False
    path, _, anchor = target.partition("#")
    path = path.split("?", 1)[0]
    if path == "":
        file = page
    else:
        if path.endswith(".html"):
            path = path[:-5] + ".md"
        file = path
        if file not in anchors:
            fail(where, f"link {target!r}: {file} is not a chapter in SUMMARY.md")
            return True
    if anchor and anchor not in anchors[file]:
        fail(where, f"link {target!r}: no heading with id #{anchor} in {file}")
    return True


if __name__ == "__main__":
    sys.exit(main())
