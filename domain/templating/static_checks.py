"""Static security checks: walk a template's parsed AST and refuse anything unsafe.

Allow-list based: only the node types listed below may appear, so a construct
Jinja adds later is refused until someone decides it is safe.
"""

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError

from domain.templating.errors import TemplateIssue
from domain.templating.sandbox import (
    MAX_RANGE,
    SAFE_FILTER_NAMES,
    SAFE_FUNCTION_NAMES,
    SAFE_METHOD_NAMES,
)
from domain.templating.sizes import MAX_BUILT_LENGTH, MAX_INT

MAX_SOURCE_CHARS = 100_000
# The shape of one field (or layout). Compiling is plain CPU work nothing can interrupt, and
# Python's own compiler refuses deep nesting: these keep every template quick to compile
# (Herald's shipped emails have about 150 elements, nested 3 deep).
MAX_TOKENS = 5_000  # pieces of template code (names, operators, brackets...): parsing is slow
MAX_NODES = 2_000  # template elements: tags, expressions, names, literals, filters...
MAX_BLOCK_DEPTH = 8  # {% if %}, {% for %} and {% with %} inside each other
MAX_EXPRESSION_DEPTH = 24  # operators, filters, calls and subscripts inside each other
_BLOCKS = (nodes.If, nodes.For, nodes.With)

# Names that only ever appear in template-injection exploits (Flask globals, Jinja's
# default helpers, self-references); none of them is Herald data.
FORBIDDEN_NAMES = frozenset({
    "self", "config", "request", "session", "g", "url_for", "get_flashed_messages", "lipsum",
    "cycler", "joiner", "namespace", "dict", "caller", "varargs", "kwargs", "os", "sys",
    "builtins", "environ",
})  # fmt: skip

ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.For, nodes.Assign,
    nodes.With, nodes.Name, nodes.Const, nodes.Tuple,
    nodes.List, nodes.Dict, nodes.Pair, nodes.Keyword, nodes.CondExpr, nodes.Filter,
    nodes.Test, nodes.Call, nodes.Getitem, nodes.Getattr, nodes.Slice, nodes.Concat,
    nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos,
    nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod,
)  # fmt: skip

REFUSED_NODE_MESSAGES = {
    nodes.Include: "{% include %} is not allowed: templates cannot load other templates",
    nodes.Import: "{% import %} is not allowed: templates cannot load other templates",
    nodes.FromImport: "{% from ... import %} is not allowed: templates cannot load other templates",
    nodes.Extends: "{% extends %} is not allowed: use the tenant email layout instead",
    nodes.Block: "{% block %} is not allowed: templates cannot extend each other",
    nodes.Macro: "{% macro %} is not supported",
    nodes.AssignBlock: "{% set %}...{% endset %} blocks are not supported: use {% set x = ... %}",
    nodes.FilterBlock: "{% filter %} blocks are not supported: filter the expressions instead",
    nodes.CallBlock: "{% call %} is not supported",
    nodes.EvalContextModifier: "{% autoescape %} is not allowed: escaping is fixed per field",
    nodes.Pow: "the ** operator is not allowed",
    nodes.NSRef: "namespace assignments are not supported",
}


def parse_and_check(
    environment: Environment, field: str, text: str
) -> tuple[nodes.Template | None, list[TemplateIssue]]:
    """Parse `text` and return its AST (None when it does not parse) with every issue found."""
    if len(text) > MAX_SOURCE_CHARS:
        return None, [TemplateIssue(field, None, f"longer than {MAX_SOURCE_CHARS} characters")]
    try:
        if _more_tokens_than(environment, text, MAX_TOKENS):
            too_long = f"too long: more than {MAX_TOKENS} pieces of template code"
            return None, [TemplateIssue(field, None, too_long)]
        tree = environment.parse(text)
    except TemplateSyntaxError as error:
        return None, [TemplateIssue(field, error.lineno, f"syntax error: {error.message}")]
    except RecursionError:
        return None, [TemplateIssue(field, None, "expressions are nested too deeply")]
    except ValueError:  # Python's own limit on the digits of an integer literal
        return None, [TemplateIssue(field, None, "numbers beyond ±2**64 are not allowed")]
    shape = _shape_issue(field, tree)
    if shape:
        return None, [shape]
    issues = []
    for node in _walk(tree):
        message = _refusal(node)
        if message:
            issue = TemplateIssue(field, node.lineno, message)
            if issue not in issues:
                issues.append(issue)
    issues.sort(key=lambda issue: issue.line or 0)
    return tree, issues


def _walk(tree: nodes.Node) -> Iterator[nodes.Node]:
    # Iterative: a deep but valid AST must not hit Python's recursion limit here.
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.iter_child_nodes())


def _more_tokens_than(environment: Environment, text: str, limit: int) -> bool:
    # Jinja's parser takes tens of microseconds a token: count them (quickly) first.
    tokens = islice(environment.lexer.tokeniter(text, None), limit + 1)
    return sum(1 for _ in tokens) > limit


def _shape_issue(field: str, tree: nodes.Template) -> TemplateIssue | None:
    """Too many elements, or nested too deeply (see MAX_NODES and the depths)."""
    count = 0
    stack: list[tuple[nodes.Node, int, int]] = [(tree, 0, 0)]
    while stack:
        node, blocks, expressions = stack.pop()
        count += 1
        if count > MAX_NODES:
            return TemplateIssue(field, None, f"too long: more than {MAX_NODES} template elements")
        if isinstance(node, _BLOCKS):
            blocks += 1
            if blocks > MAX_BLOCK_DEPTH:
                message = f"blocks nested more than {MAX_BLOCK_DEPTH} deep"
                return TemplateIssue(field, node.lineno, message)
        if isinstance(node, nodes.Expr):
            expressions += 1
            if expressions > MAX_EXPRESSION_DEPTH:
                message = f"expressions nested more than {MAX_EXPRESSION_DEPTH} deep"
                return TemplateIssue(field, node.lineno, message)
        else:
            expressions = 0
        stack.extend((child, blocks, expressions) for child in node.iter_child_nodes())
    return None


def _refusal(node: nodes.Node) -> str | None:
    for node_type, message in REFUSED_NODE_MESSAGES.items():
        if isinstance(node, node_type):
            return message
    if not isinstance(node, ALLOWED_NODES):
        return f"{type(node).__name__} is not supported in templates"
    checker = _CHECKERS.get(type(node))
    return checker(node) if checker else None


def _private(name: str) -> str:
    return f"access to {name!r} is not allowed: names starting with '_' are private"


def _check_name(node: nodes.Name) -> str | None:
    if node.name.startswith("_"):
        return _private(node.name)
    if node.name in FORBIDDEN_NAMES:
        return f"{node.name!r} is not available in templates"
    return None


def _check_getattr(node: nodes.Getattr) -> str | None:
    return _private(node.attr) if node.attr.startswith("_") else None


def _check_getitem(node: nodes.Getitem) -> str | None:
    key = node.arg
    if isinstance(key, nodes.Const) and isinstance(key.value, str) and key.value.startswith("_"):
        return _private(key.value)
    if isinstance(key, _COMPUTED):
        # x['_' ~ '_class_' ~ '_'] would dodge the check above.
        return "computed keys are not allowed: use a constant or a variable"
    return None


_COMPUTED = (nodes.Concat, nodes.BinExpr, nodes.Filter, nodes.Call, nodes.CondExpr)


def _check_const(node: nodes.Const) -> str | None:
    if isinstance(node.value, str) and "__" in node.value:
        return "strings containing '__' are not allowed (they are used to reach Python internals)"
    if _int_above(node, MAX_INT):
        return "numbers beyond ±2**64 are not allowed"
    return None


def _check_filter(node: nodes.Filter) -> str | None:
    if node.name == "attr":
        return "the attr filter is not allowed: it reaches attributes by name"
    if node.name not in SAFE_FILTER_NAMES:
        return f"filter {node.name!r} is not available"
    mapped = node.args[0] if node.name == "map" and node.args else None
    if isinstance(mapped, nodes.Const) and mapped.value not in SAFE_FILTER_NAMES:
        return f"filter {mapped.value!r} is not available"
    return None


def _check_call(node: nodes.Call) -> str | None:
    callee = node.node
    if isinstance(callee, nodes.Name) and callee.name in SAFE_FUNCTION_NAMES:
        return _check_range_arguments(node)
    if isinstance(callee, nodes.Getattr) and callee.attr in SAFE_METHOD_NAMES:
        return None
    name = callee.name if isinstance(callee, nodes.Name) else getattr(callee, "attr", None)
    what = f"{name!r}" if name else "this expression"
    return f"calling {what} is not allowed"


def _check_range_arguments(node: nodes.Call) -> str | None:
    if any(_int_above(argument, MAX_RANGE) for argument in node.args):
        return f"range() may produce at most {MAX_RANGE} items"
    return None


def _check_mul(node: nodes.Mul) -> str | None:
    if _int_above(node.left, MAX_BUILT_LENGTH) or _int_above(node.right, MAX_BUILT_LENGTH):
        return f"'*' may produce at most {MAX_BUILT_LENGTH} items"
    return None


def _int_above(node: nodes.Node, limit: int) -> bool:
    return isinstance(node, nodes.Const) and isinstance(node.value, int) and abs(node.value) > limit


def _check_for(node: nodes.For) -> str | None:
    return "recursive loops are not supported" if node.recursive else None


def _check_mod(node: nodes.Mod) -> str | None:
    if isinstance(node.left, nodes.Const) and isinstance(node.left.value, str):
        return "%-formatting of strings is not allowed"
    return None


_CHECKERS: dict[type[nodes.Node], Callable[[Any], str | None]] = {
    nodes.Name: _check_name,
    nodes.Getattr: _check_getattr,
    nodes.Getitem: _check_getitem,
    nodes.Const: _check_const,
    nodes.Filter: _check_filter,
    nodes.Call: _check_call,
    nodes.Mul: _check_mul,
    nodes.Mod: _check_mod,
    nodes.For: _check_for,
}
