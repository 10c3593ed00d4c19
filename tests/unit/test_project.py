"""The project's own configuration keeps up with its functions: a new function under
``functions/`` is type-checked, linted as first party, importable in tests and in the
platform description, without anyone remembering to list it."""

from __future__ import annotations

import tomllib

from infra.platform import PLATFORM, ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _function_folders() -> dict[str, list[str]]:
    """Each ``functions/<name>`` folder that holds code, and the Python packages in it."""
    found = {
        folder.name: sorted(p.name for p in folder.iterdir() if (p / "__init__.py").is_file())
        for folder in sorted((ROOT / "functions").iterdir())
        if folder.is_dir()
    }
    return {name: packages for name, packages in found.items() if packages}


def test_every_function_folder_holds_exactly_one_package() -> None:
    for name, packages in _function_folders().items():
        assert len(packages) == 1, f"functions/{name} should hold one package, not {packages}"


def test_mypy_checks_every_function_package_strictly() -> None:
    mypy = PYPROJECT["tool"]["mypy"]
    assert mypy["strict"] is True
    assert "functions" in mypy["files"] and "layers/common/python/onboarding" in mypy["files"]
    for name in _function_folders():
        assert f"functions/{name}" in mypy["mypy_path"], f"mypy_path lacks functions/{name}"


def test_pytest_can_import_every_function_package() -> None:
    paths = PYPROJECT["tool"]["pytest"]["ini_options"]["pythonpath"]
    for name in _function_folders():
        assert f"functions/{name}" in paths, f"pytest's pythonpath lacks functions/{name}"


def test_ruff_sorts_every_function_package_as_first_party() -> None:
    first_party = set(PYPROJECT["tool"]["ruff"]["lint"]["isort"]["known-first-party"])
    for packages in _function_folders().values():
        assert set(packages) <= first_party, f"known-first-party lacks {packages}"


def test_the_platform_description_has_every_function_folder() -> None:
    described = {f.source.name for f in PLATFORM.functions}
    assert described == set(_function_folders()), "describe the function in infra/platform.py"


def test_the_readme_documents_every_setting() -> None:
    from onboarding.settings import variables

    readme = (ROOT / "README.md").read_text()
    missing = [name for name in variables() if not name.startswith("AWS_") and f"`{name}`" not in readme]
    assert not missing, f"the README's configuration table lacks {missing}"


def test_make_help_prints_plain_text_not_make_variables() -> None:
    import shutil
    import subprocess

    make = shutil.which("make")
    assert make, "GNU make runs every command of this project"
    shown = subprocess.run([make, "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "make dev" in shown and "$(" not in shown and "$$" not in shown, shown


def test_make_deploy_tenant_deploys_the_tenants_own_stack() -> None:
    from infra.tenant_stack import tenant_stack_name

    makefile = (ROOT / "Makefile").read_text()
    assert f"npx cdk deploy {tenant_stack_name('$(STAGE)', '$(TENANT)')} --exclusively" in makefile


def _committed_files() -> list[str]:
    """The files the repository holds (every file outside what is built or installed when there
    is no git checkout, as in an unpacked archive)."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        listed = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return [name for name in listed.decode().split("\0") if name]
    skipped = {
        ".git",
        ".venv",
        "node_modules",
        "build",
        "cdk.out",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
    }
    return [
        str(path.relative_to(ROOT))
        for path in sorted(ROOT.rglob("*"))
        if path.is_file() and not skipped & set(path.relative_to(ROOT).parts)
    ]


def test_the_repository_stands_alone() -> None:
    """Nothing committed (README, docs, code, configuration) refers to a sibling folder of the
    repository: it is built, tested and read on its own."""
    sibling = "../" + "shared"  # spelt in two, so that this file is checked too
    found = []
    for name in _committed_files():
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" not in data and sibling in data.decode("utf-8", errors="replace"):
            found.append(name)
    assert not found, f"these refer to {sibling}: {found}"
