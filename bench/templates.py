"""Template rendering throughput: Herald's TemplateRenderer against raw `jinja2.Template.render`.

The message is Herald's shipped booking confirmation email in its default layout, rendered
with the event's sample data. "The same template" for raw Jinja means the three sources
Herald itself renders once its compile-time work is done, each a plain `jinja2.Template`:
- the subject;
- the HTML body spliced into the layout, with the CSS already inlined (autoescaped);
- the plain-text body Herald derives from that HTML.
So both sides produce the same three strings from the same context; the difference is
Herald's per-render work: the sandbox, fallbacks for missing variables, the required
placeholder check, the loop budget, the output limit and tidying the text.

One thread on one core (pinned when the OS allows), several runs, median renders per second.
"""

import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from domain.templating import (
    DEFAULT_EMAIL_LAYOUT,
    TemplateRenderer,
    TemplateSource,
    default_template,
    sample_context,
)
from domain.templating.css import inline_css_in_template
from domain.templating.html_text import derive_text_template
from domain.templating.layout import wrap_in_layout
from domain.templating.sandbox import HTML_ENVIRONMENT

RENDERS_PER_RUN = int(os.environ.get("BENCH_TEMPLATE_RENDERS", "2000"))
RUNS = int(os.environ.get("BENCH_TEMPLATE_RUNS", "7"))
GOAL = 0.8
RESULTS = Path(__file__).parent / "results" / "templates.json"
EVENT_KEY = "booking.confirmation"


def shipped_email() -> TemplateSource:
    """The shipped email for EVENT_KEY: a known event key and channel always have one."""
    source = default_template(EVENT_KEY, "email")
    assert source is not None, f"no shipped {EVENT_KEY} email"
    return source


def raw_jinja_templates() -> tuple[jinja2.Template, jinja2.Template, jinja2.Template]:
    """Subject, layout-wrapped HTML and text body, as Herald compiles them, in plain Jinja."""
    source = shipped_email()
    assert source.subject is not None and source.html_body is not None  # an email has both
    html = wrap_in_layout(DEFAULT_EMAIL_LAYOUT.html, source.html_body)
    text = derive_text_template(HTML_ENVIRONMENT, html)
    inlined = inline_css_in_template(HTML_ENVIRONMENT, html)
    # The shipped HTML is one Herald can read as text and inline the CSS of.
    assert text is not None and inlined is not None
    return (
        jinja2.Template(source.subject),
        jinja2.Template(inlined, autoescape=True),
        jinja2.Template(text),
    )


def renders_per_second(render, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        render()
    return count / (time.perf_counter() - started)


def measure() -> dict:
    context = sample_context(EVENT_KEY)
    source = shipped_email()
    renderer = TemplateRenderer()
    subject, html, text = raw_jinja_templates()

    def herald():
        return renderer.render(source, context, DEFAULT_EMAIL_LAYOUT)

    def raw():
        return subject.render(context), html.render(context), text.render(context)

    for render in (herald, raw):  # compile, warm caches
        renders_per_second(render, RENDERS_PER_RUN // 10)
    herald_runs, raw_runs = [], []
    for _ in range(RUNS):  # alternate, so drift in the machine's speed hits both alike
        herald_runs.append(renders_per_second(herald, RENDERS_PER_RUN))
        raw_runs.append(renders_per_second(raw, RENDERS_PER_RUN))
    herald_rate, raw_rate = statistics.median(herald_runs), statistics.median(raw_runs)
    return {
        "what": f"{EVENT_KEY} email (subject, HTML in the default layout, text), sample data",
        "herald_renders_per_second": round(herald_rate),
        "raw_jinja_renders_per_second": round(raw_rate),
        "ratio": round(herald_rate / raw_rate, 3),
        "goal": GOAL,
        "met": herald_rate / raw_rate >= GOAL,
        "runs": RUNS,
        "renders_per_run": RENDERS_PER_RUN,
        "python": platform.python_version(),
        "jinja2": jinja2.__version__,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def main() -> dict:
    pin_to_one_core()
    result = measure()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"template rendering, one core, median of {result['runs']} runs:")
    print(f"  Herald TemplateRenderer  {result['herald_renders_per_second']:>8} renders/s")
    print(f"  raw jinja2.Template      {result['raw_jinja_renders_per_second']:>8} renders/s")
    verdict = "met" if result["met"] else "NOT met"
    print(f"  ratio {result['ratio']} (goal >= {GOAL}, {verdict}) -> {RESULTS}")
    return result


if __name__ == "__main__":
    main()
