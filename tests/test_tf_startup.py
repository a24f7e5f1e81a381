"""No TensorFlow start-up noise in a notebook, while real warnings and errors still show.

The kernel test runs chapter 3's import cell and a short DQN training in a real Jupyter kernel
(nbclient, this interpreter's ipykernel), with ``TF_CPP_MIN_LOG_LEVEL`` unset as in a student's
JupyterLab, and fails on any start-up line in any output. The other tests pin down the filter
of rlbook/_tf_startup.py: what it drops, and that it keeps everything else.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from rlbook import _tf_startup

ROOT = pathlib.Path(__file__).resolve().parents[1]

# What TensorFlow 2.21 prints on a CPU-only machine without the filter (see rlbook/_tf_startup.py).
NOTE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
ONEDNN = (
    "I0000 00:00:1796164871.996653    8875 port.cc:153] oneDNN custom operations are on. "
    "You may see slightly different numerical results.\n"
)
CUDA = (
    "I0000 00:00:1796164871.997092    8875 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.\n"
)
CUINIT = (
    "E0000 00:00:1796164877.654179    8875 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n"
)
REAL_ERROR = "E0000 00:00:1796164877.7    8875 op_kernel.cc:1] OUT_OF_RANGE: a real error\n"
REAL_WARNING = "W0000 00:00:1796164877.8    8875 loader.cc:2] a real warning\n"
NOISE = re.compile(
    r"absl::InitializeLog|oneDNN custom operations|Could not find cuda drivers|cuInit|"
    r"^[IWE]\d{4} \d+:\d+:\d+\.\d+",
    re.MULTILINE,
)


def test_keep_line_applies_the_log_level_and_drops_only_the_start_up_noise():
    for line in (NOTE, ONEDNN, CUDA, CUINIT):
        assert not _tf_startup.keep_line(line, level=2, driver=False), line
    assert _tf_startup.keep_line(
        CUINIT, level=2, driver=True
    )  # a GPU machine whose CUDA fails: shown
    assert _tf_startup.keep_line(REAL_ERROR, level=2, driver=False)
    assert not _tf_startup.keep_line(
        REAL_WARNING, level=2, driver=False
    )  # level 2 hides warnings...
    assert _tf_startup.keep_line(REAL_WARNING, level=1, driver=False)  # ...level 1 shows them
    assert not _tf_startup.keep_line(REAL_ERROR, level=3, driver=False)
    assert all(
        _tf_startup.keep_line(line, level=0, driver=False) for line in (NOTE, ONEDNN, CUINIT)
    )
    assert _tf_startup.keep_line("UserWarning: something\n", level=3, driver=False)


def test_a_dropped_log_line_takes_its_continuation_lines_along():
    guard = "I0000 00:00:17.9   1 cpu_feature_guard.cc:227] This TensorFlow binary is optimized\n"
    more = "To enable the following instructions: AVX2 FMA, rebuild TensorFlow.\n"
    lines = [guard, more, REAL_ERROR, "  more about the real error\n", "UserWarning: shown\n"]
    assert _tf_startup.filter_lines(lines, level=2, driver=False) == lines[2:]
    assert _tf_startup.filter_lines([CUDA, "Traceback (most recent call last):\n"], 2, False) == [
        "Traceback (most recent call last):\n"
    ]


FILTER_SCRIPT = r"""
import os, sys
from rlbook import _tf_startup
with _tf_startup.filtered_stderr():
    for line in sys.argv[1:]:
        os.write(2, line.encode())
"""


def test_filtered_stderr_writes_back_what_it_keeps():
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            FILTER_SCRIPT,
            NOTE,
            ONEDNN,
            CUDA,
            REAL_ERROR,
            CUINIT,
            "Traceback (most recent call last):\n",
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    expected = REAL_ERROR + ("" if not _tf_startup.nvidia_driver_present() else CUINIT)
    assert result.stderr == expected + "Traceback (most recent call last):\n"


def _chapter_cell(path: pathlib.Path, needle: str) -> str:
    cells = json.loads(path.read_text())["cells"]
    return next(
        "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code" and needle in "".join(c["source"])
    )


TRAIN = """
import warnings
env = make_env("CartPole-v1", seed=0)
agent = DQNAgent(env.observation_space, env.action_space,
                 DQNConfig(learning_starts=64, train_every=16, gradient_steps=2,
                           buffer_size=1000), seed=0)
history = train(agent, env, steps=200, progress=True)
print("trained", history.steps)
warnings.warn("a real warning from the notebook")
"""


def test_notebook_shows_no_tensorflow_start_up_noise():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    imports = _chapter_cell(ROOT / "book" / "03_dqn.ipynb", "from rlbook.agents.dqn import")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(imports), nbformat.v4.new_code_cell(TRAIN)]
    # As in a student's JupyterLab: no TF_CPP_MIN_LOG_LEVEL, no RLBOOK_PROGRESS (bars are on).
    # PYTEST_CURRENT_TEST would turn off ipykernel's capture of descriptor 2 (iostream.py), which
    # is what shows C++ messages under a cell in JupyterLab and Colab.
    hidden = ("TF_CPP_MIN_LOG_LEVEL", "RLBOOK_PROGRESS", "PYTEST_CURRENT_TEST")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["PYTHONPATH"] = str(ROOT)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "book")}}
    )
    client.execute(env=env)
    texts = []
    for cell in nb.cells:
        for out in cell.outputs:
            assert out["output_type"] != "error", out
            texts.append(
                out.get("text", "")
                if out["output_type"] == "stream"
                else json.dumps(out.get("data", {}))
            )
    shown = "".join(texts)
    assert "trained 200" in shown, shown
    assert "a real warning from the notebook" in shown, "real warnings must still show: " + shown
    noise = NOISE.findall(shown)
    assert not noise, f"TensorFlow start-up noise in the notebook's outputs: {noise}\n{shown}"


@pytest.mark.parametrize("notebook", sorted((ROOT / "book").glob("*.ipynb")), ids=lambda p: p.name)
def test_every_chapter_imports_rlbook_before_tensorflow(notebook):
    """The kernel test above runs chapter 3's import cell; every chapter must import the same way:
    rlbook (whose ``__init__`` quiets TensorFlow's start-up) before TensorFlow or Keras."""
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        imports = [
            line
            for line in "".join(cell["source"]).splitlines()
            if re.match(r"(import|from) (tensorflow|keras|rlbook)\b", line)
        ]
        if imports:
            assert re.match(r"(import|from) rlbook\b", imports[0]), (
                f"{notebook.name}: rlbook must be imported before TensorFlow or Keras, "
                f"got {imports[0]!r} first"
            )
            return
