"""tools/executed.py: nbval's runs save each passing notebook with its outputs (widgets'
saved state included), and the book build's cache takes only those whose code is unchanged."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import executed  # noqa: E402

WIDGET_CELL = """\
import ipywidgets as widgets
from IPython.display import display
out = widgets.Output()
display(widgets.VBox([widgets.FloatSlider(value=0.25), out]))
with out:
    print("inside the widget")
    out.clear_output(wait=True)
    print("after the clear")
"""


def _notebook(path: Path, *sources: str) -> Path:
    nb = new_notebook(cells=[new_markdown_cell("# A page")] + [new_code_cell(s) for s in sources])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _nbval(folder: Path, out: Path | None, *paths: Path) -> subprocess.CompletedProcess:
    """nbval with the plugin over ``paths``; ``out=None`` leaves RLBOOK_EXECUTED unset."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), RLBOOK_PROGRESS="0")
    env.pop("RLBOOK_EXECUTED", None)
    if out is not None:
        env["RLBOOK_EXECUTED"] = str(out)
    command = ["-m", "pytest", "--nbval-lax", "-p", "tools.executed", "-p", "no:cacheprovider"]
    return subprocess.run(
        [sys.executable, *command, "-q", "--rootdir", str(folder), *map(str, paths)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("book")
    (folder / "pages").mkdir()
    good = _notebook(folder / "pages" / "good.ipynb", "print('hello')\n6 * 7", WIDGET_CELL)
    bad = _notebook(folder / "pages" / "bad.ipynb", "print('before')", "1 / 0", "print('after')")
    out = folder / "executed"
    result = _nbval(folder, out, good, bad)
    return folder, out, result


def test_a_passing_notebook_is_saved_with_its_outputs(run):
    folder, out, result = run
    assert "1 failed" in result.stdout, result.stdout + result.stderr
    nb = nbformat.read(out / "pages" / "good.ipynb", as_version=4)
    first, widget = [c for c in nb.cells if c.cell_type == "code"]
    assert [o.output_type for o in first.outputs] == ["stream", "execute_result"]
    assert first.outputs[0].text == "hello\n"
    assert first.outputs[1].data["text/plain"] == "42"
    # The widget cell: its view in the cell, the printed lines inside the Output widget.
    assert [o.output_type for o in widget.outputs] == ["display_data"]
    view = widget.outputs[0].data["application/vnd.jupyter.widget-view+json"]["model_id"]
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    assert state[view]["model_name"] == "VBoxModel"
    (output_model,) = [m for m in state.values() if m["model_name"] == "OutputModel"]
    assert [o["text"] for o in output_model["state"]["outputs"]] == ["after the clear\n"]
    (slider,) = [m for m in state.values() if m["model_name"] == "FloatSliderModel"]
    assert slider["state"]["value"] == 0.25


def test_a_failing_notebook_is_not_saved(run):
    folder, out, _ = run
    assert not (out / "pages" / "bad.ipynb").exists()


def test_the_cache_takes_only_unchanged_notebooks(run, tmp_path):
    folder, out, _ = run
    lines = executed.import_into_cache(tmp_path / "cache", [folder / "pages"], out, root=folder)
    assert lines == [
        "  pages/bad.ipynb: no passing nbval run, the build executes it",
        "  pages/good.ipynb: the outputs of its nbval run",
    ]
    from jupyter_cache import get_cache

    cache = get_cache(str(tmp_path / "cache"))
    source = nbformat.read(folder / "pages" / "good.ipynb", as_version=4)
    _, merged = cache.merge_match_into_notebook(source)
    assert merged.cells[1].outputs[0].text == "hello\n"
    # Imported again, unchanged: the source is not touched, so Sphinx does not re-read the page
    # (the first import touched it, so that a page built before shows the new outputs).
    page = folder / "pages" / "good.ipynb"
    os.utime(page, (1_000_000_000, 1_000_000_000))
    executed.import_into_cache(tmp_path / "cache", [folder / "pages"], out, root=folder)
    assert page.stat().st_mtime == 1_000_000_000
    # Edit the code: the copy no longer matches, and the build is told to execute it.
    source.cells[1].source = "print('hello again')"
    nbformat.write(source, folder / "pages" / "good.ipynb")
    lines = executed.import_into_cache(tmp_path / "cache2", [folder / "pages"], out, root=folder)
    assert "  pages/good.ipynb: changed since its nbval run, the build executes it" in lines
    with pytest.raises(KeyError):
        get_cache(str(tmp_path / "cache2")).match_cache_notebook(source)


def test_without_the_variable_nothing_is_written(tmp_path):
    page = _notebook(tmp_path / "page.ipynb", "print('hi')")
    result = _nbval(tmp_path, None, page)
    assert "1 passed" in result.stdout, result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.ipynb"]
