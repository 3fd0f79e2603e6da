"""The window starts without the libraries it needs only later: llama.cpp's bindings (imported by the
thread that loads a model), huggingface_hub's API and HTTP client (the first hub call), the gguf package
(reading a header the library has not cached), jinja2 (the first chat template) and importlib.metadata
(the bundled model is found without it). Each costs 0.06 to 0.35 s of the start."""

import subprocess
import sys

DEFERRED = (
    "llama_cpp",
    "huggingface_hub.hf_api",
    "huggingface_hub.errors",
    "httpx2",
    "gguf",
    "jinja2",
    "importlib.metadata",
)

PROGRAM = """
import sys
from PySide6.QtWidgets import QApplication
from desktop_app.core.services import Services
from desktop_app.ui.main_window import MainWindow
print(" ".join(m for m in {deferred!r} if m in sys.modules))
"""


def test_importing_the_window_leaves_the_heavy_libraries_for_later():
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(deferred=DEFERRED)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.split() == []


FIRST_START = """
import sys
from desktop_app.core.services import Services
services = Services.open()  # a new home: the bundled model is registered and its header read
entry = services.library.resolve("default")
print(entry.status, entry.metadata.architecture, "llama_cpp" in sys.modules)
services.close()
"""


def test_a_first_start_registers_the_bundled_model_without_llama_cpp(tokendice_home):
    out = subprocess.run(
        [sys.executable, "-c", FIRST_START],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.split() == ["ok", "llama", "False"]
