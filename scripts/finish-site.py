#!/usr/bin/env python3
"""Finishes the static site that scripts/build-site.sh assembled in SITE (default site/).

- index.html (the app and its embeds) gets a strict Content-Security-Policy: its own
  origin only, plus 'wasm-unsafe-eval' (compiling the WebAssembly), the hash of the one
  inline script Trunk writes (the module that starts the app) and inline style
  attributes; no other origin is allowed anything. It also gets the web app manifest, the icon and the script that
  registers the service worker.
- sw.js gets the build's version (a hash of every file of the site) and the list of files
  to keep for offline use.

Prints the site's size and file count. Python 3 standard library only.
"""
import base64
import hashlib
import json
import os
import re
import sys

SITE = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "site")


def csp(inline_hashes):
    scripts = " ".join(["'self'", "'wasm-unsafe-eval'"] + [f"'sha256-{h}'" for h in inline_hashes])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        # Style sheets only from the site; style *attributes* (bar widths, positions the
        # page sets on elements) are allowed: they cannot run code.
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ])


def finish_index():
    path = os.path.join(SITE, "index.html")
    html = open(path, encoding="utf-8").read()
    if "Content-Security-Policy" in html:
        sys.exit("finish-site: index.html already finished (build the site afresh)")
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
    hashes = [base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() for s in inline]
    head = (
        f'<meta http-equiv="Content-Security-Policy" content="{csp(hashes)}" />\n'
        '    <link rel="manifest" href="manifest.webmanifest" />\n'
        '    <meta name="theme-color" content="#0b63a8" />'
    )
    html = html.replace('<meta charset="utf-8" />', '<meta charset="utf-8" />\n    ' + head, 1)
    html = html.replace('<link rel="icon" href="data:," />', '<link rel="icon" href="icon.svg" type="image/svg+xml" />', 1)
    html = html.replace("</head>", '<script src="register-sw.js" defer></script>\n</head>', 1)
    open(path, "w", encoding="utf-8").write(html)
    return len(hashes)


def finish_worker():
    files, digest = [], hashlib.sha256()
    for root, dirs, names in os.walk(SITE):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, SITE).replace(os.sep, "/")
            if rel == "sw.js":
                continue
            files.append(rel)
            digest.update(rel.encode())
            digest.update(open(full, "rb").read())
    # A folder's index is also asked for by the folder's own URL.
    urls = []
    for rel in files:
        if rel == "index.html":
            urls.append("./")
        elif rel.endswith("/index.html"):
            urls.append(rel[: -len("index.html")])
        urls.append(rel)
    path = os.path.join(SITE, "sw.js")
    text = open(path, encoding="utf-8").read()
    text = text.replace("'__VERSION__'", json.dumps(digest.hexdigest()[:16])).replace("__FILES__", json.dumps(urls, indent=0))
    open(path, "w", encoding="utf-8").write(text)
    size = sum(os.path.getsize(os.path.join(SITE, f)) for f in files)
    return len(files), size, digest.hexdigest()[:16]


if __name__ == "__main__":
    n_inline = finish_index()
    n, size, version = finish_worker()
    print(f"finish-site: {SITE}: {n} files, {size / 1e6:.2f} MB; CSP with {n_inline} inline-script hash; service worker cache bplab-{version}")
