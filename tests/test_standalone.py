"""The repository stands on its own: a clean clone, with nothing beside it, runs its tests.

No Python file of the project may read data from outside the repository (the recorded wire data
lives in ``tests/vectors/real``), and every recorded file there has its source in the README.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "qoder", "benchmarks", "examples")
VECTORS = REPO / "tests" / "vectors" / "real"
THIS = Path(__file__).resolve()

# The sibling checkout the tests once read, by name.
FORBIDDEN = ("../shared", "shared/vectors")
# Calls that return the path they are given, in another form: they keep its height.
_SAME_PATH = frozenset({"resolve", "absolute", "expanduser"})
_OS_PATH_SAME = frozenset({"abspath", "realpath", "normpath"})


def python_files() -> list[Path]:
    files = [p for top in SCANNED for p in sorted((REPO / top).rglob("*.py"))]
    return [p for p in files if p.resolve() != THIS]


def _height_after(segments: str, height: int) -> tuple[int, int]:
    """Walk the relative path ``segments`` from ``height`` levels above the file: returns the
    final height and the highest one reached on the way."""
    highest = height
    for part in segments.replace("\\", "/").split("/"):
        if part == "..":
            height += 1
            highest = max(highest, height)
        elif part not in ("", "."):
            height -= 1
    return height, highest


class _Climb:
    """How far above its own file an expression anchored on ``__file__`` reaches.

    ``height(expr)`` is the number of directories above the file the expression names (0: the
    file itself, 1: its directory, ...), or None when it is not a path derived from
    ``__file__``. The highest level reached along the way is kept in :attr:`highest`, so that
    ``parents[3] / "repo"`` counts as having left the repository even if it comes back.
    Names assigned such an expression (``ROOT = Path(__file__).parents[1]``) are followed.
    """

    def __init__(self) -> None:
        self.names: dict[str, int] = {}
        self.highest: list[tuple[int, int]] = []  # (line, height reached)
        self.consumed: set[int] = set()  # ids of the string constants joined onto such paths

    def height(self, node: ast.expr) -> int | None:
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return 0
            return self.names.get(node.id)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            return self._up(node, self.height(node.value), 1)
        if isinstance(node, ast.Subscript):
            base = node.value
            index = node.slice
            if (
                isinstance(base, ast.Attribute)
                and base.attr == "parents"
                and isinstance(index, ast.Constant)
                and isinstance(index.value, int)
            ):
                return self._up(node, self.height(base.value), index.value + 1)
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            start = self.height(node.left)
            if start is None or not isinstance(node.right, ast.Constant):
                return None
            if not isinstance(node.right.value, str):
                return None
            return self._walk(start, node.right)
        return None

    def _call(self, node: ast.Call) -> int | None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in ("Path", "PurePath", "join") and node.args:  # Path(a, ...), os.path.join
            return self._join(self.height(node.args[0]), node.args[1:])
        if name == "joinpath" and isinstance(func, ast.Attribute):
            return self._join(self.height(func.value), node.args)
        if isinstance(func, ast.Attribute) and func.attr in _SAME_PATH:
            return self.height(func.value)
        if name in _OS_PATH_SAME and len(node.args) == 1:
            return self.height(node.args[0])
        if name == "dirname" and len(node.args) == 1:
            return self._up(node, self.height(node.args[0]), 1)
        return None

    def _join(self, start: int | None, parts: list[ast.expr]) -> int | None:
        for part in parts:
            if start is None or not (
                isinstance(part, ast.Constant) and isinstance(part.value, str)
            ):
                return None
            start = self._walk(start, part)
        return start

    def _up(self, node: ast.AST, start: int | None, levels: int) -> int | None:
        if start is None:
            return None
        self.highest.append((getattr(node, "lineno", 0), start + levels))
        return start + levels

    def _walk(self, start: int, segments: ast.Constant) -> int:
        """Join the string constant ``segments`` onto a path ``start`` levels up."""
        self.consumed.add(id(segments))
        end, highest = _height_after(str(segments.value), start)
        self.highest.append((segments.lineno, highest))
        return end


def _string_constants(tree: ast.AST) -> Iterator[tuple[ast.Constant, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node, node.value


def escapes(path: Path) -> list[str]:
    """Why ``path`` reaches outside the repository, one line per place; empty if it does not."""
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(REPO)
    found = [
        f"{rel}:{number}: mentions {needle!r}"
        for number, line in enumerate(text.splitlines(), start=1)
        for needle in FORBIDDEN
        if needle in line
    ]
    tree = ast.parse(text, filename=str(path))

    # Paths derived from __file__ that climb above the repository root. The file sits
    # len(rel.parts) - 1 directories below the root, so height len(rel.parts) is the root.
    climb = _Climb()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            height = climb.height(node.value)
            if isinstance(target, ast.Name) and height is not None:
                climb.names[target.id] = height
    climb.highest.clear()
    for node in ast.walk(tree):
        if isinstance(node, ast.expr):
            climb.height(node)
    limit = len(rel.parts)
    for line, height in sorted(set(climb.highest)):
        if height > limit:
            found.append(
                f"{rel}:{line}: a path from __file__ climbs {height - limit} level(s) above "
                "the repository root"
            )

    outside = REPO.parent
    for const, value in _string_constants(tree):
        # A relative path that starts by going up ("..", "../x"), other than a part joined
        # onto a __file__ path (judged above). "sess/../x" stays where it starts.
        if id(const) not in climb.consumed and (value == ".." or value.startswith(("../", "..\\"))):
            found.append(f"{rel}:{const.lineno}: relative path {value!r} climbs out")
        # An absolute path into the folder that holds this checkout (a sibling of it, or this
        # checkout pinned where it is now): true on this machine only.
        if outside != Path(outside.anchor) and (
            value == str(outside) or value.startswith(str(outside) + "/")
        ):
            found.append(f"{rel}:{const.lineno}: absolute path {value!r} is machine-specific")
    return found


def test_there_are_files_to_scan() -> None:
    missing = [top for top in SCANNED if not (REPO / top).is_dir()]
    assert not missing, f"expected folders missing from the repository: {missing}"
    assert python_files(), f"no Python file found under {SCANNED}"


def test_no_python_file_reaches_outside_the_repository() -> None:
    found = [line for path in python_files() for line in escapes(path)]
    assert not found, (
        "These files read from outside the repository, so a clean clone cannot run them; "
        "keep test data under tests/ (recorded wire data: tests/vectors/real):\n  "
        + "\n  ".join(found)
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('X = Path(__file__).resolve().parents[2] / "docs"', False),
        ('X = Path(__file__).resolve().parents[3] / "shared"', True),
        ('X = Path(__file__).parents[2].parent / "vectors"', True),
        ('ROOT = Path(__file__).resolve().parents[2]\nX = ROOT.parent / "x"', True),
        ('ROOT = Path(__file__).resolve().parents[2]\nX = ROOT / ".." / "x"', True),
        ('X = os.path.join(os.path.dirname(__file__), "..", "..", "..")', True),
        ('X = os.path.join(os.path.dirname(__file__), "..", "..")', False),
        ('X = "../data/a.json"', True),
        ('X = Path("..") / "data"', True),
        ('X = Path(__file__).parent.joinpath("..", "fixtures")', False),
        ('X = ("sess/../x", "sess%2F..%2Fx")', False),
        ('X = "/api/v1/cloud/sessions"', False),
    ],
)
def test_the_scan_tells_inside_from_outside(
    source: str, expected: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A module two directories below a fake repository root, like tests/protocol/x.py.
    fake_repo = tmp_path / "parent" / "repo"
    module = fake_repo / "tests" / "protocol" / "mod.py"
    module.parent.mkdir(parents=True)
    module.write_text(source + "\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.REPO", fake_repo)
    assert bool(escapes(module)) is expected, escapes(module)


def test_every_recorded_vector_is_described_in_its_readme() -> None:
    readme = (VECTORS / "README.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in VECTORS.iterdir() if p.is_file() and p.name != "README.md")
    assert files, f"no recorded vectors in {VECTORS}"
    missing = [name for name in files if f"`{name}`" not in readme]
    assert not missing, (
        f"{VECTORS.relative_to(REPO)}/README.md does not name the source of: {', '.join(missing)}"
    )
