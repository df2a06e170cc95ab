"""Guards over the source tree: the rules about where code may do what, checked on every run.

- No model write (save, create, update, delete, bulk writes, many-to-many changes) outside
  improvement/services/, the migrations and the demo loader: every write meets the services'
  validation, locking and history.
- The report parser imports nothing from Django, so it can be used and fuzzed on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "improvement"

# Where model writes belong.
WRITE_HOMES = ("improvement/services/", "improvement/migrations/", "improvement/demo")
# Pure-Python modules that import nothing from Django (checked below), so cannot write models;
# their set.add/dict.update calls are not writes.
PURE = ("improvement/importer/parser.py", "improvement/importer/pdf.py")
# Calls that look like writes but are not, each with its reason: (path, code) pairs.
ALLOWED: set[tuple[str, str]] = {
    # A dict of the command's JSON outcome, filled with keywords.
    ("improvement/management/commands/import_ofsted_report.py", "outcome.update"),
    # ModelFormSet.save(commit=False) builds the inline rows and writes nothing; the admin then
    # writes each one through the services.
    ("improvement/admin.py", "formset.save"),
    # An openpyxl workbook written to the export's spooled file, not a model.
    ("improvement/exports.py", "workbook.save"),
    # BoardPack.save refuses to update a frozen pack, then defers to Model.save; notes, evidence
    # and deadline changes fill their action's authority, then defer to Model.save.
    ("improvement/models.py", "super().save"),
    # ActionRecordQuerySet.bulk_create fills each record's authority, then defers to Django's.
    ("improvement/models.py", "super().bulk_create"),
    # A dict of the changes since the last pack.
    ("improvement/selectors/packs.py", "resolved_changes.update"),
    # Adds one authority's figures into its region's roll-up (a dataclass, not a model).
    ("improvement/selectors/national.py", "rollup.figures.add"),
}

ALWAYS_WRITES = {"save", "delete", "create", "bulk_create", "bulk_update", "get_or_create"}
ALWAYS_WRITES |= {"update_or_create", "save_model", "delete_model", "delete_queryset"}
# m2m managers share these names with set and dict: flagged on an attribute chain only
# (`action.themes.set(...)`), not on a local name or subscript (`seen.add(x)`).
RELATION_WRITES = {"add", "remove", "set", "clear"}


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _is_write(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    name = func.attr
    if name in ALWAYS_WRITES:
        return True
    if name == "update":
        # QuerySet.update takes keywords only; dict.update and set.update take a positional.
        return bool(call.keywords) and not call.args
    if name in RELATION_WRITES:
        return isinstance(func.value, ast.Attribute)
    return False


def find_writes(source: str, path: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _is_write(node):
            code = ast.unparse(node.func)
            if (path, code) not in ALLOWED:
                found.append(f"{path}:{node.lineno}: {code}(...)")
    return found


def checked_modules() -> list[Path]:
    return [
        path
        for path in sorted(APP.rglob("*.py"))
        if not _relative(path).startswith(WRITE_HOMES) and _relative(path) not in PURE
    ]


def test_no_model_write_outside_the_services():
    stray = [
        write
        for path in checked_modules()
        for write in find_writes(path.read_text(encoding="utf-8"), _relative(path))
    ]
    assert not stray, "Model writes outside improvement/services/:\n" + "\n".join(stray)


@pytest.mark.parametrize(
    "code",
    [
        "action.save()",
        "Action.objects.create(title='x')",
        "Action.objects.filter(pk=1).update(rag='red')",
        "Action.objects.filter(pk=1).delete()",
        "note.delete()",
        "Action.objects.bulk_create(rows)",
        "Action.objects.bulk_update(rows, ['rag'])",
        "Theme.objects.get_or_create(slug='x')",
        "action.themes.set(themes)",
        "user.groups.add(group)",
        "form.save()",
        "super().save_model(request, obj, form, change)",
    ],
)
def test_the_guard_sees_each_kind_of_write(code):
    assert find_writes(code, "improvement/views/x.py"), code


@pytest.mark.parametrize(
    "code",
    ["seen.add(x)", "seen[key].add(x)", "counts.update(other)", "context.update({'a': 1})"],
)
def test_the_guard_ignores_sets_and_dicts(code):
    assert not find_writes(code, "improvement/views/x.py"), code


def test_the_guard_walks_the_whole_app():
    walked = {_relative(path) for path in checked_modules()}
    assert {"improvement/admin.py", "improvement/views/actions.py"} <= walked
    assert "improvement/importer/service.py" in walked
    assert not any(path.startswith("improvement/services/") for path in walked)


def _imports(path: Path) -> set[str]:
    """Absolute imports of a module and, transitively, of the sibling modules it imports."""
    seen: set[Path] = set()
    absolute: set[str] = set()
    pending = [path]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for node in ast.walk(ast.parse(current.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                absolute.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                absolute.add(node.module)
            elif isinstance(node, ast.ImportFrom):
                base = current.parent
                for _ in range(node.level - 1):
                    base = base.parent
                target = base.joinpath(*(node.module or "").split(".")) if node.module else base
                for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                    if candidate.is_file():
                        pending.append(candidate)
    return absolute


def test_the_report_parser_imports_nothing_from_django():
    imports = _imports(APP / "importer" / "parser.py")
    assert "re" in imports  # the walk reads the parser itself
    forbidden = sorted(
        name for name in imports if name.split(".")[0] in {"django", "improvement", "tracker"}
    )
    assert not forbidden, f"The report parser (or a module it imports) imports {forbidden}"
