"""A template version compiled once, ready to render many times.

Everything that depends only on the template (parsing, security checks, CSS
inlining, the plain-text version of the HTML, the fallback for each variable)
happens here, so that a render is little more than Jinja's own render.
"""

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, Template, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError

from domain.templating.budget import COMPILE_SECONDS, RENDER_SECONDS, check_time, spending
from domain.templating.css import inline_css, inline_css_in_template
from domain.templating.errors import (
    MissingPlaceholdersError,
    TemplateError,
    TemplateIssue,
    TemplateValidationError,
    public_message,
)
from domain.templating.fallbacks import FallbackUndefined, fallback_text
from domain.templating.html_text import derive_text_from_html, derive_text_template, tidy_text
from domain.templating.layout import layout_issues, wrap_in_layout
from domain.templating.model import EmailLayout, TemplateSource, structure_issues
from domain.templating.sandbox import (
    HTML_ENVIRONMENT,
    TEXT_ENVIRONMENT,
    add_render_globals,
    as_template_error,
    render_blocks,
)
from domain.templating.static_checks import parse_and_check

HTML_FIELD, TEXT_FIELD = "html_body", "text_body"
# Python compiles a template's generated code in one step nothing can interrupt, at about
# half a microsecond a character: this keeps it under 60 ms (Herald's emails: about 17,000).
MAX_CODE_CHARS = 120_000


def environment_for(field: str) -> Environment:
    """Only the email HTML is autoescaped: every other field is plain text."""
    return HTML_ENVIRONMENT if field == HTML_FIELD else TEXT_ENVIRONMENT


def template_issues(
    source: TemplateSource, layout: EmailLayout | None = None
) -> list[TemplateIssue]:
    """Shape, syntax and sandbox-escape issues of every field (and of the layout, if any)."""
    issues = structure_issues(source)
    for field, text in source.field_sources().items():
        issues += parse_and_check(environment_for(field), field, text)[1]
    if layout is not None:
        issues += layout_issues(layout.html)
    return issues


class CompiledTemplate:
    """All fields of one template version, compiled into a single Jinja template.

    Each field is a block of one combined template (the non-HTML ones unescaped),
    so a render sets up one context for all of its fields.
    """

    def __init__(self, source: TemplateSource, layout: EmailLayout | None = None):
        """Raises TemplateValidationError naming the field that cannot compile, and why."""
        with spending(COMPILE_SECONDS):
            try:
                self._compile(source, layout)
            except TemplateError:
                raise
            except Exception as error:  # a limit met while folding constants, a recursion...
                issue = TemplateIssue("template", None, _compile_failure(error))
                raise TemplateValidationError([issue]) from None

    def _compile(self, source: TemplateSource, layout: EmailLayout | None) -> None:
        issues = template_issues(source, layout)
        if issues:
            raise TemplateValidationError(issues)
        self.source = source
        self.inlines_css_per_render = False
        self.derives_text_per_render = False
        sections = self._sections(source, layout)
        trees = {field: environment_for(field).parse(text) for field, text in sections.items()}
        names = set().union(*map(meta.find_undeclared_variables, trees.values()))
        names -= HTML_ENVIRONMENT.globals.keys()
        self._fields = tuple(trees)
        self._template = _combine(trees)
        self._fallbacks = {
            name: FallbackUndefined(name=name, text=fallback_text(name, source.fallbacks))
            for name in names
        }
        self._names = tuple(names)

    def _sections(self, source: TemplateSource, layout: EmailLayout | None) -> dict[str, str]:
        sections = source.field_sources()
        if HTML_FIELD not in sections:
            return sections
        html = wrap_in_layout(layout.html, sections[HTML_FIELD]) if layout else sections[HTML_FIELD]
        inlined = inline_css_in_template(HTML_ENVIRONMENT, html)
        self.inlines_css_per_render = inlined is None
        sections[HTML_FIELD] = inlined or html
        if TEXT_FIELD not in sections:
            text = derive_text_template(HTML_ENVIRONMENT, html)
            if text is None or parse_and_check(TEXT_ENVIRONMENT, TEXT_FIELD, text)[1]:
                self.derives_text_per_render = True
            else:
                sections[TEXT_FIELD] = text
        return sections

    @property
    def variable_names(self) -> tuple[str, ...]:
        """Every variable the template reads from its context (its own loop variables excluded)."""
        return self._names

    def render_fields(
        self,
        context: Mapping[str, Any],
        *,
        check_required: bool = True,
        seconds: float = RENDER_SECONDS,
    ) -> dict[str, str]:
        """Every field rendered within `seconds`; for email, HTML has its CSS inlined and a
        text part exists. Raises MissingPlaceholdersError or TemplateRenderError (a
        TemplateLimitError when the render went past a limit, its time included)."""
        with spending(seconds):
            return self._render_fields(context, check_required)

    def _render_fields(self, context: Mapping[str, Any], check_required: bool) -> dict[str, str]:
        if check_required:
            missing = [name for name in self.source.required_placeholders
                       if is_blank(context.get(name))]  # fmt: skip
            if missing:
                raise MissingPlaceholdersError(missing)
        values = {**self._fallbacks, **context}
        if None in context.values():  # rare: scan in C first, fix up in Python only if needed
            for name in self._names:
                if values[name] is None:
                    values[name] = self._fallbacks[name]
        rendered = render_blocks(self._template, add_render_globals(values), self._fields)
        if HTML_FIELD in rendered:
            try:
                self._finish_email(rendered)
            except SecurityError as error:
                raise as_template_error(HTML_FIELD, error) from None
        return rendered

    def _finish_email(self, rendered: dict[str, str]) -> None:
        if self.inlines_css_per_render:
            rendered[HTML_FIELD] = inline_css(rendered[HTML_FIELD])
        if self.derives_text_per_render:
            check_time()
            rendered[TEXT_FIELD] = derive_text_from_html(rendered[HTML_FIELD])
            check_time()
        elif self.source.text_body is None:
            rendered[TEXT_FIELD] = tidy_text(rendered[TEXT_FIELD])


def _combine(trees: dict[str, nodes.Template]) -> Template:
    """One template with a block per field, so one context serves every field."""
    blocks = [
        nodes.Block(
            field, tree.body if field == HTML_FIELD else [_unescaped(tree.body)], False, False
        )
        for field, tree in trees.items()
    ]
    try:
        return _compiled(nodes.Template(blocks))
    except Exception as error:  # the checks let it through: find the field, say why
        raise TemplateValidationError([_compile_issue(trees, error)]) from None


def _code(tree: nodes.Template) -> str:
    return HTML_ENVIRONMENT.compile(tree, raw=True)


def _compiled(tree: nodes.Template) -> Template:
    environment = HTML_ENVIRONMENT
    code = _code(tree)
    if len(code) > MAX_CODE_CHARS:
        raise _TooLarge(len(code))
    return environment.template_class.from_code(
        environment, compile(code, "<template>", "exec"), environment.make_globals(None), None
    )


class _TooLarge(Exception):
    pass


def _compile_issue(trees: dict[str, nodes.Template], error: Exception) -> TemplateIssue:
    if isinstance(error, _TooLarge):
        sizes = {field: len(_code(tree)) for field, tree in trees.items()}
        return TemplateIssue(max(sizes, key=sizes.__getitem__), None, _compile_failure(error))
    for field, tree in trees.items():
        try:
            _compiled(nodes.Template([nodes.Block(field, tree.body, False, False)]))
        except Exception as field_error:
            return TemplateIssue(field, None, _compile_failure(field_error))
    # Each field compiles alone: the email body together with the layout does not.
    field = HTML_FIELD if HTML_FIELD in trees else next(iter(trees))
    return TemplateIssue(field, None, _compile_failure(error))


def _compile_failure(error: Exception) -> str:
    if isinstance(error, _TooLarge):
        return "too large to compile: simplify it or split it"
    if isinstance(error, JinjaTemplateError):  # SecurityError, LimitExceeded, syntax
        return public_message(str(error))
    # Python's compiler: too many nested blocks or parentheses, recursion, memory.
    return "too complex to compile (nested too deeply or too large)"


def _unescaped(body: list[nodes.Node]) -> nodes.ScopedEvalContextModifier:
    # A constant option keeps escaping decided at compile time: no per-output runtime test.
    return nodes.ScopedEvalContextModifier([nodes.Keyword("autoescape", nodes.Const(False))], body)


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict | set) and not value
