"""The status bar says where the loaded model runs: how llama.cpp loaded it here, or the server it is on."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from desktop_app.core.engine.messages import LoadedModel
from desktop_app.ui.status_line import StatusLine


def test_a_model_on_a_server_is_said_to_run_there(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    line = StatusLine(window)
    model = LoadedModel(
        model_id="server:http://10.0.0.5:8080/qwen.gguf",
        display_name="qwen.gguf @ http://10.0.0.5:8080",
        path=None,
        n_ctx=8192,
        n_vocab=151_936,
        eog_ids=frozenset({151645}),
        report=None,
        template_source="",
        template_origin="gguf",
        has_template=True,
        server="http://10.0.0.5:8080",
    )
    line.loaded(model)
    assert line.backend_label.text() == "on the server http://10.0.0.5:8080"
    assert line.context_label.text() == "context 0 / 8,192"
