"""The Jinja environments templates run in, and the run-time limits they enforce.

Static validation (static_checks.py) refuses hostile templates before they are
saved; this module is the second line: even a template that skipped validation
cannot reach Python internals, load files or exhaust memory and CPU.
"""

import functools
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from types import CodeType
from typing import Any, Literal, NoReturn, TypeVar, cast, overload

from jinja2 import Template, nodes, pass_context, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.filters import do_join, make_attrgetter
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from domain.templating.codegen import LimitedCodeGenerator
from domain.templating.errors import TemplateRenderError, TemplateSecurityError
from domain.templating.fallbacks import FallbackUndefined

MAX_RANGE = 1_000  # items one range() may produce
MAX_BUILT_LENGTH = 100_000  # characters or items one `*`, `+`, `~` or filter may produce
MAX_LOOP_ITERATIONS = 10_000  # loop iterations in one render, all loops together
MAX_OUTPUT_CHARS = 1_000_000  # characters one render (all fields) may produce
_BATCH = 256  # output chunks taken at a time (see _join_bounded)

# Filters that cannot reach internals nor blow up memory. Left out on purpose:
# attr (attribute access by string), format/center/indent/wordwrap/replace
# (unbounded output), safe (would let context data inject HTML), pprint/tojson/
# xmlattr (dump objects), random (not pure).
SAFE_FILTER_NAMES = frozenset({
    "abs", "batch", "capitalize", "count", "d", "default", "dictsort", "e", "escape",
    "filesizeformat", "first", "float", "forceescape", "groupby", "int", "items", "join", "last",
    "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "reverse", "round",
    "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "trim",
    "truncate", "unique", "upper", "urlencode", "urlize", "wordcount",
})  # fmt: skip
# Methods a template may call. Everything else (str.format, str.ljust, dict.pop...) is refused.
SAFE_METHOD_NAMES = frozenset({
    "items", "keys", "values", "get", "upper", "lower", "title", "capitalize", "strip", "lstrip",
    "rstrip", "startswith", "endswith", "split", "cycle", "changed",
})  # fmt: skip
SAFE_FUNCTION_NAMES = frozenset({"range"})

# Per-render loop budget, kept in the render context under a name templates cannot spell
# (static validation refuses names starting with "_").
LOOP_BUDGET_KEY = "_herald_loop_budget"
LOOP_BUDGET_FILTER = "_herald_loop_budget"

_Item = TypeVar("_Item")


def bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() may produce at most {MAX_RANGE} items")
    return numbers


@pass_eval_context
def bounded_join(
    eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: str | int | None = None
) -> str:
    if attribute is not None:
        value = map(make_attrgetter(eval_ctx.environment, attribute), value)
    items = list(value)
    separator_total = len(str(d)) * max(len(items) - 1, 0)
    if separator_total + sum(len(str(item)) for item in items) > MAX_BUILT_LENGTH:
        raise SecurityError(f"join() may produce at most {MAX_BUILT_LENGTH} characters")
    # do_join's async-variant decorator hides its type; in these sync environments it returns str.
    return cast(str, do_join(eval_ctx, items, d))


@pass_context
def count_loop_iterations(context: Context, iterable: Iterable[_Item]) -> Iterator[_Item]:
    """Wraps every `{% for %}` iterable (see HeraldSandbox.compile).

    Each iteration spends the render's loop budget, so nested loops cannot spin forever."""
    budget = context.resolve_or_missing(LOOP_BUDGET_KEY)
    for item in iterable:
        budget[0] -= 1
        if budget[0] < 0:
            raise SecurityError(f"loops may run at most {MAX_LOOP_ITERATIONS} times per render")
        yield item


class HeraldSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = LimitedCodeGenerator

    @staticmethod
    def check_concat(pieces: tuple[Any, ...]) -> tuple[Any, ...]:
        """Called by compiled `~` expressions before joining (see codegen.py)."""
        _check_built_length(pieces, "'~'")
        return pieces

    @overload
    def compile(
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: Literal[False] = False,
        defer_init: bool = False,
    ) -> CodeType: ...

    @overload
    def compile(
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: Literal[True] = ...,
        defer_init: bool = False,
    ) -> str: ...

    def compile(
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> str | CodeType:
        # Every template these environments compile counts its loop iterations,
        # whether or not it went through Herald's validation.
        tree = self.parse(source, name, filename) if isinstance(source, str) else source
        for loop in tree.find_all(nodes.For):
            if not _is_budgeted(loop.iter):
                loop.iter = nodes.Filter(loop.iter, LOOP_BUDGET_FILTER, [], [], None, None)
        tree.set_lineno(1)
        tree.set_environment(self)
        # jinja2 types compile() by the literal value of `raw`, so pass it on as one.
        if raw:
            return super().compile(tree, name, filename, True, defer_init)
        return super().compile(tree, name, filename, False, defer_init)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(value, Undefined):
            return not attr.startswith("_")
        if callable(value) and attr not in SAFE_METHOD_NAMES:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # Jinja hands out a sandboxed str.format before asking is_safe_attribute; its
        # padding ("{:>999999999}") still exhausts memory. Let is_safe_attribute refuse it.
        return None

    def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
        # The default returns an Undefined that fails only when printed; with
        # FallbackUndefined it would print "N/A" instead. Fail right here.
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} is not allowed")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("the ** operator is not allowed")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("%-formatting of strings is not allowed")
        if operator == "*":
            _check_repetition(left, right)
        if operator == "+" and isinstance(left, str | list | tuple):
            _check_built_length((left, right), "'+'")
        return super().call_binop(context, operator, left, right)


def _is_budgeted(iterable: nodes.Node) -> bool:
    return isinstance(iterable, nodes.Filter) and iterable.name == LOOP_BUDGET_FILTER


def _check_repetition(left: Any, right: Any) -> None:
    for sequence, times in ((left, right), (right, left)):
        repeats = isinstance(sequence, str | list | tuple) and isinstance(times, int)
        if repeats and _built_length(sequence) * times > MAX_BUILT_LENGTH:
            raise SecurityError(f"'*' may produce at most {MAX_BUILT_LENGTH} items")


def _check_built_length(pieces: Iterable[Any], operation: str) -> None:
    if sum(map(_built_length, pieces)) > MAX_BUILT_LENGTH:
        raise SecurityError(f"{operation} may produce at most {MAX_BUILT_LENGTH} characters")


def _built_length(value: object) -> int:
    """Roughly how long `value` prints: lists count their strings' characters."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        return sum(len(item) if isinstance(item, str) else 1 for item in value)
    return 1


def _bounded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a filter result too long to have come from reasonable input (e.g. chained escapes)."""

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if isinstance(result, str | list | tuple) and _built_length(result) > MAX_BUILT_LENGTH:
            raise SecurityError(f"a filter may produce at most {MAX_BUILT_LENGTH} characters")
        return result

    return bounded


def _create_environment(autoescape: bool) -> HeraldSandbox:
    environment = HeraldSandbox(autoescape=autoescape, undefined=FallbackUndefined)
    environment.globals = {"range": bounded_range}
    environment.filters = {
        name: _bounded_filter(DEFAULT_FILTERS[name]) for name in SAFE_FILTER_NAMES - {"join"}
    }
    environment.filters["join"] = bounded_join
    environment.filters[LOOP_BUDGET_FILTER] = count_loop_iterations
    return environment


# One environment per escaping mode, shared: environments are thread-safe once set up.
HTML_ENVIRONMENT = _create_environment(autoescape=True)
TEXT_ENVIRONMENT = _create_environment(autoescape=False)


def add_render_globals(values: dict[str, Any]) -> dict[str, Any]:
    """Complete a render context in place: the globals (which data may not shadow)
    and a fresh loop budget."""
    values.update(HTML_ENVIRONMENT.globals)
    values[LOOP_BUDGET_KEY] = [MAX_LOOP_ITERATIONS]
    return values


def render_blocks(
    template: Template, values: dict[str, Any], fields: tuple[str, ...]
) -> dict[str, str]:
    """Render the block of each field (the whole template if it has no blocks) in one context.

    `values` (see add_render_globals) is used as the context as-is, without a copy.
    Failures become domain errors naming the field.
    """
    context = template.new_context(values, shared=True)
    rendered: dict[str, str] = {}
    size = 0
    for field in fields:
        block = template.blocks.get(field)
        chunks = block(context) if block else template.root_render_func(context)
        try:
            rendered[field] = text = _join_bounded(chunks, MAX_OUTPUT_CHARS - size)
        except SecurityError as error:
            raise TemplateSecurityError(field, str(error)) from None
        except JinjaTemplateError as error:
            raise TemplateRenderError(field, str(error)) from None
        except (TypeError, ValueError, LookupError, ArithmeticError, RecursionError) as error:
            raise TemplateRenderError(field, f"{type(error).__name__}: {error}") from None
        size += len(text)
    return rendered


def _join_bounded(chunks: Iterator[str], limit: int) -> str:
    # Take the output in batches: C speed per chunk, yet a runaway template is
    # stopped within one batch of passing the limit. Most fields fit one batch.
    parts = list(islice(chunks, _BATCH))
    counted = 0
    while len(parts) % _BATCH == 0 and parts:
        counted += sum(map(len, parts[-_BATCH:]))
        if counted > limit:
            break
        batch = list(islice(chunks, _BATCH))
        if not batch:
            break
        parts += batch
    text = "".join(parts)
    if len(text) > limit:
        raise SecurityError(f"output exceeds {MAX_OUTPUT_CHARS} characters")
    return text
