"""TensorFlow's start-up lines, filtered by the log level TensorFlow itself was asked for.

Importing TensorFlow 2.21 on a machine without a GPU writes these lines to the process's
standard error (file descriptor 2), which Jupyter kernels show as a pink block under the cell:

* ``WARNING: All log messages before absl::InitializeLog() is called are written to STDERR``
  (absl's note before its first message; printed once per TensorFlow shared library, so twice);
* ``I... port.cc] oneDNN custom operations are on ...`` and
  ``I... cudart_stub.cc] Could not find cuda drivers on your machine, GPU will not be used.``
  (INFO lines logged while the shared libraries load, before TensorFlow reads
  ``TF_CPP_MIN_LOG_LEVEL``, so that variable cannot hide them);
* ``E... cuda_platform.cc] failed call to cuInit: ... (303)`` at the first device lookup, an
  ERROR line although a machine without an NVIDIA driver has no GPU to initialise.

No environment variable stops them: ``TF_CPP_MIN_LOG_LEVEL`` is read too late for the first
three, ``CUDA_VISIBLE_DEVICES`` does not stop the cuInit attempt (and would hide real GPUs), and
``TF_ENABLE_ONEDNN_OPTS=0`` silences the oneDNN line only by turning oneDNN off. So
:func:`install` (called by ``rlbook/__init__.py``) runs the first ``import tensorflow`` and the
first device lookup with descriptor 2 sent to a temporary file, then writes back every line
except those that ``TF_CPP_MIN_LOG_LEVEL`` asks to hide (INFO at 1, WARNING too at 2, ERROR too
at 3), absl's note, and the cuInit failure when no NVIDIA driver is present. Everything else,
including real errors and Python warnings, still appears. ``TF_CPP_MIN_LOG_LEVEL=0`` shows all.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

# absl's log line: severity letter, MMDD, time, thread id, file:line], message.
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d+:\d+:\d+\.\d+\s+\d+\s+\S+:\d+\] (.*)")
_PYTHON_LINE = re.compile(r"^(Traceback|\S*(Warning|Error)\b|\s+File )")  # Python's own output
_ABSL_NOTE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)
# Present when an NVIDIA driver is loaded (Linux, Docker with the NVIDIA runtime, WSL2).
_DRIVER_PATHS = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg")


def min_log_level() -> int:
    """``TF_CPP_MIN_LOG_LEVEL`` as TensorFlow reads it (0 = show everything)."""
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def nvidia_driver_present() -> bool:
    return any(os.path.exists(p) for p in _DRIVER_PATHS)


def keep_line(line: str, level: int, driver: bool) -> bool:
    """Whether a start-up line of standard error should still be shown."""
    if level < 1:
        return True
    if line.rstrip("\r\n") == _ABSL_NOTE:
        return False
    match = _ABSL_LINE.match(line)
    if match is None:  # not a TensorFlow log line (a Python warning, a traceback): always shown
        return True
    if "failed call to cuInit" in match.group(2) and not driver:
        return False  # no driver, so no GPU to find: the CPU is used, as intended
    return "IWEF".index(match.group(1)) >= level


def filter_lines(lines: list[str], level: int, driver: bool) -> list[str]:
    """The lines :func:`keep_line` keeps; a dropped log line's continuation lines go with it."""
    kept, dropping = [], False
    for line in lines:
        if _ABSL_LINE.match(line) or line.rstrip("\r\n") == _ABSL_NOTE:
            dropping = not keep_line(line, level, driver)
        elif dropping and not _PYTHON_LINE.match(line):
            continue  # e.g. the second line of "This TensorFlow binary is optimized ..."
        else:
            dropping = False
        if not dropping:
            kept.append(line)
    return kept


@contextlib.contextmanager
def filtered_stderr():
    """Send file descriptor 2 to a temporary file, then write back the lines :func:`filter_lines`
    keeps."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):  # no usable descriptor 2 (pythonw, closed)
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines = tmp.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(filter_lines(lines, min_log_level(), nvidia_driver_present())).encode()
            while kept:
                kept = kept[os.write(2, kept) :]


class _Loader(importlib.abc.Loader):
    """Runs TensorFlow's own loader inside :func:`filtered_stderr`, then looks up the devices."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with filtered_stderr():
            try:
                self.loader.exec_module(module)
            finally:  # nothing after the import sees this wrapper
                module.__loader__ = module.__spec__.loader = self.loader
            with contextlib.suppress(
                Exception
            ):  # the cuInit attempt happens here, not mid-cell later
                module.config.list_physical_devices("GPU")

    def __getattr__(self, name):
        return getattr(self.loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps the loader of the first ``import tensorflow``; removes itself on first use."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Quiet the next ``import tensorflow`` (nothing to do once TensorFlow is imported)."""
    if "tensorflow" in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
