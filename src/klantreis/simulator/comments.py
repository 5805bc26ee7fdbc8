"""Free-text survey comments in English and Dutch, by sentiment and touchpoint.

Comments are chosen, not generated: per touchpoint and kind (positive, neutral, negative, and
"waited" for contacts that came after a planted wait) there are ``PER_KIND`` sentences in the
journey's language, with the touchpoint's name filled in. The engine picks a code; the writer
looks the text up in ``comment_table``.
"""

from __future__ import annotations

__all__ = ["KINDS", "PER_KIND", "comment_table"]

KINDS = ("positive", "neutral", "negative", "waited")
PER_KIND = 5

_TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "{tp} was quick and easy.",
            "Very happy with {tp}, exactly what I needed.",
            "Friendly and clear, thank you!",
            "Great experience with {tp}.",
            "Everything went smoothly.",
        ),
        "neutral": (
            "{tp} was fine, nothing special.",
            "OK, but it could be a bit clearer.",
            "Reasonable. I had to look for some information.",
            "It did the job.",
            "Average experience with {tp}.",
        ),
        "negative": (
            "{tp} was confusing and frustrating.",
            "I almost gave up at {tp}.",
            "Too many steps, and an error at the end.",
            "Disappointed with {tp}.",
            "Nobody could answer my question.",
        ),
        "waited": (
            "I had to wait far too long for {tp}.",
            "It took weeks before anything happened.",
            "Waiting time for {tp} is unacceptable.",
            "Slow, slow, slow.",
            "I kept waiting and nobody told me why.",
        ),
    },
    "nl": {
        "positive": (
            "{tp} ging snel en makkelijk.",
            "Heel tevreden over {tp}, precies wat ik zocht.",
            "Vriendelijk en duidelijk, dank jullie wel!",
            "Top ervaring met {tp}.",
            "Alles verliep soepel.",
        ),
        "neutral": (
            "{tp} was prima, niets bijzonders.",
            "Oké, maar het kan wat duidelijker.",
            "Redelijk. Ik moest wat informatie zoeken.",
            "Het deed wat het moest doen.",
            "Gemiddelde ervaring met {tp}.",
        ),
        "negative": (
            "{tp} was verwarrend en frustrerend.",
            "Ik was bijna afgehaakt bij {tp}.",
            "Te veel stappen en aan het eind een foutmelding.",
            "Teleurgesteld in {tp}.",
            "Niemand kon mijn vraag beantwoorden.",
        ),
        "waited": (
            "Ik moest veel te lang wachten op {tp}.",
            "Het duurde weken voordat er iets gebeurde.",
            "De wachttijd voor {tp} is onacceptabel.",
            "Traag, traag, traag.",
            "Ik bleef wachten en niemand vertelde waarom.",
        ),
    },
}

_OVERALL = {"en": "the service", "nl": "de service"}


def comment_table(touchpoint_names: list[str], lang: str) -> list[str]:
    """Every comment text; code = ``(touchpoint * 4 + kind) * PER_KIND + k``.

    Touchpoint index ``len(touchpoint_names)`` stands for the journey as a whole (NPS).
    """
    texts = _TEXTS["nl" if lang == "nl" else "en"]
    out: list[str] = []
    for name in [*touchpoint_names, _OVERALL["nl" if lang == "nl" else "en"]]:
        for kind in KINDS:
            for sentence in texts[kind]:
                text = sentence.replace("{tp}", name)
                out.append(text[0].upper() + text[1:])
    return out
