"""``index.html``: one static page, no external requests, every string escaped.

Everything that comes from a result file, a commit or the machine (hostnames,
commands, commit subjects, backend names, paths) goes through :func:`esc`;
nothing is pre-escaped upstream, so nothing is escaped twice.  The page also
carries a Content-Security-Policy that allows only its own stylesheet, its own
images and the one inline script below (by hash): even a string that slipped
past escaping could not run.

The script only checks that every image loaded and writes the result into
``<body data-...>``, so a headless browser's ``--dump-dom`` can tell a test
(and anyone curious) that the page is whole.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass, field

from harness.report.environment import Environment
from harness.report.model import Headline, Section, Table

CHECK_SCRIPT = (
    "addEventListener('load',function(){var b=[],i,m;"
    "for(i=0;i<document.images.length;i++){m=document.images[i];"
    "if(!m.complete||m.naturalWidth===0)b.push(m.getAttribute('src'));}"
    "document.body.setAttribute('data-images',String(document.images.length));"
    "document.body.setAttribute('data-broken-images',b.join(' '));"
    "document.body.setAttribute('data-checked','yes');});"
)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(CHECK_SCRIPT.encode()).digest()).decode()
CSP = (f"default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
       f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'")

CSS = """
:root{--ink:#111827;--muted:#6B7280;--line:#E5E7EB;--bg:#F8FAFC;--card:#fff;--accent:#4C72B0;
--warn:#B45309;--warnbg:#FFFBEB;--good:#047857;--goodbg:#ECFDF5}
*{box-sizing:border-box}
body{margin:0;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:var(--ink);background:var(--bg)}
header.hero{background:linear-gradient(135deg,#1E293B,#334155 60%,#4C72B0);color:#fff;padding:32px 0 28px}
.wrap{max-width:1180px;margin:0 auto;padding:0 24px}
h1{margin:0;font-size:30px;letter-spacing:-.02em}
.sub{margin:6px 0 0;color:#CBD5E1}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:14px;margin-top:22px}
.card{background:rgba(255,255,255,.08);border:1px solid rgba(255,255,255,.16);border-radius:12px;padding:14px 16px}
.card .label{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:#CBD5E1}
.card .value{font-size:26px;font-weight:700;margin-top:2px;font-variant-numeric:tabular-nums}
.card .detail{font-size:13px;color:#E2E8F0}
.card.good .value{color:#6EE7B7}.card.warn .value{color:#FCD34D}
nav{position:sticky;top:0;z-index:2;background:rgba(248,250,252,.94);border-bottom:1px solid var(--line);
backdrop-filter:blur(6px)}
nav .wrap{display:flex;gap:18px;overflow-x:auto;padding-top:10px;padding-bottom:10px}
nav a{color:var(--ink);text-decoration:none;font-weight:600;font-size:14px;white-space:nowrap}
nav a:hover{color:var(--accent)}
section{background:var(--card);border:1px solid var(--line);border-radius:14px;margin:22px 0;padding:22px 24px;
box-shadow:0 1px 2px rgba(0,0,0,.04)}
h2{margin:0 0 6px;font-size:21px}
h3{margin:18px 0 6px;font-size:15px}
p.lead{margin:0 0 14px;color:#374151;max-width:80ch}
figure{margin:14px 0;text-align:center}
figure img{width:100%;height:auto;border-radius:6px}
figcaption{font-size:12.5px;color:var(--muted)}
figcaption a{color:var(--muted)}
details{margin-top:10px}
summary{cursor:pointer;font-weight:600;color:var(--accent)}
table{border-collapse:collapse;margin:10px 0;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#F1F5F9;font-weight:600}
td.num,th.num{text-align:right}
.tablewrap{overflow-x:auto}
.tcap{font-size:12.5px;color:var(--muted);margin-top:12px}
.note{color:var(--muted);font-style:italic}
.env .facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:6px 24px;margin:10px 0}
.env .facts div{display:flex;gap:10px;border-bottom:1px dashed var(--line);padding:3px 0}
.env .facts b{min-width:120px;color:var(--muted);font-weight:600}
.env .facts span{overflow-wrap:anywhere}
.warning{background:var(--warnbg);border-left:4px solid #F59E0B;color:#78350F;padding:8px 12px;margin:8px 0;
border-radius:6px}
.ok{background:var(--goodbg);border-left:4px solid #10B981;color:#065F46;padding:8px 12px;margin:8px 0;
border-radius:6px}
.info{color:#374151;font-size:13.5px;margin:4px 0}
pre{background:#0F172A;color:#E2E8F0;padding:12px 14px;border-radius:8px;overflow-x:auto;font-size:13px;
white-space:pre-wrap;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:12.5px;padding:8px 0 40px}
"""


def esc(value: object) -> str:
    """Text (and attribute values) for HTML: ``& < > " '`` escaped."""
    return html.escape(str(value), quote=True)


@dataclass
class Page:
    title: str
    subtitle: str
    headlines: list[Headline]
    env: Environment
    sections: list[Section]
    sources: list[str] = field(default_factory=list)
    generated: str = ""


def _table(t: Table) -> str:
    head = "".join(f'<th class="num">{esc(h)}</th>' if i in t.numeric else f"<th>{esc(h)}</th>"
                   for i, h in enumerate(t.header))
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{esc(v)}</td>' if i in t.numeric else f"<td>{esc(v)}</td>"
                         for i, v in enumerate(row)) + "</tr>"
        for row in t.rows)
    cap = f'<div class="tcap">{esc(t.caption)}</div>' if t.caption else ""
    return f'{cap}<div class="tablewrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _headlines(items: list[Headline]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card {esc(h.tone)}"><div class="label">{esc(h.label)}</div>'
        f'<div class="value">{esc(h.value)}</div><div class="detail">{esc(h.detail)}</div></div>'
        for h in items) + "</div>"


def _env(env: Environment) -> str:
    parts = ['<section id="environment" class="env"><h2>Environment</h2>',
             '<p class="lead">Where these numbers come from. Warnings first: they say how far to trust '
             "the figures below.</p>"]
    if env.warnings:
        parts += [f'<div class="warning">⚠ {esc(w)}</div>' for w in env.warnings]
    else:
        parts.append('<div class="ok">✓ No warnings: quiet machine, low noise, enough samples.</div>')
    parts += [f'<p class="info">{esc(n)}</p>' for n in env.notes]
    parts.append('<div class="facts">' + "".join(f"<div><b>{esc(k)}</b><span>{esc(v)}</span></div>"
                                                  for k, v in env.facts) + "</div>")
    parts.append("<h3>Produced by</h3>")
    for command, files in env.commands:
        parts.append(f'<pre><code>{esc(command)}</code></pre><p class="info">→ {esc(files)}</p>')
    if env.pythons:
        parts.append(f"<details><summary>Pythons and builds</summary>{_table(env.pythons)}</details>")
    if env.noisy:
        parts.append(f"<details><summary>Noisiest cells</summary>{_table(env.noisy)}</details>")
    if env.not_measured:
        parts.append(f"<details><summary>Not measured ({len(env.not_measured.rows)})</summary>"
                     f"{_table(env.not_measured)}</details>")
    parts.append("</section>")
    return "".join(parts)


def _section(sec: Section) -> str:
    parts = [f'<section id="{esc(sec.id)}"><h2>{esc(sec.title)}</h2><p class="lead">{esc(sec.lead)}</p>']
    parts += [f'<p class="note">{esc(n)}</p>' for n in sec.notes]
    for fig in sec.saved:
        parts.append(
            f'<figure><a href="{esc(fig.svg)}"><img src="{esc(fig.svg)}" alt="{esc(fig.title)}"></a>'
            f'<figcaption>{esc(fig.title)} · <a href="{esc(fig.svg)}">SVG</a> · '
            f'<a href="{esc(fig.png)}">PNG</a></figcaption></figure>')
    if sec.tables:
        parts.append("<details><summary>The numbers</summary>"
                     + "".join(_table(t) for t in sec.tables) + "</details>")
    parts.append("</section>")
    return "".join(parts)


def render(page: Page) -> str:
    nav = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in page.sections)
    nav = f'<a href="#environment">Environment</a>{nav}'
    sources = ", ".join(esc(s) for s in page.sources)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        f"<title>{esc(page.title)}</title><style>{CSS}</style></head>\n<body>"
        f'<header class="hero"><div class="wrap"><h1>{esc(page.title)}</h1>'
        f'<p class="sub">{esc(page.subtitle)}</p>{_headlines(page.headlines)}</div></header>'
        f'<nav><div class="wrap">{nav}</div></nav>'
        f'<main class="wrap">{_env(page.env)}{"".join(_section(s) for s in page.sections)}</main>'
        f'<footer class="wrap">Generated {esc(page.generated)} by <code>python -m harness report</code> '
        f"from {sources}. Figures: matplotlib; every figure is also a PNG beside its SVG.</footer>"
        f"<script>{CHECK_SCRIPT}</script>"
        "</body></html>\n"
    )
