"""Step mode with the real bundled model: one token per step, back exactly, plain continuation, auto-play,
and a picked token that branches the reply and survives a restart."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop_app.core.services import Services
from desktop_app.ui.main_window import MainWindow

LOAD_MS = 60_000
STEP_MS = 60_000


def open_window(qtbot) -> tuple[MainWindow, Services]:
    services = Services.open()
    window = MainWindow(services, current=services.library.resolve("default"))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.show()
    settings = window.sampling.settings().replace(seed=3)
    window.sampling.set_settings(settings)
    window.controller.set_settings(settings)
    return window, services


def step(window: MainWindow, qtbot, *, key: bool = False) -> None:
    with qtbot.waitSignal(window.controller.finished, timeout=STEP_MS):
        if key:
            window.chat.view.setFocus()
            qtbot.keyClick(window.chat.view, Qt.Key_Right)
        else:
            window.chat.step_bar.next_button.click()


def reply_tokens(window: MainWindow, services: Services) -> list[int]:
    reply = services.chats.path(window.controller.chat_id)[-1]
    assert reply.role == "assistant"
    return [t.token_id for t in services.chats.reply_tokens(reply.id)]


def context_used(window: MainWindow) -> int:
    """The context tokens in use, as the status bar says ("context 13 / 4,096")."""
    return int(window.context_label.text().split()[1].replace(",", ""))


def test_each_step_adds_exactly_one_token_and_back_takes_it_away(qtbot):
    window, services = open_window(qtbot)
    try:
        window.chat.step_bar.plain.setChecked(True)  # text continuation, no chat template
        window.chat.input.setPlainText("The tallest mountain in Taiwan is")
        step(window, qtbot)
        assert window.chat.input.toPlainText() == ""  # the text became the first message
        first = reply_tokens(window, services)
        assert len(first) == 1
        used_first = context_used(window)
        step(window, qtbot, key=True)  # → does the same
        second = reply_tokens(window, services)
        assert len(second) == 2 and second[0] == first[0]
        step(window, qtbot)
        third = reply_tokens(window, services)
        assert len(third) == 3 and third[:2] == second
        shown = window.controller.messages[-1]
        saved = services.chats.path(window.controller.chat_id)[-1]
        assert len(shown.tokens) == 3 and shown.content == saved.content
        # a step is not a reply cut at the length limit: the reply says it goes on step by step
        assert saved.stop_reason == "step"
        assert context_used(window) == used_first + 2  # the status bar counts the whole reply so far
        qtbot.waitUntil(lambda: "▍" not in window.chat.view.toPlainText(), timeout=2000)  # drawn on a timer
        page = window.chat.view.toPlainText()
        assert "Next token (→) adds one more" in page and "length limit" not in page
        status = window.statusBar().currentMessage()
        assert status.startswith("One step:") and "3 tokens" in status
        assert window.controller.can_step()
        window.chat.view.setFocus()
        qtbot.keyClick(window.chat.view, Qt.Key_Left)  # ← takes the last token back
        assert reply_tokens(window, services) == second
        window.chat.step_bar.back_button.click()
        assert reply_tokens(window, services) == first
        # the chart shows the step just taken; the inspector reads plain text, no template
        qtbot.waitUntil(lambda: window.inspector._prompt is not None, timeout=10_000)
        qtbot.waitUntil(lambda: window.inspector._prompt.template.origin == "plain", timeout=10_000)
        assert "<|im_start|>" not in window.inspector.prompt_view.toPlainText()
        # stepping again from the same place repeats the same token: same seed, same cache
        step(window, qtbot)
        assert reply_tokens(window, services) == second
    finally:
        window.close()
        services.close()


def test_a_picked_token_branches_the_reply_and_survives_restart(qtbot):
    window, services = open_window(qtbot)
    try:
        window.chat.input.setPlainText("Name a colour.")
        step(window, qtbot)
        step(window, qtbot)
        original = services.chats.path(window.controller.chat_id)[-1]
        tokens = reply_tokens(window, services)
        window.chat.token_clicked.emit(1, 1)  # show the second token's step in the chart
        window.chart.flush()
        d = window.chart.step()
        other = next(int(t) for t in d.candidates if int(t) != tokens[1])
        with qtbot.waitSignal(window.controller.finished, timeout=STEP_MS):
            window.chart.token_clicked.emit(other)  # what clicking its bar does
        branch = services.chats.path(window.controller.chat_id)[-1]
        assert branch.id != original.id and branch.parent_id == original.parent_id
        assert reply_tokens(window, services) == [tokens[0], other]  # just the picked token: step mode
        picked = services.chats.reply_tokens(branch.id)[1]
        assert picked.picked and picked.inserted
        assert [(b.position, b.child_message_id) for b in services.chats.branches(original.id)] == [
            (1, branch.id)
        ]
        assert window.controller.messages[-1].sibling_count == 2
        chat_id = window.controller.chat_id
    finally:
        window.close()
        services.close()

    again, services = open_window(qtbot)
    try:
        again.controller.open_chat(chat_id)
        shown = again.controller.messages[-1]
        assert (shown.sibling_index, shown.sibling_count) == (1, 2)
        assert [t.token_id for t in shown.tokens] == [tokens[0], other]
        assert shown.tokens[1].forced  # shown as picked by hand
        again.controller.switch_sibling(len(again.controller.messages) - 1, -1)
        assert [t.token_id for t in again.controller.messages[-1].tokens] == tokens
    finally:
        again.close()
        services.close()


def test_auto_play_steps_until_paused(qtbot):
    window, services = open_window(qtbot)
    try:
        bar = window.chat.step_bar
        bar.speed.setValue(bar.speed.maximum())
        window.chat.input.setPlainText("Count from one to ten:")
        done = []
        window.controller.finished.connect(lambda _e: done.append(1))
        bar.play_button.setChecked(True)
        qtbot.waitUntil(lambda: len(done) >= 4, timeout=STEP_MS)
        bar.play_button.setChecked(False)
        qtbot.waitUntil(lambda: not window.controller.busy, timeout=STEP_MS)
        n = len(reply_tokens(window, services))
        qtbot.wait(600)  # paused: nothing more arrives
        assert len(reply_tokens(window, services)) == n >= 4
    finally:
        window.close()
        services.close()


def test_a_stepped_reply_rolls_what_the_same_reply_generated_at_once_rolls(qtbot):
    """With a fixed seed each step rolled the same u (every step restarted the random stream): now the
    roll of step k depends on the seed and k alone, so stepping and generating at once agree, and the
    die rolls anew at every step."""
    window, services = open_window(qtbot)
    try:
        controller = window.controller
        window.chat.step_bar.plain.setChecked(True)
        window.chat.input.setPlainText("The tallest mountain in Taiwan is")
        for _ in range(8):
            step(window, qtbot)
        stepped = reply_tokens(window, services)
        stepped_rolls = [t.u for t in controller.messages[-1].tokens]
        assert len(stepped) == 8 and len(set(stepped_rolls)) == 8

        controller.new_chat()
        with qtbot.waitSignal(controller.finished, timeout=STEP_MS):
            controller.send("The tallest mountain in Taiwan is", max_tokens=8)
        assert reply_tokens(window, services) == stepped
        assert [t.u for t in controller.messages[-1].tokens] == stepped_rolls
    finally:
        window.close()
        services.close()


def test_a_character_spelled_in_bytes_shows_its_bytes_and_then_the_character(qtbot, smollm2_engine):
    """SmolLM2 spells 臺 in bytes. A reply stopped after the first of them was empty (its bytes make no
    character yet); now it shows them, and once the character is complete its tokens say what they
    made: "<E8><87> + <BA> = 臺"."""
    from desktop_app.core.engine.tokens import bytes_label, split_chars

    ids = smollm2_engine.tokenize("臺", add_bos=False)
    pieces = [smollm2_engine.piece(t) for t in ids]
    (char,) = split_chars(pieces)
    window, services = open_window(qtbot)
    try:
        controller = window.controller
        window.chat.step_bar.plain.setChecked(True)
        window.chat.input.setPlainText("In Chinese, Taiwan is written")
        step(window, qtbot)
        mi = len(controller.messages) - 1
        for k, token in enumerate(ids):
            if k:
                step(window, qtbot)  # one more token, then the byte we want picked in its place
            with qtbot.waitSignal(controller.finished, timeout=STEP_MS):
                controller.pick_token(mi, k, token, max_tokens=1)
            reply = services.chats.path(controller.chat_id)[-1]
            if k < len(ids) - 1:  # half a character: its bytes, not an empty reply or "�"
                assert reply.content == bytes_label(b"".join(pieces[: k + 1]))
                shown = bytes_label(pieces[k])
                qtbot.waitUntil(lambda shown=shown: shown in window.chat.view.toPlainText(), timeout=2000)
        assert reply.content == "臺"
        qtbot.waitUntil(lambda: "臺" in window.chat.view.toPlainText(), timeout=2000)
        assert "\ufffd" not in window.chat.view.toPlainText()
        tip = window.chat.token_tooltip(mi, len(ids) - 1)
        assert char.label() in tip and char.label().endswith("= 臺")
    finally:
        window.close()
        services.close()


def test_a_bar_of_the_step_just_generated_branches_and_the_switcher_shows_at_once(qtbot):
    """A click on a bar of the step just generated did nothing (the token had to be clicked in the reply
    first), and the ‹ 1/2 › switcher of a regenerated reply appeared only after leaving the chat."""
    window, services = open_window(qtbot)
    try:
        controller = window.controller
        with qtbot.waitSignal(controller.finished, timeout=STEP_MS):
            controller.send("Name a colour.", max_tokens=6)
        first = reply_tokens(window, services)
        with qtbot.waitSignal(controller.finished, timeout=STEP_MS):
            window.chat.regenerate_requested.emit()
        qtbot.waitUntil(lambda: "2/2" in window.chat.view.toPlainText(), timeout=2000)

        window.chart.flush()
        d = window.chart.step()  # the last step of the reply, shown as it streamed
        assert d is not None
        other = next(int(t) for t in d.candidates if int(t) != d.chosen)
        with qtbot.waitSignal(controller.finished, timeout=STEP_MS):
            window.chart.token_clicked.emit(other)
        branched = reply_tokens(window, services)
        assert other in branched and branched != first
        qtbot.waitUntil(lambda: "3/3" in window.chat.view.toPlainText(), timeout=2000)
    finally:
        window.close()
        services.close()


def test_step_mode_stops_at_the_length_and_back_takes_the_pick_off_the_chart(qtbot):
    """Step mode went past the lesson's length, and after ← Back the chart still showed the token taken
    back as picked."""
    window, services = open_window(qtbot)
    try:
        controller = window.controller
        window.sampling.set_max_tokens(3)
        controller.max_tokens = 3
        window.chat.step_bar.plain.setChecked(True)
        window.chat.input.setPlainText("Once upon a time")
        for _ in range(3):
            step(window, qtbot)
        assert len(reply_tokens(window, services)) == 3 and not controller.can_step()
        window.step_next()  # a fourth: refused, and said why
        assert not controller.busy and len(reply_tokens(window, services)) == 3
        assert "maximum length (3 tokens)" in window.statusBar().currentMessage()

        window.chart.flush()
        third = window.chart.step()
        window.step_back()
        shown = window.chart.step()
        assert shown is not third and shown is controller.messages[-1].tokens[-1].distribution(
            window.loaded.n_vocab, window.loaded.eog_ids
        )
        assert window.chart._step.where == (2, 2)  # "step 2 of 2"
        assert controller.can_step()
    finally:
        window.close()
        services.close()


def test_the_status_bar_groups_a_step_s_bytes_into_their_character(qtbot):
    """Everything else shows a token that holds part of a character as its bytes and the character they
    make; the status bar said “家” added for the token <B6> that completed it, and nothing of the
    character for its first bytes. It says the token's bytes, grouped: <E5><AE> + <B6> = 家."""
    from desktop_app.core.engine.tokens import piece_label, split_chars

    window, services = open_window(qtbot)
    try:
        window.chat.step_bar.plain.setChecked(True)
        window.chat.input.setPlainText("台灣最高的山是")  # SmolLM2 writes Chinese mostly in bytes
        complete = unfinished = 0
        for n in range(1, 13):
            step(window, qtbot)
            status = window.statusBar().currentMessage()
            reply = services.chats.path(window.controller.chat_id)[-1]
            pieces = [t.piece for t in services.chats.reply_tokens(reply.id)]
            assert status.startswith("One step: ") and f"the reply has {n} tokens." in status
            assert "\ufffd" not in status
            groups = [g for g in split_chars(pieces) if g.first <= n - 1 <= g.last]
            if groups:  # the token's own bytes, then the character they are part of
                assert status.startswith(f"One step: “{piece_label(pieces[-1])}” added (")
                assert all(g.label() in status for g in groups)
                complete += sum(1 for g in groups if g.char and g.last == n - 1)
                unfinished += sum(1 for g in groups if not g.char)
            if complete and unfinished:
                break
        assert complete and unfinished  # "<E5><AE> + <B6> = 家" and "<E7> + <B2> …" were both said
    finally:
        window.close()
        services.close()
