"""The Jinja environments templates run in, and the run-time limits they enforce.

Static validation (static_checks.py) refuses hostile templates before they are
saved; this module is the second line: even a template that skipped validation
cannot reach Python internals, load files or exhaust memory and CPU. Every hook
below asks the render's budget (budget.py) whether its time is up, and bounds
what it builds (sizes.py) before building it.
"""

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sized
from itertools import islice
from types import CodeType
from typing import Any, Literal, NoReturn, TypeVar, cast, overload

from jinja2 import Template, nodes, pass_context, pass_environment, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.filters import do_batch, do_join, make_attrgetter, sync_do_slice
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg
from markupsafe import soft_str

from domain.templating.budget import LimitExceeded, check_time
from domain.templating.codegen import LimitedCodeGenerator
from domain.templating.errors import (
    TemplateLimitError,
    TemplateRenderError,
    TemplateSecurityError,
    public_message,
)
from domain.templating.fallbacks import FallbackUndefined
from domain.templating.sizes import (
    MAX_BUILT_LENGTH,
    require_built,
    require_int,
    require_repetition,
    require_total,
)

MAX_RANGE = 1_000  # items one range() may produce
# Items a sorting filter (sort, dictsort, unique, groupby) may take: sorting is one step of
# native code the render's budget cannot interrupt, so its size is what bounds how long the
# event loop may wait for the interpreter meanwhile (100,000 items: ~50 ms; 10,000: ~4 ms).
MAX_SORTED = 10_000
_SORTING_FILTERS = ("sort", "dictsort", "unique", "groupby")
# Characters wordcount scans in one step of native code: a regular expression's scan cannot be
# interrupted, and over a whole 100,000-character string it holds the interpreter ~6-11 ms, in
# which the event loop waits at every step of every request it serves (GET /v1/health took
# ~300 ms during such a render); 8,192 characters take well under a millisecond.
_WORDCOUNT_CHUNK = 8_192
_WORD = re.compile(r"\w+")  # what Jinja's wordcount counts
MAX_LOOP_ITERATIONS = 10_000  # loop iterations in one render, all loops together
MAX_OUTPUT_CHARS = 1_000_000  # characters one render (all fields) may produce
# Output chunks taken at a time: C speed per batch, yet a runaway template is stopped
# within one batch of passing the limit (a chunk is at most one value or one piece of text).
_BATCH = 32

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
        raise LimitExceeded(f"range() may produce at most {MAX_RANGE} items")
    return numbers


@pass_eval_context
def bounded_join(
    eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: str | int | None = None
) -> str:
    if attribute is not None:
        value = map(make_attrgetter(eval_ctx.environment, attribute), value)
    items = _materialized(value, "join()")
    separators = len(str(d)) * max(len(items) - 1, 0)  # counted, not built
    require_total(items, "join()", separators)
    # do_join's async-variant decorator hides its type; in these sync environments it returns str.
    return cast(str, do_join(eval_ctx, items, d))


def chunked_wordcount(value: Any) -> int:
    """Jinja's wordcount, scanned a chunk at a time (see _WORDCOUNT_CHUNK)."""
    text = soft_str(value)
    words = 0
    for start in range(0, len(text), _WORDCOUNT_CHUNK):
        check_time()
        words += sum(1 for _ in _WORD.finditer(text, start, start + _WORDCOUNT_CHUNK))
        if start and _WORD.fullmatch(text, start - 1, start + 1):  # a word across the boundary
            words -= 1  # was counted in both chunks
    return words


@pass_environment
def bounded_sum(
    environment: ImmutableSandboxedEnvironment,
    iterable: Iterable[Any],
    attribute: str | int | None = None,
    start: int | float = 0,
) -> Any:
    # Summing lists or tuples (`start=[]`) copies the total at every step: quadratic.
    if not isinstance(start, int | float):
        raise SecurityError("sum() adds numbers only")
    return DEFAULT_FILTERS["sum"](environment, iterable, attribute, start)


def _counted(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    """batch and slice: the count of rows (or of fill items) is bounded, like range(), before
    they are made."""

    @functools.wraps(function)
    def bounded(value: Any, count: int, *args: Any, **kwargs: Any) -> Any:
        if isinstance(count, int) and count > MAX_RANGE:
            raise LimitExceeded(f"{name}() takes a count of at most {MAX_RANGE}")
        return function(value, count, *args, **kwargs)

    return bounded


def _sorting(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A sorting filter that refuses more than MAX_SORTED items before it starts."""
    value_at = 0 if _PassArg.from_obj(function) is None else 1  # after an environment

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        value = args[value_at]
        if isinstance(value, Sized) and len(value) > MAX_SORTED:
            raise LimitExceeded(f"{name}() takes at most {MAX_SORTED} items")
        return function(*args, **kwargs)

    return bounded


@pass_context
def count_loop_iterations(context: Context, iterable: Iterable[_Item]) -> Iterator[_Item]:
    """Wraps every `{% for %}` iterable (see HeraldSandbox.compile).

    Each iteration spends the render's loop budget and checks its time, so nested
    loops can neither spin forever nor run past the render's deadline."""
    budget = context.resolve_or_missing(LOOP_BUDGET_KEY)
    for item in iterable:
        budget[0] -= 1
        if budget[0] < 0:
            raise LimitExceeded(f"loops may run at most {MAX_LOOP_ITERATIONS} times per render")
        check_time()
        yield item


class SafeCallable:
    """A function or method a template may call, printed without its repr's memory address.

    `{{ name.upper }}` (not called) or `{{ range ~ '' }}` would otherwise print
    `<built-in method upper of str object at 0x7f...>`."""

    __slots__ = ("function", "name")

    def __init__(self, function: Callable[..., Any], name: str):
        self.function, self.name = function, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<function {self.name}>"

    __str__ = __repr__


def _callable_shown_safely(value: Any, name: str) -> Any:
    if callable(value) and not isinstance(value, Undefined | SafeCallable):
        return SafeCallable(value, name)
    return value


class HeraldSandbox(ImmutableSandboxedEnvironment):
    # "-" too: subtracting a negative number grows it like "+".
    intercepted_binops = frozenset({"*", "**", "%", "+", "-"})
    code_generator_class = LimitedCodeGenerator

    @staticmethod
    def check_concat(pieces: tuple[Any, ...]) -> tuple[Any, ...]:
        """Called by compiled `~` expressions before joining (see codegen.py)."""
        require_total(pieces, "'~'")
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

    def getattr(self, obj: Any, attribute: str) -> Any:
        check_time()
        return _callable_shown_safely(super().getattr(obj, attribute), attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        check_time()
        return _callable_shown_safely(super().getitem(obj, argument), str(argument)[:40])

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        check_time()
        if not __self.is_safe_callable(__obj):
            raise SecurityError(f"a {type(__obj).__name__} cannot be called")
        result = __context.call(__obj, *args, **kwargs)
        if not isinstance(result, range | Undefined):  # str.split, dict.items()...
            require_built(_materialized(result, "a call"), "a call")
        return result

    def call_binop(
        self, context: Context | EvalContext, operator: str, left: Any, right: Any
    ) -> Any:
        # Also called while compiling, to fold constant expressions: the same limits apply.
        check_time()
        if operator == "**":
            raise SecurityError("the ** operator is not allowed")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("%-formatting of strings is not allowed")
        if operator == "*":
            require_repetition(left, right)
        elif operator == "+" and isinstance(left, str | list | tuple):
            require_total((left, right), "'+'")
        result = self.binop_table[operator](left, right)
        if isinstance(result, int):
            require_int(result, f"'{operator}'")
        return result


def _is_budgeted(iterable: nodes.Node) -> bool:
    return isinstance(iterable, nodes.Filter) and iterable.name == LOOP_BUDGET_FILTER


def _materialized(value: Any, operation: str) -> Any:
    """An iterator as a list (of bounded length); anything else as it is."""
    if not isinstance(value, Iterator):
        return value
    items = list(islice(value, MAX_BUILT_LENGTH + 1))
    if len(items) > MAX_BUILT_LENGTH:
        raise LimitExceeded(f"{operation} may produce at most {MAX_BUILT_LENGTH} items")
    return items


def _bounded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that checks the time first, and whose result is bounded and counted.

    Lazy results (map, select, batch...) are made into lists here: bounded, counted, and
    printed as data rather than as `<generator object ... at 0x...>`."""

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        check_time()
        result = function(*args, **kwargs)
        if type(result) is not str:  # the common case, counted by require_built as well
            result = _materialized(result, "a filter")
        require_built(result, "a filter")
        return result

    return bounded


def _create_environment(autoescape: bool) -> HeraldSandbox:
    environment = HeraldSandbox(autoescape=autoescape, undefined=FallbackUndefined)
    environment.globals = {"range": SafeCallable(bounded_range, "range")}
    filters = {name: DEFAULT_FILTERS[name] for name in SAFE_FILTER_NAMES}
    filters |= {name: _sorting(filters[name], name) for name in _SORTING_FILTERS}
    filters |= {
        "sum": bounded_sum,
        "wordcount": chunked_wordcount,
        "batch": _counted(do_batch, "batch"),
        "slice": _counted(sync_do_slice, "slice"),  # the registered one takes an eval context
    }
    environment.filters = {name: _bounded_filter(f) for name, f in filters.items()}
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
    Failures become domain errors naming the field, whose messages show no Python reprs.
    """
    context = template.new_context(values, shared=True)
    rendered: dict[str, str] = {}
    size = 0
    for field in fields:
        block = template.blocks.get(field)
        chunks = block(context) if block else template.root_render_func(context)
        try:
            rendered[field] = text = _join_bounded(chunks, MAX_OUTPUT_CHARS - size)
        except Exception as error:
            failure = as_template_error(field, error)
        else:
            size += len(text)
            continue
        # Raised outside the handler, the failure keeps no traceback of the template's code,
        # and so none of what it had built, alive for as long as someone holds the error.
        raise failure
    return rendered


def as_template_error(field: str, error: Exception) -> TemplateRenderError:
    """The domain error for a failure of `field`'s template code (or of its data)."""
    if isinstance(error, LimitExceeded):
        return TemplateLimitError(field, public_message(str(error)))
    if isinstance(error, SecurityError):
        return TemplateSecurityError(field, public_message(str(error)))
    if isinstance(error, RecursionError | MemoryError):
        return TemplateLimitError(field, "nested too deeply or too large to render")
    if isinstance(error, JinjaTemplateError):  # e.g. an undefined value used in arithmetic
        return TemplateRenderError(field, public_message(str(error)))
    return TemplateRenderError(field, public_message(f"{type(error).__name__}: {error}"))


def _join_bounded(chunks: Iterator[str], limit: int) -> str:
    # The output is counted batch by batch and refused before it is joined: never more
    # than one batch past the limit is held. Time is checked before each further batch.
    parts = list(islice(chunks, _BATCH))
    size = sum(map(len, parts))
    while size <= limit and len(parts) % _BATCH == 0:
        check_time()
        batch = list(islice(chunks, _BATCH))
        if not batch:
            break
        size += sum(map(len, batch))
        parts += batch
    if size > limit:
        raise LimitExceeded(f"output exceeds {MAX_OUTPUT_CHARS} characters")
    return "".join(parts)
