"""The dependency floors admit no version that lacks an API the book calls.

`pip check` cannot see these: each pair below is a call in the code and the release that
added it. The floors were found by installing requirements.txt with
`uv pip install --resolution lowest-direct` (torch kept at the CPU build) and running the tests.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent

# (pattern on one line of book/*.ipynb or medlab/*.py, package, first release that has it)
API_FLOORS = [
    (r"remove_small_objects\(.*max_size=", "scikit-image", "0.26"),
    (r"boxplot\(.*orientation=", "matplotlib", "3.10"),
    (r"boxplot\(.*tick_labels=", "matplotlib", "3.9"),
    (r"Int8WeightOnlyConfig", "torchao", "0.18"),  # .qdata: the Int8Tensor default of 0.18
]
# torchao publishes no torch requirement. 0.17 and 0.18 gate their kernels on torch >= 2.11
# (`min_torch_version` in torchao/__init__.py); 0.18 also imports ScalingType from
# torch.nn.functional at import time, which torch 2.9 lacks.
TORCHAO_NEEDS_TORCH = {"0.17": "2.11", "0.18": "2.11"}


def _name(req: Requirement) -> str:
    return re.sub(r"[-_.]+", "-", req.name).lower()


def _floor(req: Requirement) -> Version | None:
    lows = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
    return max(lows) if lows else None


def _requirements() -> dict[str, Requirement]:
    lines = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith(("#", "-"))]
    return {_name(r): r for r in map(Requirement, lines)}


def _pyproject() -> list[Requirement]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(meta["dependencies"])
    for extra in meta.get("optional-dependencies", {}).values():
        lines += extra
    return [Requirement(ln) for ln in lines]


def _code() -> str:
    files = sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "medlab").glob("*.py"))
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


@pytest.mark.parametrize("pattern,package,first", API_FLOORS)
def test_floor_has_the_api_the_code_calls(pattern, package, first):
    if not re.search(pattern, _code()):
        pytest.skip(f"the code no longer calls {pattern}")
    reqs = [("requirements.txt", _requirements().get(package))]
    reqs += [("pyproject.toml", r) for r in _pyproject() if _name(r) == package]
    for where, req in reqs:
        assert req is not None, f"{package} is missing from {where}"
        assert _floor(req) is not None and _floor(req) >= Version(first), (
            f"{where}: {req} admits a {package} without {pattern} (new in {first})")


def test_pyproject_and_requirements_agree_on_each_range():
    reqs = _requirements()
    for req in _pyproject():
        if _name(req) in reqs:
            assert req.specifier == reqs[_name(req)].specifier, (
                f"pyproject.toml has {req}, requirements.txt has {reqs[_name(req)]}")


def test_torch_floor_fits_the_torchao_floor():
    reqs = _requirements()
    torchao, torch = _floor(reqs["torchao"]), _floor(reqs["torch"])
    need = max((Version(t) for a, t in TORCHAO_NEEDS_TORCH.items() if torchao >= Version(a)),
               default=None)
    if need is not None:
        assert torch >= need, f"torchao>={torchao} needs torch>={need}; the floor is {torch}"
