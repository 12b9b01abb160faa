"""Jinja code generation with the sandbox's limits built in, for unvalidated templates too."""

from collections.abc import Callable

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame

# Constructs that collect output in a hidden buffer, out of reach of the output-size
# limit, and that Herald templates have no use for.
_REFUSED = {
    "AssignBlock": "{% set %} blocks",
    "FilterBlock": "{% filter %} blocks",
    "Macro": "macros",
    "CallBlock": "{% call %} blocks",
    "Include": "{% include %}",
    "Import": "{% import %}",
    "FromImport": "{% from ... import %}",
    "Extends": "{% extends %}",
}


class LimitedCodeGenerator(CodeGenerator):
    """Compiles `~` through the environment's length check and refuses buffering constructs."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # Same as Jinja's, with the pieces checked before they are joined: chained
        # `{% set b = a ~ a %}` would otherwise double a string at every step.
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"{join}(environment.check_concat((")
        for piece in node.nodes:
            self.visit(piece, frame)
            self.write(", ")
        self.write(")))")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if node.recursive:
            self.fail("recursive loops are not supported", node.lineno)
        super().visit_For(node, frame)


def _refuse(what: str) -> Callable[[CodeGenerator, nodes.Node, Frame], None]:
    def visit(self: CodeGenerator, node: nodes.Node, frame: Frame) -> None:
        self.fail(f"{what} are not supported" if what.endswith("s") else f"{what} is not supported",
                  node.lineno)  # fmt: skip

    return visit


for _node_type, _what in _REFUSED.items():
    setattr(LimitedCodeGenerator, f"visit_{_node_type}", _refuse(_what))
