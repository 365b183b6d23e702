"""Layering: no module of src/ uses a private name (`_x`) that belongs to another package.

A name with a leading underscore belongs to the package it is defined in (a private module's names,
a module's private functions); other modules of that package and its subpackages may use it,
everyone else uses what the package exports. Checked with `ast`: `from` imports, plain imports and
attribute access on an imported module (`codec._SCALE`)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _private_at(parts: list[str]) -> int | None:
    """The index of the first private part of a dotted name (`_x`, not `__x__`), if any."""
    for i, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return i
    return None


def _owner(parts: list[str], root: Path) -> str:
    """The package a private name belongs to: the innermost package on its dotted path `parts`."""
    for end in range(len(parts) - 1, 0, -1):
        if (root.joinpath(*parts[:end]) / "__init__.py").exists():
            return ".".join(parts[:end])
    return parts[0]


def _within(package: str, owner: str) -> bool:
    return package == owner or package.startswith(owner + ".")


def private_uses(root: Path, top: str) -> list[str]:
    """`file:line: what` for every use of another package's private name in the tree `root/top`."""
    found = []
    for path in sorted((root / top).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = parts[:-1] if is_package else parts
        package_parts = module if is_package else module[:-1]
        package = ".".join(package_parts)
        modules: dict[str, list[str]] = {}  # local name -> the dotted name it stands for
        tree = ast.parse(path.read_text(), str(path))
        names: list[tuple[int, list[str]]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = package_parts[: len(package_parts) - node.level + 1]
                source = (base if node.level else []) + (node.module.split(".") if node.module else [])
                if source[:1] != [top]:
                    continue
                for alias in node.names:
                    names.append((node.lineno, [*source, alias.name]))
                    modules[alias.asname or alias.name] = [*source, alias.name]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == top:
                        names.append((node.lineno, alias.name.split(".")))
                        if alias.asname:
                            modules[alias.asname] = alias.name.split(".")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
            ):
                names.append((node.lineno, [*modules[node.value.id], node.attr]))
        for line, dotted in names:
            at = _private_at(dotted)
            if at is None:
                continue
            owner = _owner(dotted[: at + 1], root)
            if not _within(package, owner):
                found.append(f"{path.relative_to(root)}:{line}: {'.'.join(dotted)} (private to {owner})")
    return sorted(set(found))


def test_no_module_uses_a_private_name_of_another_package() -> None:
    assert private_uses(SRC, "checkd") == []


def test_the_check_finds_private_uses_across_packages(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/control/__init__.py": "from app.control._states import active\n",
        "app/control/_states.py": "active = 1\n_hidden = 2\n",
        "app/control/_sysv.py": "from app.control._states import _hidden\n",  # same package: fine
        "app/store/__init__.py": "",
        "app/store/codec.py": "_SCALE = 100\n",
        "app/store/backends/__init__.py": "from app.store.codec import _SCALE\n",  # a subpackage: fine
        "app/api/__init__.py": "",
        "app/api/states.py": "from app.control._states import active\n",
        "app/api/scale.py": "from app.store import codec\n\nx = codec._SCALE\n",
        "app/api/relative.py": "from ..control import _states\n",
        "app/api/fine.py": "from app.control import active\nfrom app import __doc__\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert private_uses(tmp_path, "app") == [
        "app/api/relative.py:1: app.control._states (private to app.control)",
        "app/api/scale.py:3: app.store.codec._SCALE (private to app.store)",
        "app/api/states.py:1: app.control._states.active (private to app.control)",
    ]
