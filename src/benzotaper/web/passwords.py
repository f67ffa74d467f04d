"""The password policy: long enough, not one that attackers try first, not the person's address.

Guessability is judged by zxcvbn (the Python port of Dropbox's estimator, MIT licence), whose
dictionaries include the 30,000 most common passwords of leaked password collections, with
their usual variations (capitals, digits added, l33t, repeats, keyboard runs, dates). A
password is refused below ``MIN_SCORE`` (zxcvbn's "safely unguessable", 10^8 guesses or more),
and refused outright when it contains the person's own email address or the part before the
@. Long passphrases of ordinary words pass. Every value below is project policy.
"""

from __future__ import annotations

import threading
from typing import Any

#: Policy: password length bounds (long passphrases welcome; the upper bound stops hashing abuse).
PASSWORD_MIN = 10
PASSWORD_MAX = 256
#: Policy: the lowest zxcvbn score accepted (3: at least 10^8 guesses, "safely unguessable").
MIN_SCORE = 3
#: Policy: zxcvbn judges the first 40 characters. Its time grows fast with the length (random
#: characters on the loaded 2-core test machine: 32 → 60 ms, 40 → 250 ms, 72 → 0.8-1.5 s; it
#: refuses more than 72), and a check runs one at a time per process. Judging a beginning is
#: never kinder than judging the whole (more characters never make a password easier to
#: guess), and 40 characters that are not guessable are far beyond any guessing.
JUDGED_CHARS = 40
#: Policy: the part before the @ counts as "the address" when it has at least this many
#: characters (shorter ones, like "jo", are judged by zxcvbn as the person's own words).
LOCAL_PART_MIN = 4

HINT = "At least 10 characters. A few ordinary words together work well."
TOO_SHORT = f"Choose a password of at least {PASSWORD_MIN} characters."
TOO_LONG = f"Choose a password of at most {PASSWORD_MAX} characters."
HAS_EMAIL = "Choose a password that does not contain your email address (or the part before the @)."
COMMON = (
    "This is one of the most common passwords (it is in lists of leaked passwords), so it is "
    "easy to guess. A few ordinary words together work well."
)
SIMILAR = (
    "This is a common password with small changes (common passwords come from lists of leaked "
    "passwords), so it is easy to guess. A few ordinary words together work well."
)
GUESSABLE = (
    "This password would be easy to guess. Add another word or two; uncommon words are better."
)

#: zxcvbn keeps the person's words in a module-level dictionary during a check: one at a time.
_lock = threading.Lock()


def password_problem(password: str, email: str = "", display_name: str = "") -> str | None:
    """Why ``password`` cannot be used by the owner of ``email`` (None: it can)."""
    if len(password) < PASSWORD_MIN:
        return TOO_SHORT
    if len(password) > PASSWORD_MAX:
        return TOO_LONG
    if _contains_address(password, email):
        return HAS_EMAIL
    result = _judge(password[:JUDGED_CHARS], [email, _local_part(email), display_name])
    if result["score"] >= MIN_SCORE:
        return None
    leaked = [m for m in result["sequence"] if m.get("dictionary_name") == "passwords"]
    if any(m["i"] == 0 and m["j"] == len(result["password"]) - 1 for m in leaked):
        return COMMON
    if leaked:
        return SIMILAR
    warning = str(result["feedback"]["warning"] or "")
    return f"{GUESSABLE} ({warning.rstrip('.')}.)" if warning else GUESSABLE


def _local_part(email: str) -> str:
    return email.strip().lower().partition("@")[0]


def _contains_address(password: str, email: str) -> bool:
    lowered, address, local = password.lower(), email.strip().lower(), _local_part(email)
    if address and address in lowered:
        return True
    return bool(local) and (lowered == local or (len(local) >= LOCAL_PART_MIN and local in lowered))


def _judge(password: str, own_words: list[str]) -> dict[str, Any]:
    from zxcvbn import zxcvbn  # loaded on first use: its dictionaries take a moment to build

    with _lock:
        result: dict[str, Any] = zxcvbn(password, user_inputs=[w for w in own_words if w])
    return result
