"""The import rules of docs/architecture.md, checked on the source with ``ast``.

Every module under ``keywords/`` (installed as ``wsresilience``), ``refserver/``
(``wsresilience.refserver``) and ``faultproxy/`` (``wsresilience.faultproxy``) is parsed; every
import in it (top level, in functions, under ``TYPE_CHECKING``) is resolved to the module it
names. A rule broken here means the code moved away from the page, or the page from the
code: fix one of them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from support import REPO

#: Folder → the name it is installed under (setup.py's package_dir).
INSTALLED = {"keywords": "wsresilience", "refserver": "wsresilience.refserver", "faultproxy": "wsresilience.faultproxy"}
FOLDERS = tuple(INSTALLED)

#: docs/architecture.md, "keywords/core/ sub-packages": what each may import inside core.
CORE_MAY_IMPORT: dict[str, set[str]] = {
    "runtime": set(),
    "stats": set(),
    "masking": set(),
    "profiles": set(),
    "client": {"runtime", "masking", "profiles"},
    "streams": {"runtime", "client", "masking", "profiles"},
    "conversations": {"runtime", "client", "masking"},
    "flapping": {"runtime", "client", "masking", "stats", "profiles"},
    "probes": {"runtime", "masking", "stats"},
    "faults": {"runtime", "masking"},
    "servers": {"runtime"},
    "auth": {"masking"},
    # "stats and the result types of the others": the packages whose results it shows (an
    # import check cannot tell a result type from the rest of a module).
    "evidence": {"stats", "client", "streams", "conversations", "flapping", "probes"},
}
#: "faults and client may import wsresilience.faultproxy" (the one WebSocket frame parser).
CORE_MAY_IMPORT_FAULTPROXY = {"faults", "client"}

#: docs/architecture.md, refserver/: the leaf modules, which import nothing of the server.
REFSERVER_LEAVES = {"auth", "conversation", "metrics", "stream_content", "stream_frames", "client", "defects",
                    "config", "store", "router", "keepalive"}


@dataclass(frozen=True)
class Module:
    name: str  # the installed name, e.g. wsresilience.core.client.connection
    path: Path
    imports: tuple[str, ...]  # the modules it imports, absolute

    @property
    def rel(self) -> str:
        return str(self.path.relative_to(REPO))


def installed_name(path: Path) -> tuple[str, bool]:
    """(installed module name, whether it is a package's __init__) of a file in a folder."""
    rel = path.relative_to(REPO).with_suffix("")
    parts = [*INSTALLED[rel.parts[0]].split("."), *rel.parts[1:]]
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports_of(tree: ast.AST, name: str, is_package: bool, known: set[str]) -> tuple[str, ...]:
    """Every module ``tree`` imports, relative imports resolved; ``from m import x`` counts
    ``m.x`` when that is a module."""
    package = name if is_package else name.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in known]
    return tuple(dict.fromkeys(found))


@cache
def modules() -> tuple[Module, ...]:
    paths = sorted(p for folder in FOLDERS for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)
    names = {p: installed_name(p) for p in paths}
    known = {name for name, _ in names.values()}
    return tuple(Module(name, p, imports_of(ast.parse(p.read_text(), str(p)), name, is_pkg, known))
                 for p, (name, is_pkg) in names.items())


def under(prefix: str) -> list[Module]:
    return [m for m in modules() if m.name == prefix or m.name.startswith(prefix + ".")]


def within(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def ours(target: str) -> bool:
    return within(target, "wsresilience")


def test_the_parser_sees_every_layer() -> None:
    names = {m.name for m in modules()}
    for expected in ("wsresilience.context", "wsresilience.core.runtime.loop", "wsresilience.components.base",
                     "wsresilience.refserver.app", "wsresilience.faultproxy.wsframes"):
        assert expected in names
    connection = next(m for m in modules() if m.name == "wsresilience.core.client.connection")
    assert "wsresilience.core.runtime.loop" in connection.imports


# -- names --------------------------------------------------------------------------------------------


PYTHON_ELSEWHERE = ("tests", "bench")
DOTTED_FOLDER_NAME = re.compile(rf"^({'|'.join(FOLDERS)})(\.[A-Za-z_]\w*)+$")


def python_files() -> list[Path]:
    roots = [REPO / d for d in (*FOLDERS, *PYTHON_ELSEWHERE)]
    return sorted([p for r in roots for p in r.rglob("*.py") if "__pycache__" not in p.parts] + [REPO / "setup.py"])


def test_nothing_imports_the_folder_names_as_modules() -> None:
    """Code imports the installed names: a module imported under two names exists twice."""
    found = []
    for path in python_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                names = []
            found += [f"{path.relative_to(REPO)}:{node.lineno}: {n}" for n in names if n.split(".")[0] in FOLDERS]
            # by name, too: python -m refserver, libdoc("keywords.Heartbeat"), importlib
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and DOTTED_FOLDER_NAME.match(node.value):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
            if isinstance(node, (ast.List, ast.Tuple)):
                values = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
                found += [f"{path.relative_to(REPO)}:{node.lineno}: -m {b}" for a, b in zip(values, values[1:])
                          if a == "-m" and isinstance(b, str) and b.split(".")[0] in FOLDERS]
    assert found == [], "\n".join(found)


def test_robot_files_import_the_installed_names() -> None:
    setting = re.compile(rf"^(Library|Variables)\s{{2,}}({'|'.join(FOLDERS)})(\.|\s|$)", re.MULTILINE)
    found = [f"{p.relative_to(REPO)}: {m.group(0).strip()}"
             for p in sorted([*(REPO / "suites").rglob("*.robot"), *(REPO / "resources").rglob("*.resource")])
             for m in setting.finditer(p.read_text())]
    assert found == [], found


# -- keywords/core ------------------------------------------------------------------------------------------


def core_package(name: str) -> str | None:
    """``client`` for wsresilience.core.client.x, ``stats`` for wsresilience.core.stats, None for core."""
    parts = name.split(".")
    return parts[2] if len(parts) > 2 else None


@pytest.mark.parametrize("package", sorted(CORE_MAY_IMPORT))
def test_each_core_package_imports_only_what_the_table_allows(package: str) -> None:
    allowed = CORE_MAY_IMPORT[package]
    found = []
    for module in under(f"wsresilience.core.{package}"):
        for target in filter(ours, module.imports):
            if within(target, "wsresilience.core"):
                other = core_package(target)
                if other != package and other not in allowed:
                    found.append(f"{module.rel}: {target}")
            elif within(target, "wsresilience.errors"):
                continue  # every layer may
            elif within(target, "wsresilience.faultproxy") and package in CORE_MAY_IMPORT_FAULTPROXY:
                continue
            else:  # components, context, a library, signoff, extend, refserver, wsresilience itself
                found.append(f"{module.rel}: {target}")
    assert found == [], f"core.{package} may import {sorted(allowed) or 'nothing'} of core:\n" + "\n".join(found)


def test_every_core_package_is_in_the_table() -> None:
    packages = {core_package(m.name) for m in under("wsresilience.core")} - {None}
    assert packages == set(CORE_MAY_IMPORT), "docs/architecture.md's table and keywords/core/ differ"


def test_the_core_package_itself_imports_nothing_of_ours() -> None:
    core = next(m for m in modules() if m.name == "wsresilience.core")
    assert [t for t in core.imports if ours(t)] == []


# -- the layers above core ----------------------------------------------------------------------------------

LIBRARIES = {m.name for m in modules() if m.name.count(".") == 1 and m.name.split(".")[1][0].isupper()}


def test_the_context_stands_on_core_alone() -> None:
    """Components stand on the context, never the other way round."""
    context = next(m for m in modules() if m.name == "wsresilience.context")
    found = [t for t in context.imports if within(t, "wsresilience.components") or t in LIBRARIES]
    assert found == [], found


def test_components_import_no_library() -> None:
    found = [f"{m.rel}: {t}" for m in under("wsresilience.components") for t in m.imports if t in LIBRARIES]
    assert found == [], found


# -- refserver ----------------------------------------------------------------------------------------------

SERVER = "wsresilience.refserver"


def refserver_module(name: str) -> Module:
    return next(m for m in modules() if m.name == f"{SERVER}.{name}")


@pytest.mark.parametrize("leaf", sorted(REFSERVER_LEAVES))
def test_refserver_leaf_modules_import_neither_app_host_nor_features(leaf: str) -> None:
    module = refserver_module(leaf)
    found = [t for t in module.imports
             if any(within(t, f"{SERVER}.{part}") for part in ("app", "host", "features", "__main__"))]
    assert found == [], f"{module.rel}: {found}"


def test_refserver_host_imports_neither_app_nor_features() -> None:
    host = refserver_module("host")
    found = [t for t in host.imports if within(t, f"{SERVER}.app") or within(t, f"{SERVER}.features")]
    assert found == [], found


FEATURES = sorted(m.name.rsplit(".", 1)[1] for m in under(f"{SERVER}.features") if m.name != f"{SERVER}.features")


@pytest.mark.parametrize("feature", FEATURES)
def test_a_feature_has_one_install_and_imports_neither_app_nor_another_feature(feature: str) -> None:
    module = refserver_module(f"features.{feature}")
    found = [t for t in module.imports if within(t, f"{SERVER}.app")
             or (within(t, f"{SERVER}.features") and t not in (f"{SERVER}.features", module.name))]
    assert found == [], f"{module.rel}: {found}"
    tree = ast.parse(module.path.read_text())
    installs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "install"]
    assert len(installs) == 1 and len(installs[0].args.args) == 1, f"{module.rel}: one install(server: ServerHost)"


def test_the_app_installs_every_feature_once() -> None:
    from wsresilience.refserver.app import FEATURES as INSTALLS

    installed = [install.__module__.rsplit(".", 1)[1] for install in INSTALLS]
    assert sorted(installed) == FEATURES and len(set(installed)) == len(installed), installed


# -- faultproxy ---------------------------------------------------------------------------------------------


def test_the_faultproxy_imports_nothing_from_the_library() -> None:
    found = [f"{m.rel}: {t}" for m in under("wsresilience.faultproxy") for t in m.imports
             if ours(t) and not within(t, "wsresilience.faultproxy")]
    assert found == [], found
