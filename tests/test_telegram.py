"""The Telegram bot, end to end: the real `spek telegram` process against a fake Bot API server on loopback
(tests/fake_telegram.py) and the real stack, asserting what a Telegram user sees."""

import hashlib
import hmac
import io
import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import docx
import pytest

from spek.cli import child_commands
from spek.embedded import wait_for_exit
from spek.settings import Settings
from telegram_bot.app import webhook_secret
from tests.audio import reencode, speak
from tests.fake_llm import as_json, fake_openai, llm_settings
from tests.fake_telegram import FakeTelegram, SentMessage, fake_telegram
from tests.support import (
    GraphQLClient,
    Stack,
    free_port,
    register,
    running_stack,
    spek_process,
    sql,
    upload,
    wait_until_ready,
)

TOKEN = "123456789:AAE-spek_test_token_for_the_fake_api"
ANN = {"id": 700001, "is_bot": False, "first_name": "Ann", "language_code": "en"}
BORIS = {"id": 700002, "is_bot": False, "first_name": "Борис", "language_code": "ru"}
PERCENT = re.compile(r"(\d+)%")


NOTE = {
    "title": "Weather in London",
    "summary": "A short voice message about the weather in London.",
    "topics": [{"topic": "Weather", "points": ["The weather in London"]}],
    "decisions": [],
    "action_items": [],
    "tags": ["weather"],
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The bot's own stack: it writes a note after every transcript (the LLM a fake OpenAI-compatible server), so
    the bot's summary message is seen as a user sees it."""
    with fake_openai(lambda body: as_json(NOTE)) as llm:
        settings = {"SPEK_NOTES": "true", **llm_settings(llm)}
        with running_stack(tmp_path_factory.mktemp("telegram-data"), **settings) as running:
            yield running


@pytest.fixture(scope="module")
def client(stack: Stack) -> GraphQLClient:
    return GraphQLClient(stack.base_url)


@dataclass
class RunningBot:
    """`spek telegram` against the fake Bot API; a test may kill it and start it again, as `spek up` would."""

    fake: FakeTelegram
    env: dict[str, str]
    process: subprocess.Popen

    def restart(self) -> None:
        self.process.kill()
        wait_for_exit(self.process, 20)
        self.process = spek_process("telegram", self.env)


@pytest.fixture(scope="module")
def bot(stack: Stack) -> Iterator[RunningBot]:
    """The fake Bot API and the bot process talking to it (with the stack's database, Redis and worker)."""
    with fake_telegram(TOKEN) as fake:
        env = {
            **stack.env,
            "SPEK_TELEGRAM_TOKEN": TOKEN,
            "SPEK_TELEGRAM_API_URL": fake.base_url,
            "SPEK_PUBLIC_URL": "https://spek.example.test",  # WebApp buttons need HTTPS
            "SPEK_RATE_UPLOADS": "5/hour",  # per Telegram user, as for the API
        }
        running = RunningBot(fake, env, spek_process("telegram", env))
        try:
            fake.wait_for(lambda: fake.calls_of("getUpdates"), 60, "start polling")
            assert running.process.poll() is None
            yield running
        finally:
            running.process.terminate()
            wait_for_exit(running.process, 20)


@pytest.fixture(scope="module")
def telegram(bot: RunningBot) -> FakeTelegram:
    return bot.fake


@pytest.fixture(scope="module")
def webapp_api(stack, telegram: FakeTelegram) -> Iterator[GraphQLClient]:
    """An API process that knows the bot token (the session's does not), for WebApp sign-in, taking updates at
    /telegram/webhook (webhook mode) and answering them through the fake Bot API."""
    port = free_port()
    env = {
        **stack.env,
        "SPEK_PORT": str(port),
        "SPEK_TELEGRAM_TOKEN": TOKEN,
        "SPEK_TELEGRAM_API_URL": telegram.base_url,
        "SPEK_TELEGRAM_WEBHOOK_URL": "https://spek.example.test/telegram/webhook",
        "SPEK_API_WORKERS": "1",
    }
    process = spek_process("serve", env)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process)
        yield GraphQLClient(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        wait_for_exit(process, 20)


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("telegram-audio")
    wav = speak("Hello from Telegram. This voice message is about the weather in London.", folder / "voice.wav")
    return reencode(wav, folder / "voice.ogg", "ogg", "libopus", 48000).read_bytes()


def _reply_markup_data(message: SentMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [button.get("callback_data") or "" for row in rows for button in row]


def _button(message: SentMessage, prefix: str) -> str:
    return next(data for data in _reply_markup_data(message) if data.startswith(prefix))


def _exchange(fake: FakeTelegram, chat_id: int) -> str:
    """The chat as the user saw it: each bot message with its edits and buttons."""
    lines = []
    for message in fake.chat(chat_id):
        lines.append(f"#{message.message_id}: {message.document[0] if message.document else message.text!r}")
        lines += [f"    edited: {body!r}" for _, body in message.edits]
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        if rows:
            lines.append("    buttons: " + " | ".join(b["text"] for row in rows for b in row))
    return "\n".join(lines)


def _send_voice(fake: FakeTelegram, user: dict, file_id: str, content: bytes) -> None:
    fake.add_file(file_id, content, f"voice/{file_id}.oga")
    voice = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": 5, "mime_type": "audio/ogg"}
    fake.user_message(user, voice={**voice, "file_size": len(content)})


def _status_message(fake: FakeTelegram, chat_id: int, after: int = 0) -> SentMessage:
    return fake.wait_for(
        lambda: (
            next(
                (
                    m
                    for m in fake.chat(chat_id)
                    if m.message_id > after and any(d.startswith("c:") for d in _reply_markup_data(m))
                ),
                None,
            )
            or next((m for m in fake.chat(chat_id) if m.message_id > after and m.edits), None)
        ),
        60,
        "send a status message",
    )


def test_a_voice_message_becomes_a_transcript_with_live_progress_and_files(
    telegram: FakeTelegram, voice: bytes
) -> None:
    fake = telegram
    fake.fail("editMessageText", retry_after=2)  # the first progress edit is refused: Too Many Requests
    _send_voice(fake, ANN, "voice-1", voice)

    transcript = fake.wait_for(
        lambda: next((m for m in fake.chat(ANN["id"]) if m.text and re.match(r"\[\d\d:\d\d\] ", m.text)), None),
        150,
        "send the transcript",
    )
    assert "weather" in transcript.text.lower()
    status = next(m for m in fake.chat(ANN["id"]) if m.edits)
    assert status.message_id < transcript.message_id
    assert status.text.startswith("✅ Done: Voice message "), status.text  # the final state, whatever was throttled
    assert status.reply_markup is None  # no Cancel button once done

    # Progress edits arrive in order, at most one a second, and none within retry_after of the 429.
    edits = status.edits
    times = [at for at, _ in edits]
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:])), times
    percents = [int(m.group(1)) for _, body in edits if (m := PERCENT.search(body))]
    assert percents == sorted(percents)
    refused = next(c for c in fake.calls_of("editMessageText") if not c.ok)
    assert all(at >= refused.at + 1.9 for at in times), (refused.at, times)

    files = fake.wait_for(
        lambda: next((m for m in fake.chat(ANN["id"]) if any(d.startswith("x:") for d in _reply_markup_data(m))), None),
        30,
        "offer the files",
    )
    rows = files.reply_markup["inline_keyboard"]
    assert [b["text"] for b in rows[0] + rows[1]] == ["DOCX", "SRT", "VTT", "JSON", "TXT"]
    player = rows[2][0]["web_app"]["url"]
    recording_id = _button(files, "x:DOCX:").split(":", 2)[2]
    assert player == f"https://spek.example.test/?recording={recording_id}"

    # The note's summary, key phrases and each speaker's tone follow the files.
    summary = fake.wait_for(
        lambda: next((m for m in fake.chat(ANN["id"]) if m.text and m.text.startswith("📝 Summary")), None),
        60,
        "send the note's summary",
    )
    assert summary.message_id > files.message_id
    assert summary.text.startswith("📝 Summary: Weather in London\n\nA short voice message about the weather")
    assert "\n\nKey phrases: " in summary.text and re.search(
        r"\n\nTone: .+: (positive|neutral|negative) \([+-]\d", summary.text
    )

    print(_exchange(fake, ANN["id"]))  # what Ann saw, in order (pytest -rP shows it)

    # DOCX on a press of its button, as a document python-docx opens.
    before = len(fake.calls_of("sendDocument"))
    query = fake.press(ANN, files, f"x:DOCX:{recording_id}")
    sent = fake.wait_for(lambda: fake.calls_of("sendDocument")[before:], 30, "send the DOCX")[0]
    (name, content) = next(iter(sent.files.values()))
    assert name.endswith(".docx")
    assert "weather" in "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs).lower()
    assert any(c.params.get("callback_query_id") == query for c in fake.calls_of("answerCallbackQuery"))

    fake.press(ANN, files, f"x:SRT:{recording_id}")
    srt = fake.wait_for(lambda: fake.calls_of("sendDocument")[before + 1 :], 30, "send the SRT")[0]
    assert b"-->" in next(iter(srt.files.values()))[1]

    # /history lists it, with a button that offers the files again.
    fake.user_message(ANN, text="/history")
    listing = fake.wait_for(
        lambda: next((m for m in fake.chat(ANN["id"]) if f"h:{recording_id}" in _reply_markup_data(m)), None),
        30,
        "list the history",
    )
    fake.press(ANN, listing, f"h:{recording_id}")
    fake.wait_for(
        lambda: [m for m in fake.chat(ANN["id"]) if m.message_id > listing.message_id and m.reply_markup],
        30,
        "offer the files from the history",
    )

    # Another Telegram user cannot fetch Ann's files, even with the button's data.
    before = len(fake.calls_of("sendDocument"))
    query = fake.press(BORIS, files, f"x:TXT:{recording_id}")
    answer = fake.wait_for(
        lambda: next(
            (c for c in fake.calls_of("answerCallbackQuery") if c.params.get("callback_query_id") == query), None
        ),
        30,
        "answer Boris",
    )
    assert "не ваша" in answer.params["text"]
    time.sleep(0.5)
    assert len(fake.calls_of("sendDocument")) == before


def test_cancel_button_stops_the_job(telegram: FakeTelegram, voice: bytes) -> None:
    fake = telegram
    last = max((m.message_id for m in fake.chat(ANN["id"])), default=0)
    _send_voice(fake, ANN, "voice-2", voice)
    status = _status_message(fake, ANN["id"], last)
    fake.fail("editMessageText", retry_after=1, times=2)  # the final state still arrives, after waiting
    fake.press(ANN, status, _button(status, "c:"))
    fake.wait_for(lambda: status.text and "Cancelled" in status.text, 60, "show the job cancelled")


def test_start_help_and_cancel_commands(telegram: FakeTelegram, voice: bytes) -> None:
    fake = telegram
    kim = {"id": 700009, "is_bot": False, "first_name": "Kim", "language_code": "en"}
    fake.user_message(kim, text="/start")
    fake.user_message(BORIS, text="/help")
    fake.wait_for(lambda: any(m.text.startswith("Hi! I am Spek") for m in fake.chat(kim["id"])), 30, "greet Kim")
    fake.wait_for(lambda: any(m.text.startswith("Привет! Я Spek") for m in fake.chat(BORIS["id"])), 30, "help Boris")

    fake.user_message(kim, text="/cancel")
    fake.wait_for(lambda: any(m.text == "Nothing is running." for m in fake.chat(kim["id"])), 30, "say so")

    _send_voice(fake, kim, "voice-k", voice)
    status = _status_message(fake, kim["id"])
    fake.user_message(kim, text="/cancel")
    fake.wait_for(lambda: any(m.text == "Cancelled 1." for m in fake.chat(kim["id"])), 30, "cancel the job")
    fake.wait_for(lambda: status.text and "Cancelled" in status.text, 60, "show the job cancelled")
    assert not any(m.text and m.text.startswith("[00:") for m in fake.chat(kim["id"]))


def test_an_album_is_one_batch_with_a_status_message_per_file(telegram: FakeTelegram, voice: bytes, stack) -> None:
    fake = telegram
    ivan = {"id": 700010, "is_bot": False, "first_name": "Ivan", "language_code": "en"}
    for n in (1, 2):
        fake.add_file(f"album-{n}", voice, f"music/part-{n}.ogg")
        audio = {"file_id": f"album-{n}", "file_unique_id": f"ualbum-{n}", "duration": 5, "file_size": len(voice)}
        fake.user_message(ivan, media_group_id="album-1", audio={**audio, "file_name": f"part {n}.ogg"})
    fake.wait_for(
        lambda: any(m.text == "All 2 files are ready." for m in fake.chat(ivan["id"])), 180, "say all are ready"
    )
    done = [m.text for m in fake.chat(ivan["id"]) if m.text and m.text.startswith("✅ Done")]
    assert sorted(done) == ["✅ Done: part 1", "✅ Done: part 2"]
    batches = (
        "SELECT count(DISTINCT batch_id), count(*) FROM recordings WHERE batch_id IS NOT NULL AND user_id = "
        "(SELECT user_id FROM telegram_accounts WHERE telegram_id = :t)"
    )
    assert sql(stack.database_url, batches, t=ivan["id"]) == [(1, 2)]


def test_a_restarted_bot_carries_on_with_its_status_messages(bot: RunningBot, voice: bytes, stack) -> None:
    fake = bot.fake
    lena = {"id": 700011, "is_bot": False, "first_name": "Lena", "language_code": "en"}
    mia = {"id": 700012, "is_bot": False, "first_name": "Mia", "language_code": "en"}
    tracked = "SELECT message_id FROM telegram_status_messages WHERE job_id = :id"
    worker = stack.processes["worker"]
    worker.send_signal(signal.SIGSTOP)  # both jobs wait in the queue until the bot has been killed
    try:
        # Lena's status message is posted and remembered.
        _send_voice(fake, lena, "voice-l", voice)
        status = _status_message(fake, lena["id"])
        lena_job = _button(status, "c:")[2:]
        fake.wait_for(lambda: sql(stack.database_url, tracked, id=lena_job) == [(status.message_id,)], 30, "track it")
        # Mia's reaches Telegram, but the bot is killed before Telegram's answer reaches it.
        fake.hold("sendMessage")
        _send_voice(fake, mia, "voice-m", voice)
        lost = _status_message(fake, mia["id"])
        mia_job = _button(lost, "c:")[2:]
        assert sql(stack.database_url, tracked, id=mia_job) == [(None,)]
        bot.restart()  # kill -9: both status messages are left part-way
        fake.release("sendMessage")
    finally:
        worker.send_signal(signal.SIGCONT)

    # Lena's message is edited on to its end; Mia gets a status message again, which is.
    fake.wait_for(lambda: (status.text or "").startswith("✅ Done"), 180, "finish Lena's status message")
    again = _status_message(fake, mia["id"], after=lost.message_id)
    fake.wait_for(lambda: (again.text or "").startswith("✅ Done"), 180, "finish Mia's status message")
    assert lost.text.startswith("🎙") and not lost.edits  # the one the bot never knew it had posted
    for who, job_id in ((lena, lena_job), (mia, mia_job)):
        _assert_delivered_and_forgotten(fake, stack, who["id"], job_id)


def test_a_user_who_blocks_the_bot_is_let_go_and_the_job_still_finishes(bot: RunningBot, voice: bytes, stack) -> None:
    """Once Telegram refuses the chat (403), the bot stops writing to it and forgets its status message, so
    that no restart tries again; the transcript is still made."""
    fake = bot.fake
    olga = {"id": 700013, "is_bot": False, "first_name": "Olga", "language_code": "en"}
    tracked = "SELECT count(*) FROM telegram_status_messages WHERE job_id = :id"
    worker = stack.processes["worker"]
    worker.send_signal(signal.SIGSTOP)  # the job waits until she has blocked the bot
    try:
        _send_voice(fake, olga, "voice-o", voice)
        status = _status_message(fake, olga["id"])
        job_id = _button(status, "c:")[2:]
        fake.wait_for(lambda: sql(stack.database_url, tracked, id=job_id) == [(1,)], 30, "track it")
        fake.block(olga["id"])
    finally:
        worker.send_signal(signal.SIGCONT)

    fake.wait_for(lambda: sql(stack.database_url, tracked, id=job_id) == [(0,)], 120, "let the status message go")
    job = "SELECT status FROM jobs WHERE id = :id"
    fake.wait_for(lambda: sql(stack.database_url, job, id=job_id) == [("COMPLETED",)], 120, "see the job finish")
    time.sleep(2)  # the note job and any late send would come now
    assert _refused_then_silence(fake, olga["id"]) == 1  # one refusal, then nothing more sent there
    bot.restart()
    time.sleep(3)
    assert _refused_then_silence(fake, olga["id"]) == 1


def _refused_then_silence(fake: FakeTelegram, chat_id: int) -> int:
    """How many calls for the chat were made from its first refusal as blocked (403) on: 1 when none followed."""
    calls = [c for c in fake.calls if str(c.params.get("chat_id")) == str(chat_id)]
    first = next(i for i, c in enumerate(calls) if c.error_code == 403)
    return len(calls) - first


def _assert_delivered_and_forgotten(fake: FakeTelegram, stack, chat_id: int, job_id: str) -> None:
    """The transcript and the note reached the chat, and the bot no longer tracks the job's status message."""
    transcript = fake.wait_for(
        lambda: [m for m in fake.chat(chat_id) if m.text and m.text.startswith("[00:")], 60, "send the transcript"
    )
    assert len(transcript) == 1 and "weather" in transcript[0].text.lower()
    fake.wait_for(lambda: any((m.text or "").startswith("📝 Summary") for m in fake.chat(chat_id)), 60, "send the note")
    tracked = "SELECT count(*) FROM telegram_status_messages WHERE job_id = :id"
    fake.wait_for(lambda: sql(stack.database_url, tracked, id=job_id) == [(0,)], 10, "forget the status message")


def test_an_unsupported_file_is_refused_politely_in_the_users_language(telegram: FakeTelegram, stack) -> None:
    fake = telegram
    content = b"%PDF-1.4 this is not audio at all\n" * 20
    fake.add_file("doc-1", content, "documents/file.pdf")
    document = {"file_id": "doc-1", "file_unique_id": "udoc-1", "file_name": "notes.pdf", "file_size": len(content)}
    fake.user_message(BORIS, document=document)
    reply = fake.wait_for(
        lambda: next((m for m in fake.chat(BORIS["id"]) if m.text and "Не могу прочитать" in m.text), None),
        30,
        "refuse the file",
    )
    assert "Ничего не сохранено" in reply.text
    owned = (
        "SELECT count(*) FROM recordings WHERE user_id = (SELECT user_id FROM telegram_accounts WHERE telegram_id = :t)"
    )
    assert sql(stack.database_url, owned, t=BORIS["id"]) == [(0,)]
    assert not list((Path(stack.data_dir) / "tmp").glob("upload-*"))


def test_files_over_the_limits_are_refused_with_what_to_do(telegram: FakeTelegram) -> None:
    fake = telegram
    big = {"file_id": "big-1", "file_unique_id": "ubig-1", "file_name": "talk.mp3", "file_size": 30 * 1024 * 1024}
    fake.user_message(ANN, document=big)  # over SPEK_MAX_UPLOAD_MB (5 in the tests)
    fake.wait_for(lambda: any(m.text and "at most 5 MB" in m.text for m in fake.chat(ANN["id"])), 30, "refuse it")

    # The cloud Bot API refuses getFile past 20 MB: the reply says a self-hosted Bot API server lifts it.
    fake.too_big.add("big-2")
    fake.user_message(ANN, audio={"file_id": "big-2", "file_unique_id": "ubig-2", "duration": 3000})
    reply = fake.wait_for(
        lambda: next((m for m in fake.chat(ANN["id"]) if m.text and "telegram-bot-api" in m.text), None), 30, "explain"
    )
    assert "20 MB" in reply.text and "SPEK_TELEGRAM_API_URL" in reply.text


def test_too_many_uploads_get_a_polite_reply(telegram: FakeTelegram) -> None:
    fake = telegram
    frank = {"id": 700006, "is_bot": False, "first_name": "Frank", "language_code": "en"}
    content = b"plain text, not audio\n" * 40
    fake.add_file("doc-f", content, "documents/f.txt")
    for n in range(6):
        document = {"file_id": "doc-f", "file_unique_id": f"udoc-f{n}", "file_name": "f.txt", "file_size": len(content)}
        fake.user_message(frank, document=document)
    fake.wait_for(lambda: len([m for m in fake.chat(frank["id"]) if m.text]) == 6, 30, "answer all six")
    replies = [m.text for m in fake.chat(frank["id"])]
    assert sum("cannot read" in r for r in replies) == 5
    assert sum(re.search(r"try again in \d+ s", r) is not None for r in replies) == 1


def test_settings_are_kept_per_user(telegram: FakeTelegram, stack) -> None:
    fake = telegram
    fake.user_message(BORIS, text="/settings")
    menu = fake.wait_for(
        lambda: next((m for m in fake.chat(BORIS["id"]) if m.text and m.text.startswith("⚙️ Настройки")), None),
        30,
        "show the settings",
    )
    assert "Качество: BALANCED" in menu.text
    fake.press(BORIS, menu, "s:q")
    fake.wait_for(lambda: "Качество: BEST" in (menu.text or ""), 30, "change the quality")
    fake.press(BORIS, menu, "s:d")
    fake.wait_for(lambda: "Говорящие: выкл" in (menu.text or ""), 30, "turn diarization off")
    [(preferences,)] = sql(
        stack.database_url, "SELECT preferences FROM telegram_accounts WHERE telegram_id = :t", t=BORIS["id"]
    )
    prefs = preferences if isinstance(preferences, dict) else json.loads(preferences)
    assert prefs["quality"] == "BEST" and prefs["diarize"] is False


def test_link_attaches_the_telegram_identity_to_an_email_account(telegram: FakeTelegram, client, stack) -> None:
    fake = telegram
    carol = {"id": 700003, "is_bot": False, "first_name": "Carol", "language_code": "en-GB"}
    fake.user_message(carol, text="/link")
    reply = fake.wait_for(
        lambda: next((m for m in fake.chat(carol["id"]) if m.text and "link code" in m.text), None), 30, "give a code"
    )
    code = re.search(r"code: (\w+)", reply.text).group(1)
    account = register(client)
    link = "mutation($code: String!) { linkTelegram(code: $code) { id email } }"
    assert client.data(link, {"code": code}, account.access_token)["linkTelegram"]["id"] == account.id
    owner = "SELECT user_id::text FROM telegram_accounts WHERE telegram_id = :t"
    assert sql(stack.database_url, owner, t=carol["id"]) == [(account.id,)]
    assert client.error_code(link, {"code": code}, account.access_token) == "NOT_FOUND"  # used once


def _init_data(user: dict, auth_date: int, token: str = TOKEN) -> str:
    """initData as Telegram signs it: HMAC-SHA256 over the sorted fields, keyed by HMAC("WebAppData", token)."""
    fields = {"auth_date": str(auth_date), "query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": json.dumps(user)}
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return urlencode({**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()})


WEBAPP_LOGIN = "mutation($d: String!) { telegramWebAppLogin(initData: $d) { accessToken user { id } } }"


def test_webapp_init_data_signs_in_only_when_signed_and_fresh(webapp_api: GraphQLClient, stack) -> None:
    dora = {"id": 700004, "first_name": "Dora", "language_code": "en"}
    payload = webapp_api.data(WEBAPP_LOGIN, {"d": _init_data(dora, int(time.time()))})["telegramWebAppLogin"]
    me = webapp_api.data("{ me { id } }", token=payload["accessToken"])["me"]
    assert me["id"] == payload["user"]["id"]
    owner = "SELECT user_id::text FROM telegram_accounts WHERE telegram_id = :t"
    assert sql(stack.database_url, owner, t=dora["id"]) == [(me["id"],)]

    tampered = _init_data(dora, int(time.time())).replace("700004", "700001")  # someone else's id, same hash
    forged = _init_data(dora, int(time.time()), token="987654321:AAE-some-other-bots-token")
    stale = _init_data(dora, int(time.time()) - 3 * 24 * 3600)
    for init_data in (tampered, forged, stale, "user=%7B%7D&hash=00"):
        assert webapp_api.error_code(WEBAPP_LOGIN, {"d": init_data}) == "UNAUTHENTICATED"


def test_webhook_mode_takes_updates_with_the_secret_token_only(
    webapp_api: GraphQLClient, telegram: FakeTelegram
) -> None:
    erin = {"id": 700005, "is_bot": False, "first_name": "Erin", "language_code": "en"}
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": erin["id"], "type": "private"},
            "from": erin,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    header = "X-Telegram-Bot-Api-Secret-Token"
    assert webapp_api.http.post("/telegram/webhook", json=update).status_code == 401
    assert webapp_api.http.post("/telegram/webhook", json=update, headers={header: "guess"}).status_code == 401
    time.sleep(0.5)
    assert telegram.chat(erin["id"]) == []
    response = webapp_api.http.post("/telegram/webhook", json=update, headers={header: webhook_secret(TOKEN)})
    assert response.status_code == 200
    telegram.wait_for(
        lambda: any(m.text and m.text.startswith("Hi! I am Spek") for m in telegram.chat(erin["id"])), 30, "greet Erin"
    )


def test_spek_up_runs_the_bot_only_with_a_token() -> None:
    assert "telegram bot" not in child_commands(Settings())
    assert "telegram bot" not in child_commands(Settings(SPEK_TELEGRAM_TOKEN=" "))
    assert child_commands(Settings(SPEK_TELEGRAM_TOKEN=TOKEN))["telegram bot"] == ["telegram"]


def test_open_player_signs_in_inside_telegram_and_shows_the_recording(webapp_api: GraphQLClient, tmp_path) -> None:
    """The web app opened as a Telegram WebApp (the bot's "Open player"): Telegram's initData in the fragment signs
    the user in and the recording shows; a forged one leaves the visitor at the sign-in screen."""
    from playwright.sync_api import sync_playwright

    gina = {"id": 700007, "first_name": "Gina", "language_code": "en"}
    login = webapp_api.data(WEBAPP_LOGIN, {"d": _init_data(gina, int(time.time()))})["telegramWebAppLogin"]
    wav = speak("Testing the player.", tmp_path / "gina.wav")
    recording = upload(webapp_api, login["accessToken"], wav, {"title": "Gina in Telegram"})["data"]["uploadRecording"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page(base_url=webapp_api.base_url)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            signed = quote(_init_data(gina, int(time.time())), safe="")
            page.goto(f"/?recording={recording['id']}#tgWebAppData={signed}&tgWebAppVersion=7.0&tgWebAppPlatform=web")
            page.wait_for_function(f"location.hash === '#/recordings/{recording['id']}'", timeout=20_000)
            page.get_by_role("heading", name="Gina in Telegram").wait_for(timeout=20_000)
            assert errors == []

            forged = quote(_init_data(gina, int(time.time()), token="987654321:AAE-some-other-bots-token"), safe="")
            other = browser.new_page(base_url=webapp_api.base_url)
            other.goto(f"/?recording={recording['id']}#tgWebAppData={forged}")
            other.wait_for_function("location.hash === '#/sign-in'", timeout=20_000)
        finally:
            browser.close()
