"""TensorFlow's start-up lines, filtered by the log level TensorFlow itself was asked for.

What this module buys: a notebook's import cell (and a CLI run) shows nothing on standard error
when TensorFlow loads on a machine without a GPU. Without it, TensorFlow 2.21 writes these lines
(time stamps and thread ids cut) to the process's file descriptor 2, which Jupyter shows as
a pink block under the cell, even with ``TF_CPP_MIN_LOG_LEVEL=2`` set before TensorFlow loads::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
    E... cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit:
        UNKNOWN ERROR (303)

* absl's note comes once per TensorFlow shared library (so twice), before absl reads any setting;
* the ``cudart_stub.cc`` INFO line (and, on some CPUs, ``port.cc] oneDNN custom operations are on
  ...``) is logged while the shared libraries load, before TensorFlow reads
  ``TF_CPP_MIN_LOG_LEVEL``, so that variable cannot hide it;
* the ``cuInit`` ERROR line comes at the first device lookup (the first layer built), although a
  machine without an NVIDIA driver has no GPU to initialise.

No environment variable stops them. Tried on 2026-12 with TensorFlow 2.21.0, each set before the
interpreter started: ``TF_CPP_MIN_LOG_LEVEL=3``, ``GLOG_minloglevel=3``, ``ABSL_MIN_LOG_LEVEL=3``,
``TF_CPP_MAX_VLOG_LEVEL=-1``, ``TF_CPP_VMODULE=cudart_stub=-1``, ``GRPC_VERBOSITY=ERROR``,
``CUDA_VISIBLE_DEVICES=-1`` (which would also hide real GPUs) and ``TF_ENABLE_ONEDNN_OPTS=0``
(which silences the oneDNN line only by turning oneDNN off): the first four lines above remain,
and the cuInit line too below level 3. ``TF_CPP_MIN_LOG_LEVEL`` does hide what comes later, such
as ``cpu_feature_guard.cc] This TensorFlow binary is optimized ...``, so ``rlbook/__init__.py``
sets it as well.

So :func:`install` (called by ``rlbook/__init__.py``) runs the first ``import tensorflow`` and the
first device lookup with descriptor 2 sent to a temporary file, then writes back every line
except those that ``TF_CPP_MIN_LOG_LEVEL`` asks to hide (INFO at 1, WARNING too at 2, ERROR too
at 3), absl's note, and the cuInit failure when no NVIDIA driver is present. Everything else,
including real errors and Python warnings, still appears. ``TF_CPP_MIN_LOG_LEVEL=0`` shows all.
It works only when ``rlbook`` is imported before TensorFlow (every chapter does; a test checks).
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
