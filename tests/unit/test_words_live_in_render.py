"""Words live in bot/render: the domain and the services keep facts. What is left there that
reads like a sentence for a person (three words or more, an emoji, mrkdwn) is counted, outside
docstrings and log lines. What is left must be an internal invariant — the message of a built-in
exception raised where a caller broke a rule it had checked already (a naive datetime, a command
no branch handles) — and there may not be more of them than there are now."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("bot/domain", "bot/services")
LIMIT = 10  # issue 24 allowed 25
INVARIANTS = {"AssertionError", "RuntimeError", "TypeError", "ValueError"}
LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical"}
_EMOJI = re.compile("[\u2600-\u27bf\U0001F300-\U0001FAFF]")
_MRKDWN = re.compile(r"<[@#!]|\*\w|`")


def _reads_like_words(text: str) -> bool:
    return len(text.split()) >= 3 or bool(_EMOJI.search(text) or _MRKDWN.search(text))


def _unsaid(tree: ast.AST) -> set[int]:
    """The constants nobody reads in Slack: docstrings (of modules, classes, functions and
    attributes: a string standing alone) and what a log line is made of."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skipped.add(id(node.value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in LOG_CALLS:
            skipped |= {id(n) for arg in node.args for n in ast.walk(arg)}
    return skipped


def _raised(tree: ast.AST) -> set[int]:
    """The constants in a built-in exception raised: internal invariants, read by developers."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                and isinstance(node.exc.func, ast.Name) and node.exc.func.id in INVARIANTS:
            inside |= {id(n) for n in ast.walk(node.exc)}
    return inside


def sentences(*, invariants: bool = True) -> list[str]:
    """Every sentence left (``invariants=False``: only those that are not an invariant's)."""
    found = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skipped = _unsaid(tree) | (set() if invariants else _raised(tree))
            for node in ast.walk(tree):
                if id(node) in skipped:
                    continue
                if isinstance(node, ast.JoinedStr):
                    skipped |= {id(v) for v in node.values}
                    text = "".join(v.value if isinstance(v, ast.Constant) else "{}"
                                   for v in node.values)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    text = node.value
                else:
                    continue
                if _reads_like_words(str(text)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text!r}")
    return found


def test_the_domain_and_the_services_keep_facts_not_sentences() -> None:
    assert sentences(invariants=False) == []


def test_only_a_few_invariants_are_left() -> None:
    left = sentences()
    assert len(left) <= LIMIT, "\n".join(left)


def test_the_count_sees_a_sentence() -> None:
    tree = ast.parse('def f(x):\n    """Doc string of three words."""\n'
                     '    log.info("action=x a b c")\n    return f"Only {x} may go."\n')
    skipped = _unsaid(tree)
    texts = [n for n in ast.walk(tree) if isinstance(n, ast.Constant | ast.JoinedStr)
             and id(n) not in skipped]
    assert [ast.unparse(n) for n in texts if isinstance(n, ast.JoinedStr)] == ["f'Only {x} may go.'"]


def test_an_invariant_is_a_built_in_exception_raised() -> None:
    tree = ast.parse('def f(x):\n    if x:\n        raise ValueError(f"naive datetime {x}: use aware ones")\n'
                     '    raise Refusal("Only admins may do that.")\n')
    raised = _raised(tree)
    said = [ast.unparse(n) for n in ast.walk(tree)
            if isinstance(n, ast.Constant | ast.JoinedStr) and id(n) not in raised]
    assert said == ["'Only admins may do that.'"]
