"""Every package the server's code imports is a dependency named in requirements.in.

requirements.txt is compiled from requirements.in (`make lock`); a package that only arrives as
some other package's dependency may leave with its next release. So each distribution that
chatapp/ or wsgi.py imports, even inside a function, must be named in requirements.in itself.
"""
from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_CODE = [*sorted((ROOT / "chatapp").rglob("*.py")), ROOT / "wsgi.py"]


def canonical(name: str) -> str:
    """A distribution's name as PEP 503 compares them (Flask-SQLAlchemy == flask_sqlalchemy)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def named_in(requirements_in: Path) -> set[str]:
    """The distributions a requirements .in file names, without versions, extras or markers."""
    names: set[str] = set()
    for line in requirements_in.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(canonical(re.split(r"[\[<>=!~;\s]", line, maxsplit=1)[0]))
    return names


def imported_modules(path: Path) -> set[str]:
    """The top-level modules one file imports (relative imports are the file's own package)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_every_import_of_the_server_is_a_named_dependency():
    named = named_in(ROOT / "requirements.in")
    distributions = packages_distributions()
    unnamed = {}
    for path in SERVER_CODE:
        for module in imported_modules(path) - set(sys.stdlib_module_names) - {"chatapp"}:
            providers = {canonical(dist) for dist in distributions.get(module, [])}
            if not providers & named:
                unnamed.setdefault(f"{module} (from {sorted(providers) or 'nothing installed'})", []).append(
                    str(path.relative_to(ROOT))
                )
    assert not unnamed, f"imported, but no distribution of it is named in requirements.in: {unnamed}"


def test_the_check_sees_an_import_that_no_dependency_names(tmp_path):
    code = tmp_path / "module.py"
    code.write_text("def later():\n    import yaml\n\nfrom flask import Flask\nfrom . import sibling\n")
    assert imported_modules(code) == {"yaml", "flask"}
    requirements_in = tmp_path / "requirements.in"
    requirements_in.write_text("# runtime\nFlask-SQLAlchemy==3.1.1  # the ORM\npsycopg[binary]==3.3.9\n-c other.txt\n")
    assert named_in(requirements_in) == {"flask-sqlalchemy", "psycopg"}
