"""The GitHub workflows: they run the README's commands, publish the built book, and lint clean.

``book.yml`` builds the book on real data and deploys it to GitHub Pages; ``test.yml`` runs
``bash .ci/run`` (the README's ``make test``). ``actionlint`` checks both when it is installed
(the test says so when it is not).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
HTML_DIR = "book/_build/html"  # where `make book` writes the book (README, Makefile)


def load(name: str) -> dict:
    path = WORKFLOWS / name
    assert path.exists(), f"{path} is missing"
    workflow = yaml.safe_load(path.read_text())
    assert isinstance(workflow, dict) and workflow.get("jobs"), f"{path}: no jobs"
    return workflow


def triggers(workflow: dict) -> dict:
    # YAML 1.1 (PyYAML) reads the key `on` as True
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on or {}


def steps(workflow: dict, job: str | None = None) -> list[dict]:
    jobs = [workflow["jobs"][job]] if job else list(workflow["jobs"].values())
    return [step for j in jobs for step in j.get("steps", [])]


def run_lines(workflow: dict, job: str | None = None) -> list[str]:
    """Every command line of the workflow's `run:` steps, in order."""
    return [line.strip() for step in steps(workflow, job) if "run" in step
            for line in step["run"].splitlines() if line.strip()]


def uses(workflow: dict, action: str) -> list[dict]:
    return [s for s in steps(workflow) if str(s.get("uses", "")).split("@")[0] == action]


def readme_commands() -> list[str]:
    """The commands of the README's "two commands" block (`make book`, `make test`)."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block, "README.md: no ```bash block with the two commands"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines()
            if line.split("#")[0].strip()]


def index_of(lines: list[str], pattern: str) -> int:
    hits = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert hits, f"no step runs {pattern!r}; the run lines are {lines}"
    return hits[0]


def python_version(workflow: dict) -> str:
    setup = uses(workflow, "actions/setup-python")
    assert setup, "no actions/setup-python step"
    return str(setup[0].get("with", {}).get("python-version"))


# ----------------------------------------------------------------------------- README
def test_readme_still_names_the_two_commands():
    assert readme_commands() == ["make book", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\s*(time\s+)?make test\s*$", ci, re.M), ".ci/run must run `make test`"


# ----------------------------------------------------------------------------- book.yml
def test_book_workflow_builds_on_real_data_and_deploys_to_pages():
    wf = load("book.yml")
    on = triggers(wf)
    assert "push" in on and on["push"]["branches"] == ["main"], "publish on a push to main"
    assert python_version(wf) == "3.11", "the README's Python"
    lines = run_lines(wf, "build")
    # the README's commands, in the order that works: make setup creates .venv, the real data
    # come next, then `make book` with MEDLAB_OFFLINE=error (no silent stand-ins published)
    setup = index_of(lines, r"(^|\s)make setup\b")
    fetch = index_of(lines, r"^\.venv/bin/python -m medlab\.data fetch all$")
    book = index_of(lines, r"^MEDLAB_OFFLINE=error make book$")
    assert setup < fetch < book, lines
    assert "make book" in readme_commands()
    assert any("fonts-noto-cjk" in line for line in lines), "CJK fonts, as .ci/run installs"
    assert any("chromium" in line for line in lines), "Chromium, as .ci/run installs"

    upload = uses(wf, "actions/upload-pages-artifact")
    assert upload and upload[0]["with"]["path"] == HTML_DIR
    job_of = {name: [s.get("uses", "") for s in job.get("steps", [])]
              for name, job in wf["jobs"].items()}
    deploy_job = next(n for n, u in job_of.items() if any("actions/deploy-pages" in x for x in u))
    deploy = wf["jobs"][deploy_job]
    needs = deploy.get("needs")
    assert needs == "build" or needs == ["build"], "deploy only what the build uploaded"
    permissions = {**wf.get("permissions", {}), **deploy.get("permissions", {})}
    assert permissions.get("pages") == "write" and permissions.get("id-token") == "write"
    assert deploy["environment"]["name"] == "github-pages"
    step_ids = {s.get("id") for s in deploy["steps"]}
    assert "deployment" in step_ids and "steps.deployment.outputs.page_url" in \
        deploy["environment"]["url"]


def test_the_fetch_command_of_the_workflow_fetches_every_registered_set(monkeypatch, capsys):
    """`python -m medlab.data fetch all` (as book.yml runs it) asks for every data set."""
    from medlab.data import __main__ as data_cli
    from medlab.data.registry import REGISTRY

    fetched = []
    monkeypatch.setattr(data_cli, "fetch", lambda name: fetched.append(name) or f"/cache/{name}")
    assert data_cli.main(["fetch", "all"]) == 0
    assert fetched == list(REGISTRY) and fetched, "no data set fetched"
    out = capsys.readouterr().out
    assert all(f"{name}: /cache/{name}" in out for name in fetched), out


# ----------------------------------------------------------------------------- test.yml
def test_test_workflow_runs_the_readme_test_command():
    wf = load("test.yml")
    on = triggers(wf)
    assert "pull_request" in on and "push" in on
    assert python_version(wf) == "3.11"
    lines = run_lines(wf)
    assert "bash .ci/run" in lines, f"test.yml must run `bash .ci/run` (make test): {lines}"
    assert "make test" in readme_commands()
    assert wf.get("permissions") == {"contents": "read"}, "tests need no write access"


# ----------------------------------------------------------------------------- actionlint
def actionlint() -> str | None:
    beside_python = Path(sys.executable).parent / "actionlint"
    return shutil.which("actionlint") or (str(beside_python) if beside_python.exists() else None)


def test_workflows_pass_actionlint():
    executable = actionlint()
    if executable is None:
        pytest.skip("actionlint is not installed (neither on PATH nor beside this Python), "
                    "so the workflows were checked by the tests above only")
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    assert len(files) >= 2
    proc = subprocess.run([executable, "-no-color", *files], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ci_runs_as_a_new_machine_and_runs_the_python312_job():
    ci = (ROOT / ".ci" / "run").read_text()
    # pip's downloads are shared, its built wheels are not: a fresh PIP_CACHE_DIR of links
    assert re.search(r"^export PIP_CACHE_DIR=\"\$fresh\"", ci, re.M)
    assert 'ln -s "$pipcache/$d" "$fresh/$d"' in ci and "for d in http http-v2" in ci
    assert re.search(r"^\s*(time\s+)?make test-py312\s*$", ci, re.M)
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"^test-py312:", make, re.M) and ".[book,test]" in make
    assert "medlab.bench --smoke" in make


def test_make_book_fails_when_a_chapter_failed():
    make = (ROOT / "Makefile").read_text()
    book = make[make.index("\nbook: setup"):].split("\n\n")[0]
    assert "$(JB_BUILD)\n\t$(BIN)/python -m medlab.buildcheck book/_build" in book
