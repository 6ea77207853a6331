"""app/ stands on the public API of its libraries: no private names imported or used."""

import ast
from pathlib import Path

import app as app_package

LIBRARIES = {
    "flask_jwt_extended",
    "jwt",
    "flask_limiter",
    "limits",
    "sqlalchemy",
    "authlib",
    "joserfc",
}
APP_DIR = Path(app_package.__file__).parent


def private(name):
    return any(part.startswith("_") and part != "__init__" for part in name.split("."))


def private_uses(source):
    """(line, what) for every private name of LIBRARIES a module imports or reads."""
    tree = ast.parse(source)
    found, library_aliases = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    library_aliases.add(alias.asname or alias.name.split(".")[0])
                    if private(alias.name):
                        found.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in LIBRARIES:
                if private(node.module):
                    found.append((node.lineno, node.module))
                for alias in node.names:
                    if alias.name.startswith("_"):
                        found.append((node.lineno, f"{node.module}.{alias.name}"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and isinstance(node.value, ast.Name)
            and node.value.id in library_aliases
        ):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return found


def test_no_module_under_app_uses_a_private_library_name():
    offenders = [
        f"{path.relative_to(APP_DIR.parent)}:{line}: {name}"
        for path in sorted(APP_DIR.rglob("*.py"))
        for line, name in private_uses(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_check_finds_what_it_looks_for():
    source = (
        "import jwt as pyjwt\n"
        "from flask_jwt_extended.tokens import _decode_jwt\n"
        "from jwt.api_jws import _jws_global_obj\n"
        "from sqlalchemy.orm._private import thing\n"
        "pyjwt._jwt_global_obj\n"
        "from flask_limiter import Limiter\n"
    )
    assert [line for line, _ in private_uses(source)] == [2, 3, 4, 5]
