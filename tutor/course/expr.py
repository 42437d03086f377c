"""A small, safe evaluator for item-template expressions.

Expressions are parsed with `ast` and walked over an allow-list of node types; nothing is ever passed to
`eval` or `exec`. Numbers are exact fractions, so `3/4` stays three quarters.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from fractions import Fraction

Value = Fraction | bool

MAX_EXPONENT = 64
MAX_MAGNITUDE = Fraction(10) ** 30
MAX_DENOMINATOR = 10**30


class ExpressionError(ValueError):
    """An expression that is malformed, forbidden, or fails to evaluate."""


def _int_args(name: str, args: tuple[Fraction, ...]) -> list[int]:
    if any(a.denominator != 1 for a in args):
        raise ExpressionError(f"{name}() takes whole numbers")
    return [int(a) for a in args]


def _gcd(*args: Fraction) -> Fraction:
    return Fraction(math.gcd(*_int_args("gcd", args)))


def _lcm(*args: Fraction) -> Fraction:
    return Fraction(math.lcm(*_int_args("lcm", args)))


def _frac(n: Fraction, d: Fraction) -> Fraction:
    if d == 0:
        raise ExpressionError("frac() with a zero denominator")
    return n / d


FUNCTIONS: dict[str, Callable[..., Fraction]] = {
    "gcd": _gcd,
    "lcm": _lcm,
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "abs": lambda a: abs(a),
    "frac": _frac,
}

_BINARY: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: lambda a, b: Fraction(a // b),
    ast.Mod: operator.mod,
}

_COMPARE: dict[type[ast.cmpop], Callable[[Fraction, Fraction], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def parse(source: str) -> ast.Expression:
    """Parse and check an expression; raise ExpressionError naming the first forbidden construct."""
    if len(source) > 500:
        raise ExpressionError("expression is longer than 500 characters")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError) as exc:
        reason = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise ExpressionError(f"syntax error in {source!r}: {reason}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ExpressionError(f"only these functions may be called: {', '.join(sorted(FUNCTIONS))}")
            if node.keywords:
                raise ExpressionError("keyword arguments are not allowed")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ExpressionError(f"only numbers are allowed as constants, not {node.value!r}")
            if (isinstance(node.value, float) and not math.isfinite(node.value)) or abs(node.value) > MAX_MAGNITUDE:
                raise ExpressionError("a number in the expression is too large (the limit is 10**30)")
        elif not isinstance(
            node,
            ast.Expression | ast.BinOp | ast.UnaryOp | ast.BoolOp | ast.Compare | ast.Name | ast.Load
            | ast.operator | ast.unaryop | ast.boolop | ast.cmpop,
        ):
            raise ExpressionError(f"{type(node).__name__} is not allowed in expressions")
        if isinstance(node, ast.operator) and type(node) not in _BINARY and not isinstance(node, ast.Pow):
            raise ExpressionError(f"operator {type(node).__name__} is not allowed")
        if isinstance(node, ast.unaryop) and isinstance(node, ast.Invert):
            raise ExpressionError("operator ~ is not allowed")
        if isinstance(node, ast.cmpop) and type(node) not in _COMPARE:
            raise ExpressionError(f"comparison {type(node).__name__} is not allowed; use < <= > >= == !=")
    return tree


def names(source: str) -> set[str]:
    """Variable names an expression reads (function names excluded)."""
    tree = parse(source)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - called


def evaluate(source: str, variables: Mapping[str, Value]) -> Value:
    """Evaluate `source` with exact arithmetic over `variables`."""
    return _eval(parse(source).body, variables)


def _num(value: Value) -> Fraction:
    return Fraction(int(value)) if isinstance(value, bool) else value


def _eval(node: ast.expr, env: Mapping[str, Value]) -> Value:
    if isinstance(node, ast.Constant):
        return Fraction(str(node.value))
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise ExpressionError(f"unknown name {node.id!r}")
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not value
        return -_num(value) if isinstance(node.op, ast.USub) else _num(value)
    if isinstance(node, ast.BoolOp):
        # Short-circuit like Python, so `b != 0 and a / b > 1` is safe.
        decisive = isinstance(node.op, ast.Or)  # a true operand decides `or`, a false one decides `and`
        for operand in node.values:
            if bool(_eval(operand, env)) is decisive:
                return decisive
        return not decisive
    if isinstance(node, ast.Compare):
        left = _num(_eval(node.left, env))
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _num(_eval(right_node, env))
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BinOp):
        left, right = _num(_eval(node.left, env)), _num(_eval(node.right, env))
        return _binary(node.op, left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = tuple(_num(_eval(a, env)) for a in node.args)
        try:
            return _bounded(FUNCTIONS[node.func.id](*args))
        except ExpressionError:
            raise
        except (TypeError, ValueError) as exc:  # wrong number of arguments, min() of nothing
            raise ExpressionError(f"{node.func.id}(): {exc}") from None
    raise ExpressionError(f"{type(node).__name__} is not allowed in expressions")


def _binary(op: ast.operator, left: Fraction, right: Fraction) -> Fraction:
    if isinstance(op, ast.Pow):
        if right.denominator != 1 or abs(right) > MAX_EXPONENT:
            raise ExpressionError(f"exponents must be whole numbers up to {MAX_EXPONENT}")
        if left == 0 and right < 0:
            raise ExpressionError("division by zero")
        result = left ** int(right)
    else:
        if isinstance(op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
            raise ExpressionError("division by zero")
        result = _BINARY[type(op)](left, right)
    return _bounded(result)


def _bounded(value: Fraction) -> Fraction:
    """`value`, unless it is too large or too finely divided (keeps every later step fast)."""
    if abs(value) > MAX_MAGNITUDE or value.denominator > MAX_DENOMINATOR:
        raise ExpressionError("a value grew too large")
    return value
