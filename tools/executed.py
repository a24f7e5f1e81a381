"""One execution per notebook: nbval's runs feed the book build.

``make test`` executes every chapter with nbval, and ``make book`` executed every
chapter again to get its outputs: twice the minutes for the same cells. This module
keeps nbval's execution instead.

* As a pytest plugin (loaded by the repository's ``conftest.py``): with
  ``RLBOOK_EXECUTED=DIR`` set, every notebook whose cells all pass under nbval is
  written with its outputs to ``DIR/<its path>``, e.g. ``_build/executed/book/03_dqn.ipynb``.
  The kernel's messages are replayed through nbclient's own message handling, the code
  ``jupyter-book`` executes with, so the outputs, ``clear_output`` and the widgets'
  saved state (Output widgets included) come out as a build's own execution would
  write them.
* As a command, before ``jupyter-book build``::

      python tools/executed.py CACHE DIR...

  puts each executed notebook of the folders ``DIR`` into the build's execution cache
  ``CACHE`` (``execute.cache`` of ``_config.yml``), when its code cells are still those
  of its source. The build then finds them there, as if it had run them itself; a
  notebook edited since, or missing (it failed, or was not run), is executed by the
  build as before. So the build's own outputs are never older than the source.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = "RLBOOK_EXECUTED"


def code_cells(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


# --- the pytest plugin ---------------------------------------------------------------


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item.parent, "nb")


class _NoKernel:
    """Stands in for the kernel client that nbclient's Output widget sends its state to.

    The replay comes after the cell ran, so there is nothing to tell the kernel.
    """

    class session:  # noqa: N801
        @staticmethod
        def msg(*args, **kwargs):
            return {}

    class shell_channel:  # noqa: N801
        @staticmethod
        def send(msg):
            pass


def _recorder(notebook_file):
    """The nbclient client that replays this notebook's messages (one per file)."""
    client = getattr(notebook_file, "_rlbook_client", None)
    if client is None:
        from nbclient import NotebookClient

        client = NotebookClient(notebook_file.nb, record_timing=False)
        client.kc = _NoKernel()  # nbclient's Output widget mimic syncs state back: dropped
        notebook_file._rlbook_client = client
        notebook_file._rlbook_ok = True
    return client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if not os.environ.get(ENV) or not _is_nbval_cell(item):
        yield
        return
    notebook_file = item.parent
    client = _recorder(notebook_file)
    kernel = notebook_file.kernel
    seen, sent = [], []
    read, execute = notebook_file.get_kernel_message, kernel.execute_cell_input

    def recording_read(*args, **kwargs):
        msg = read(*args, **kwargs)
        seen.append(msg)
        return msg

    def recording_execute(*args, **kwargs):
        msg_id = execute(*args, **kwargs)
        sent.append(msg_id)
        return msg_id

    notebook_file.get_kernel_message = recording_read
    kernel.execute_cell_input = recording_execute
    try:
        outcome = yield
    finally:
        del notebook_file.get_kernel_message
        del kernel.execute_cell_input
    if outcome.excinfo is not None or not sent:
        return  # failed (pytest_runtest_makereport marks it) or skipped: no outputs
    from nbclient.exceptions import CellExecutionComplete

    cell = item.cell
    cell.outputs = []
    client.clear_before_next_output = False  # as nbclient starts each cell
    index = notebook_file.nb.cells.index(cell)
    for msg in seen:
        if msg["parent_header"].get("msg_id") != sent[0]:
            continue  # a message left over from an earlier cell
        try:
            client.process_message(msg, cell, index)
        except CellExecutionComplete:
            break


def pytest_runtest_makereport(item, call):
    if os.environ.get(ENV) and _is_nbval_cell(item) and call.excinfo is not None:
        if not call.excinfo.errisinstance(pytest.skip.Exception):
            _recorder(item.parent)
            item.parent._rlbook_ok = False


def pytest_runtest_teardown(item, nextitem):
    folder = os.environ.get(ENV)
    if not folder or not _is_nbval_cell(item):
        return
    if nextitem is not None and nextitem.parent is item.parent:
        return  # not the notebook's last cell yet
    notebook_file = item.parent
    path = Path(notebook_file.fspath).resolve()
    out = Path(folder) / path.relative_to(item.config.rootpath.resolve())
    out.unlink(missing_ok=True)
    if not getattr(notebook_file, "_rlbook_ok", False):
        return  # a cell failed or was not run: the build executes this notebook itself
    if os.environ.get("RLBOOK_PROGRESS") != "0":
        return  # its progress bars would be saved into the page (the Makefile sets it to 0)
    client = _recorder(notebook_file)
    client.set_widgets_metadata()
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook_file.nb, out)


# --- the command: into the build's execution cache ---------------------------------


def import_into_cache(
    cache_path: Path, sources: list[Path], executed: Path, root: Path = ROOT
) -> list[str]:
    """Cache the executed copy of every notebook in ``sources`` whose code still matches.

    ``executed`` holds the copies at their paths relative to ``root``. Returns one line
    per notebook, saying where its outputs come from.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_path))
    # The copies already in the cache, by content: Sphinx re-reads a page only when its source
    # is newer than the page, so a source whose outputs change here is touched.
    stamp = Path(cache_path) / "rlbook-imported.json"
    imported = json.loads(stamp.read_text()) if stamp.exists() else {}
    lines = []
    for source in sorted(p.resolve() for folder in sources for p in folder.glob("*.ipynb")):
        name = source.relative_to(root.resolve())
        copy = executed / name
        if not copy.exists():
            lines.append(f"  {name}: no passing nbval run, the build executes it")
            continue
        nb = nbformat.read(copy, as_version=4)
        if code_cells(nbformat.read(source, as_version=4)) != code_cells(nb):
            lines.append(f"  {name}: changed since its nbval run, the build executes it")
            continue
        digest = hashlib.sha256(copy.read_bytes()).hexdigest()
        if imported.get(str(name)) != digest:
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, str(source)), check_validity=False, overwrite=True
            )
            os.utime(source)
            imported[str(name)] = digest
        lines.append(f"  {name}: the outputs of its nbval run")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(imported, indent=1, sort_keys=True) + "\n")
    return lines


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cache", type=Path, help="the build's execution cache (execute.cache)")
    parser.add_argument("sources", type=Path, nargs="+", help="folders of source notebooks")
    parser.add_argument(
        "--executed",
        type=Path,
        default=Path(os.environ.get(ENV, ROOT / "_build" / "executed")),
        help=f"where the nbval runs wrote them (${ENV}, default _build/executed)",
    )
    args = parser.parse_args(argv)
    for folder in args.sources:
        if not folder.is_dir():
            parser.error(f"sources: {folder} is not a folder of notebooks")
    lines = import_into_cache(args.cache, args.sources, args.executed)
    print(f"Notebook outputs for {args.cache}:", *lines, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
