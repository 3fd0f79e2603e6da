"""The database schema, as an ordered list of migrations.

Each entry moves the schema from version ``i`` to ``i + 1``; ``PRAGMA user_version`` records where a
database stands. Never edit a released migration: append a new one. A migration is split on ``;``, so
it holds no ``;`` inside a literal and no triggers.

Schema 2 in words:

**Chats are trees of messages.** ``messages.parent_id`` is the message a message follows (NULL for the
first message of a chat). Editing an earlier user message, or regenerating a reply, adds a *sibling*
(same parent) instead of overwriting, so nothing is lost; the siblings of a message are the "‹ 2/3 ›"
alternatives. The chat shown is one path root → leaf: by default it follows the most recent child (the
highest id: a child always gets a higher id than its parent and earlier siblings) at every level.
``parent_id`` has no ``ON DELETE`` action on purpose: SQLite runs cascades as nested triggers, and a
cascade down a 1,000-message chain fails ("too many levels of trigger recursion"). A chat's messages
go with the chat (one level of cascade, checked at the end of the statement), and a subtree is
deleted with one recursive-CTE statement.

**Tokens** of a generated reply are rows ``(message_id, position)``, ``position`` counted from the
reply's first generated token (0), not from the start of the prompt. ``piece`` is the token's bytes;
``p_raw`` is the chosen token's probability under the model's own distribution, ``p_final`` under the
sampler's final one (the die's), ``u`` the roll (NULL when greedy, forced or inserted); ``inserted`` is 1
when the token did not come from the sampler's choice: a token the user picked (``picked`` is 1 then,
schema 3), or text the session put in (e.g. "Wait" in place of an end token; those may have NULL
probabilities). ``candidates`` is the
step's top-N (NULL when not recorded), as little-endian bytes: ``int32 ids[n]``, then ``float32
p_raw[n]``, then ``float32 p_final[n]``; ``n = len(blob) // 12``, candidates in the chart's order
(``desktop_app.core.store.reply_tokens.Candidates`` encodes and decodes it).

**Branches.** When the user picks another token at position ``k`` of reply ``R``, the continuation is
a new reply ``R2``: a *sibling* of ``R`` (same parent), holding all its tokens from position 0 (the
shared prefix ``0 … k-1``, then the picked token at ``k``, then the rest), so it loads and renders like
any reply. One ``branches`` row ``(message_id=R, position=k, chosen_token_id, child_message_id=R2)``
says where it left ``R``. The GUI lists the alternatives taken at each position of a reply with
``SELECT … WHERE message_id = R`` and switches by showing the child's path; the sibling switcher shows
branched replies too. A branch from a branch points at the reply it really left (``R2``), so the
alternatives at each position are always those of the reply on screen.

**Presets** are named sampler settings (JSON of ``SamplerSettings.to_dict()``), names unique ignoring
case; the built-in ones live in code, not here. **model_settings** holds what the user chose for one
model; NULL columns mean "the app's default".
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the model library, and a cache of GGUF header metadata keyed by path, size and mtime.
    """
    CREATE TABLE models (
        id          TEXT PRIMARY KEY,
        path        TEXT NOT NULL,
        source      TEXT NOT NULL CHECK (source IN ('bundled', 'downloaded', 'imported', 'referenced')),
        repo_id     TEXT,
        filename    TEXT,
        display_name TEXT NOT NULL,
        added_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE UNIQUE INDEX models_path ON models(path);
    CREATE TABLE gguf_cache (
        path        TEXT PRIMARY KEY,
        size        INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        metadata    TEXT,
        error       TEXT
    );
    """,
    # 2: chats as message trees, the tokens of generated replies, branches, sampler presets and
    # per-model settings. See the module docstring for the tree, the branches and the candidates format.
    """
    CREATE TABLE chats (
        id            INTEGER PRIMARY KEY,
        title         TEXT NOT NULL DEFAULT '',
        model_id      TEXT,
        system_prompt TEXT NOT NULL DEFAULT '',
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        settings      TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX chats_updated ON chats(updated_at, id);
    CREATE TABLE messages (
        id              INTEGER PRIMARY KEY,
        chat_id         INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        parent_id       INTEGER REFERENCES messages(id),
        role            TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content         TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        template_source TEXT,
        stop_reason     TEXT,
        metadata        TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX messages_chat ON messages(chat_id, id);
    CREATE INDEX messages_parent ON messages(parent_id, id);
    CREATE TABLE tokens (
        message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        position    INTEGER NOT NULL CHECK (position >= 0),
        token_id    INTEGER NOT NULL,
        piece       BLOB NOT NULL,
        p_raw       REAL,
        p_final     REAL,
        u           REAL,
        inserted    INTEGER NOT NULL DEFAULT 0 CHECK (inserted IN (0, 1)),
        candidates  BLOB,
        PRIMARY KEY (message_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE branches (
        id               INTEGER PRIMARY KEY,
        message_id       INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        position         INTEGER NOT NULL CHECK (position >= 0),
        chosen_token_id  INTEGER NOT NULL,
        child_message_id INTEGER NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
        created_at       TEXT NOT NULL
    );
    CREATE INDEX branches_message ON branches(message_id, position);
    CREATE TABLE presets (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        settings    TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE model_settings (
        model_id         TEXT PRIMARY KEY,
        n_ctx            INTEGER,
        n_gpu_layers     TEXT,
        template_override TEXT,
        sampler_preset   TEXT,
        updated_at       TEXT NOT NULL
    );
    """,
    # 3: ``tokens.picked`` is 1 for a token the user picked by hand (then ``inserted`` is 1 too), so a
    # saved reply tells a picked token from text the session put in.
    """
    ALTER TABLE tokens ADD COLUMN picked INTEGER NOT NULL DEFAULT 0 CHECK (picked IN (0, 1))
    """,
    # 4: ``gguf_cache.checked`` is 1 when llama.cpp was asked whether it loads the file (a vocabulary-only
    # load in a child process, core/engine/probe.py). A usable row cached without that answer (the bundled
    # models', or one an older TokenDice wrote) is asked again where the library checks files, so a file
    # llama.cpp refuses (a chat template that does not compile, say) is marked unusable, not loaded.
    """
    ALTER TABLE gguf_cache ADD COLUMN checked INTEGER NOT NULL DEFAULT 0 CHECK (checked IN (0, 1))
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
