"""What the bot says, in English and Russian (chosen from the Telegram user's language_code)."""

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "start": (
            "Hi! I am Spek. Send me a voice message, an audio or video file, or a video note, and I will send back "
            "the transcript with speakers and times, a summary, and files (DOCX, SRT, VTT, JSON, TXT).\n\n"
            "/settings: language, quality, speakers\n/history: your recent recordings\n/cancel: stop what is "
            "running\n/link: see these recordings in the Spek web app with your email account\n/help: this text"
        ),
        "queued": "Queued",
        "stage": "{stage}",
        "eta": "about {eta} left",
        "done": "✅ Done: {title}",
        "failed": "❌ Failed: {error}",
        "cancelled": "⏹ Cancelled.",
        "cancel": "Cancel",
        "cancelling": "Cancelling…",
        "nothing_to_cancel": "Nothing is running.",
        "cancelled_n": "Cancelled {count}.",
        "downloading": "⬇️ Receiving the file…",
        "unsupported": (
            "I cannot read that file as audio. Send a voice message, or audio or video as m4a/aac, mp3, wav, "
            "ogg/opus, webm, flac or mp4/mov with sound. Nothing was kept."
        ),
        "too_big": "That file is too big: at most {limit} MB. Nothing was kept.",
        "too_big_cloud": (
            "That file is over 20 MB, the most a bot can download through Telegram's cloud Bot API. The server's "
            "operator can run a self-hosted telegram-bot-api server (SPEK_TELEGRAM_API_URL), which lifts this to 2 GB; "
            "until then send a shorter or compressed file. Nothing was kept."
        ),
        "rate_limited": "You are sending faster than I can take. Please try again in {seconds} s.",
        "error": "Something went wrong on my side; please try again later.",
        "not_media": "Send me a voice message, an audio or video file, and I will transcribe it. /help",
        "transcript_empty": "(no speech was found)",
        "transcript_file": "The transcript is long, so here it is as a file.",
        "summary": "📝 Summary",
        "key_phrases": "Key phrases",
        "sentiment": "Tone",
        "files": "Files:",
        "open_player": "Open player",
        "settings": (
            "⚙️ Settings\nLanguage: {language}\nQuality: {quality}\nSpeakers: {diarize}\nSpeaker count: {speakers}"
        ),
        "auto": "auto",
        "on": "on",
        "off": "off",
        "language_button": "Language: {value}",
        "quality_button": "Quality: {value}",
        "diarize_button": "Speakers: {value}",
        "speakers_button": "Speaker count: {value}",
        "saved": "Saved.",
        "history_empty": "No recordings yet. Send me a voice message.",
        "history": "Your recent recordings (tap one for its files):",
        "history_item": "{title} ({status})",
        "not_found": "That recording is gone, or not yours.",
        "not_ready": "That recording has no transcript yet.",
        "link": (
            "Your link code: {code}\n\nSign in to the Spek web app with your email account and enter it there "
            '(GraphQL: linkTelegram(code: "{code}")) within {minutes} minutes. From then on what you send here '
            "goes to that account."
        ),
        "all_done": "All {count} files are ready.",
        "voice_title": "Voice message {when}",
        "video_note_title": "Video message {when}",
    },
    "ru": {
        "start": (
            "Привет! Я Spek. Пришлите голосовое сообщение, аудио- или видеофайл или кружок, и я верну расшифровку "
            "с говорящими и временем, краткое содержание и файлы (DOCX, SRT, VTT, JSON, TXT).\n\n"
            "/settings: язык, качество, говорящие\n/history: последние записи\n/cancel: остановить обработку\n"
            "/link: видеть эти записи в веб-приложении Spek под своей почтой\n/help: эта справка"
        ),
        "queued": "В очереди",
        "stage": "{stage}",
        "eta": "осталось около {eta}",
        "done": "✅ Готово: {title}",
        "failed": "❌ Не получилось: {error}",
        "cancelled": "⏹ Отменено.",
        "cancel": "Отменить",
        "cancelling": "Отменяю…",
        "nothing_to_cancel": "Сейчас ничего не обрабатывается.",
        "cancelled_n": "Отменено: {count}.",
        "downloading": "⬇️ Получаю файл…",
        "unsupported": (
            "Не могу прочитать этот файл как аудио. Пришлите голосовое сообщение или аудио/видео в форматах "
            "m4a/aac, mp3, wav, ogg/opus, webm, flac или mp4/mov со звуком. Ничего не сохранено."
        ),
        "too_big": "Файл слишком большой: не больше {limit} МБ. Ничего не сохранено.",
        "too_big_cloud": (
            "Файл больше 20 МБ: это предел скачивания для ботов через облачный Bot API Telegram. Администратор "
            "сервера может запустить собственный telegram-bot-api (SPEK_TELEGRAM_API_URL), тогда предел 2 ГБ; "
            "пока пришлите файл покороче или сожмите его. Ничего не сохранено."
        ),
        "rate_limited": "Слишком много запросов подряд. Попробуйте снова через {seconds} с.",
        "error": "Что-то пошло не так на нашей стороне; попробуйте позже.",
        "not_media": "Пришлите голосовое сообщение, аудио- или видеофайл, и я его расшифрую. /help",
        "transcript_empty": "(речь не найдена)",
        "transcript_file": "Расшифровка длинная, поэтому отправляю её файлом.",
        "summary": "📝 Кратко",
        "key_phrases": "Ключевые фразы",
        "sentiment": "Тон",
        "files": "Файлы:",
        "open_player": "Открыть плеер",
        "settings": (
            "⚙️ Настройки\nЯзык: {language}\nКачество: {quality}\nГоворящие: {diarize}\nЧисло говорящих: {speakers}"
        ),
        "auto": "авто",
        "on": "вкл",
        "off": "выкл",
        "language_button": "Язык: {value}",
        "quality_button": "Качество: {value}",
        "diarize_button": "Говорящие: {value}",
        "speakers_button": "Число говорящих: {value}",
        "saved": "Сохранено.",
        "history_empty": "Записей пока нет. Пришлите голосовое сообщение.",
        "history": "Последние записи (нажмите, чтобы получить файлы):",
        "history_item": "{title} ({status})",
        "not_found": "Этой записи нет, или она не ваша.",
        "not_ready": "У этой записи ещё нет расшифровки.",
        "link": (
            "Код привязки: {code}\n\nВойдите в веб-приложение Spek со своей почтой и введите его там "
            '(GraphQL: linkTelegram(code: "{code}")) в течение {minutes} минут. После этого всё, что вы '
            "присылаете сюда, попадает в тот аккаунт."
        ),
        "all_done": "Все файлы ({count}) готовы.",
        "voice_title": "Голосовое сообщение {when}",
        "video_note_title": "Видеосообщение {when}",
    },
}

STAGES: dict[str, dict[str, str]] = {
    "en": {
        "queued": "Queued",
        "decoding": "Decoding",
        "normalizing": "Normalizing",
        "vad": "Finding speech",
        "transcribing": "Transcribing",
        "diarizing": "Finding speakers",
        "aligning": "Aligning",
        "saving": "Saving",
        "indexing": "Indexing",
        "summarizing": "Writing the summary",
        "analyzing": "Analyzing",
    },
    "ru": {
        "queued": "В очереди",
        "decoding": "Декодирую",
        "normalizing": "Выравниваю громкость",
        "vad": "Ищу речь",
        "transcribing": "Расшифровываю",
        "diarizing": "Различаю говорящих",
        "aligning": "Сопоставляю",
        "saving": "Сохраняю",
        "indexing": "Индексирую",
        "summarizing": "Пишу краткое содержание",
        "analyzing": "Анализирую",
    },
}


def language_of(language_code: str | None) -> str:
    """The interface language for a Telegram user: Russian for ru (and be/uk, who mostly read it), else English."""
    code = (language_code or "").lower().split("-")[0]
    return "ru" if code in {"ru", "be", "uk", "kk"} else "en"


def text(lang: str, key: str, **values: Any) -> str:
    template = TEXTS.get(lang, TEXTS["en"]).get(key) or TEXTS["en"][key]
    return template.format(**values) if values else template


def stage_name(lang: str, stage: str | None) -> str:
    if not stage:
        return ""
    return STAGES.get(lang, STAGES["en"]).get(stage, stage.replace("_", " ").capitalize())
