"""The robustness plan (seeds x threads x CPU kernels), the smoke run's switch, the build check."""

from __future__ import annotations

import json

import nbformat
import pytest

from medlab import bench, buildcheck, config


def test_plan_covers_every_seed_thread_count_and_kernel_with_confirmation_seeds_apart():
    settings = bench.plan()
    design = [s for s in settings if s["role"] == "design"]
    confirm = [s for s in settings if s["role"] == "confirm"]
    # the book's own setting comes first: seed 0, 2 threads, this machine's kernels
    assert settings[0] == {"role": "design", "seed": 0, "threads": 2, "kernel": "machine"}
    assert {s["seed"] for s in design} == set(bench.DESIGN_SEEDS)
    assert [s["seed"] for s in confirm] == list(bench.CONFIRM_SEEDS)
    assert not {s["seed"] for s in design} & {s["seed"] for s in confirm}
    # six confirmation seeds meet each (threads, kernel) pair exactly once
    assert sorted((s["threads"], s["kernel"]) for s in confirm) == sorted(
        (t, k) for t in (1, 2) for k in bench.KERNELS)
    assert {s["kernel"] for s in design} == set(bench.KERNELS)
    assert len(settings) == len({json.dumps(s, sort_keys=True) for s in settings})


def test_plan_refuses_bad_settings():
    with pytest.raises(ValueError, match="unknown kernel setting 'avx9'"):
        bench.plan(kernels=("machine", "avx9"))
    with pytest.raises(ValueError, match="both design and confirmation"):
        bench.plan(design=(0, 1), confirm=(1, 5))
    with pytest.raises(ValueError, match="thread counts >= 1"):
        bench.plan(threads=(0,))


def test_setting_env_sets_seed_threads_and_kernels():
    env = bench.setting_env({"role": "confirm", "seed": 7, "threads": 1, "kernel": "avx2"})
    assert env["MEDLAB_SEED"] == "7" and env["OMP_NUM_THREADS"] == "1"
    assert env["ONEDNN_MAX_CPU_ISA"] == "AVX2" and env["MKL_ENABLE_INSTRUCTIONS"] == "AVX2"
    env = bench.setting_env({"seed": 0, "threads": 2, "kernel": "aten-default"})
    assert env["ATEN_CPU_CAPABILITY"] == "default" and "ONEDNN_MAX_CPU_ISA" not in env
    assert "ATEN_CPU_CAPABILITY" not in bench.setting_env({"seed": 0, "threads": 2})


def test_robustness_table_separates_design_and_confirmation():
    runs = [{"role": "design", "seed": 0, "threads": 2, "kernel": "machine", "wall_s": 10,
             "errors": []},
            {"role": "confirm", "seed": 5, "threads": 1, "kernel": "aten-default", "wall_s": 12,
             "errors": [{"cell": 3, "ename": "AssertionError", "message": "T = 1.1",
                         "assert": True}]}]
    table = bench.robustness_table({"robustness": {
        "date": "2026-12-03", "machine": "2 cores", "wall_s": 22,
        "settings": [{k: r[k] for k in ("role", "seed", "threads", "kernel")} for r in runs],
        "chapters": {"11_x": {"runs": runs, "figures": {}}}}})
    assert "1 design settings (seed 0, 2 thr)" in table
    assert "1 confirmation settings (seed 5, 1 thr, aten-default kernels)" in table
    assert "| 11_x | 1 | 1 |" in table
    assert "confirm seed 5, 1 thr, aten-default kernels: assert cell 3" in table


def test_by_scale_takes_the_smoke_value_only_in_a_smoke_run(monkeypatch):
    monkeypatch.setenv("MEDLAB_SCALE", "gpu")
    monkeypatch.delenv("MEDLAB_SMOKE", raising=False)
    assert not config.smoke_run()
    assert config.by_scale(cpu=20, gpu=200, smoke=2) == 200
    monkeypatch.setenv("MEDLAB_SMOKE", "1")
    assert config.smoke_run()
    assert config.by_scale(cpu=20, gpu=200, smoke=2) == 2
    assert config.by_scale(cpu=64, gpu=256) == 256  # a batch size keeps its GPU value
    assert config.by_scale(cpu=20, gpu=200, smoke=None) is None  # None is a value too
    monkeypatch.setenv("MEDLAB_SCALE", "cpu")
    assert config.by_scale(cpu=20, gpu=200, smoke=2) == 2
    monkeypatch.setenv("MEDLAB_SMOKE", "sometimes")
    with pytest.raises(ValueError, match="MEDLAB_SMOKE must be 0 or 1"):
        config.smoke_run()


def _toc(tmp_path, chapters):
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n"
        + "".join(f"  - file: book/{c}\n" for c in chapters))
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# intro\n")
    for c in chapters:
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / "book" / f"{c}.ipynb")


def test_buildcheck_names_the_chapter_and_cell_that_failed(tmp_path):
    _toc(tmp_path, ["01_a", "02_b", "03_c"])
    executed = tmp_path / "_build" / "jupyter_execute" / "book"
    executed.mkdir(parents=True)
    good = nbformat.v4.new_notebook()
    good.cells = [nbformat.v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]})]
    good.cells[0].outputs = [nbformat.NotebookNode(
        {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "", "traceback": []})]
    bad = nbformat.v4.new_notebook()
    bad.cells = [nbformat.v4.new_code_cell("x = 1"),
                 nbformat.v4.new_code_cell("assert x > 1.2, 'T = 1.078'",
                                           metadata={"tags": ["remove-cell"]})]
    bad.cells[1].outputs = [nbformat.NotebookNode(
        {"output_type": "error", "ename": "AssertionError", "evalue": "T = 1.078",
         "traceback": []})]
    nbformat.write(good, executed / "01_a.ipynb")
    nbformat.write(bad, executed / "02_b.ipynb")
    problems = buildcheck.failures(tmp_path / "_build", root=tmp_path)
    assert problems == [
        "book/02_b.ipynb, assert cell 1: AssertionError: T = 1.078",
        f"book/03_c.ipynb: no executed notebook in {tmp_path / '_build' / 'jupyter_execute'} "
        "(the chapter did not execute)"]
    with pytest.raises(FileNotFoundError, match="no such build folder"):
        buildcheck.failures(tmp_path / "nowhere", root=tmp_path)


def test_merge_robustness_joins_chapters_run_in_parallel():
    settings = bench.plan(design=(0,), confirm=(5,), threads=(1,), kernels=("machine",))

    def record(name, wall):
        runs = [{**s, "wall_s": wall, "errors": [], "figures": {}} for s in settings]
        return {"robustness": {"date": "2026-12-03", "machine": "m", "settings": settings,
                               "chapters": {name: {"runs": runs, "figures": {}}}}}

    merged = bench.merge_robustness({"chapters": {}}, [record("01_concepts", 10),
                                                       record("02_medical_image_files", 5)])
    rob = merged["robustness"]
    assert list(rob["chapters"]) == ["01_concepts", "02_medical_image_files"]
    assert rob["wall_s"] == 2 * 10 + 2 * 5 and rob["settings"] == settings
    other = record("03_preprocessing", 1)
    other["robustness"]["settings"] = settings[:1]
    with pytest.raises(ValueError, match="record 2 ran other settings"):
        bench.merge_robustness({"chapters": {}}, [record("01_concepts", 1), other])
    with pytest.raises(ValueError, match="no robustness run"):
        bench.merge_robustness({"chapters": {}}, [{"chapters": {}}])
