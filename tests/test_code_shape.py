"""No function or method of the apps runs over MAX_LINES lines (from `def` to its
end, docstring included): a longer one is split into named phases."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("site", "learning", "exams", "content")
MAX_LINES = 60


def long_functions():
    """["path:line name (n lines)"] of every function longer than MAX_LINES."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.relative_to(ROOT).parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_LINES:
                        where = path.relative_to(ROOT)
                        found.append(f"{where}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_the_limit():
    too_long = long_functions()
    assert not too_long, f"Longer than {MAX_LINES} lines; split into phases:\n" + "\n".join(
        too_long
    )
