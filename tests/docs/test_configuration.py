"""docs/configuration.md's table is exactly the environment variables the server reads.

Reads are found in the code, not listed here: every `env("NAME")`,
`os.environ.get("NAME")`, `os.getenv("NAME")` and `os.environ["NAME"]` in config.py,
gunicorn.conf.py, wsgi.py and app/.
"""

import ast

from app.ratelimit import LIMITS
from tests.docs.support import BACKTICKED, DOCS, read, table_rows
from tests.servers import ROOT

READERS = {"env", "os.environ.get", "os.getenv"}
# gunicorn.conf.py hands this one to its own exit hook; nobody sets it.
INTERNAL = {"AUTH_SERVER_METRICS_TMPDIR"}


def source_files():
    return [
        ROOT / "config.py",
        ROOT / "gunicorn.conf.py",
        ROOT / "wsgi.py",
        *sorted((ROOT / "app").rglob("*.py")),
    ]


def variables_read():
    """{name: [files]} of the environment variables the server's code reads."""
    found = {}
    for path in source_files():
        for node in ast.walk(ast.parse(read(path))):
            name = None
            if isinstance(node, ast.Call) and ast.unparse(node.func) in READERS:
                if node.args and isinstance(node.args[0], ast.Constant):
                    name = node.args[0].value
            elif (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Load)
                and ast.unparse(node.value) == "os.environ"
                and isinstance(node.slice, ast.Constant)
            ):
                name = node.slice.value
            if isinstance(name, str):
                found.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    # The rate limits are read by the names their table gives (app/ratelimit.py).
    for limit in LIMITS:
        found.setdefault(limit.setting, []).append("app/ratelimit.py")
    return found


def variables_documented():
    """The first-column names of docs/configuration.md's table (one table only)."""
    names = []
    for cells in table_rows(read(DOCS / "configuration.md")):
        names.extend(BACKTICKED.findall(cells[0]))
    return names


def test_every_variable_read_is_in_the_table():
    missing = set(variables_read()) - INTERNAL - set(variables_documented())
    assert missing == set(), "read by the server, missing in docs/configuration.md"


def test_the_table_names_only_variables_the_server_reads():
    extra = set(variables_documented()) - set(variables_read())
    assert extra == set(), "in docs/configuration.md, read nowhere"


def test_each_variable_has_one_row():
    names = variables_documented()
    assert len(names) == len(set(names))
    assert len(names) > 60  # the table was found and parsed


def test_the_scan_sees_reads_in_every_kind_of_file():
    read_by = variables_read()
    assert "config.py" in read_by["SECRET_KEY"]
    assert "gunicorn.conf.py" in read_by["GUNICORN_THREADS"]
