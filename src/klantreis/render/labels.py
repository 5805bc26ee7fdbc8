"""Every fixed word on maps, charts and reports, in English and Dutch (M13).

``label(key, lang)`` returns the text; an unknown key raises ``KeyError`` so a missing
translation fails a test instead of showing a key to a reader. Numbers are formatted here too
(``fmt_int``, ``fmt_pct``, ``fmt_num``), because the decimal and thousands separators differ:
1,234.5 in English, 1.234,5 in Dutch.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "LABELS",
    "Lang",
    "channel_label",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "label",
    "resolve_lang",
]

Lang = Literal["en", "nl"]

#: key -> (English, Dutch)
LABELS: dict[str, tuple[str, str]] = {
    # map lanes
    "lane.goal": ("Customer goal", "Doel van de klant"),
    "lane.actions": ("Actions", "Acties"),
    "lane.touchpoints": ("Touchpoints", "Contactmomenten"),
    "lane.curve": ("Emotion curve", "Emotiecurve"),
    "lane.motivations": ("Motivations", "Motivaties"),
    "lane.questions": ("Questions", "Vragen"),
    "lane.pain_points": ("Pain points", "Pijnpunten"),
    "lane.emotions": ("Emotions", "Emoties"),
    "lane.opportunities": ("Opportunities", "Kansen"),
    "lane.content": ("Content", "Uitingen"),
    "lane.timeline": ("Timeline", "Tijdlijn"),
    "map.stage": ("Stage", "Fase"),
    "map.title": ("Customer journey map", "Klantreiskaart"),
    # touchpoint cards
    "card.online": ("online", "online"),
    "card.offline": ("offline", "offline"),
    "card.owner": ("Owner", "Eigenaar"),
    "card.no_owner": ("no owner", "geen eigenaar"),
    "card.reach": ("Reach", "Bereik"),
    "card.customers": ("customers", "klanten"),
    "card.conversion": ("Conversion", "Conversie"),
    "card.small_sample": ("small sample", "kleine steekproef"),
    "card.unbranded": ("not branded", "niet eigen merk"),
    # evidence
    "evidence.hypothesis": ("Hypothesis", "Hypothese"),
    "evidence.partly": ("Partly measured", "Deels gemeten"),
    "evidence.measured": ("Measured", "Gemeten"),
    "evidence.title": ("Evidence", "Onderbouwing"),
    "evidence.hypothesis.help": (
        "no data yet: the team's expectation",
        "nog geen data: de verwachting van het team",
    ),
    "evidence.partly.help": (
        "some numbers measured (reach, conversion or score)",
        "deels gemeten (bereik, conversie of score)",
    ),
    "evidence.measured.help": (
        "reach and a score measured",
        "bereik en een score gemeten",
    ),
    # curve
    "curve.designed": ("Designed (expected emotion)", "Ontworpen (verwachte emotie)"),
    "curve.measured": ("Measured (scores, rescaled)", "Gemeten (scores, herschaald)"),
    "curve.interval": ("95% interval", "95%-interval"),
    "curve.peak": ("peak", "piek"),
    "curve.valley": ("valley", "dal"),
    "curve.none": (
        "No expected emotions on this map yet.",
        "Nog geen verwachte emoties op deze kaart.",
    ),
    # page / report
    "page.generated": ("Made with klantreis", "Gemaakt met klantreis"),
    "page.hypothesis_banner": (
        "Hypothesis: no measured data. This map shows what the team expects, not what customers did.",
        "Hypothese: geen gemeten data. Deze kaart toont wat het team verwacht, niet wat klanten deden.",
    ),
    "page.measured_banner": (
        "{measured} of {total} touchpoints have measured data.",
        "{measured} van {total} contactmomenten hebben gemeten data.",
    ),
    "page.details": ("Touchpoints in detail", "Contactmomenten in detail"),
    "page.personas": ("Personas", "Persona's"),
    "report.title": ("Journey report", "Klantreisrapport"),
    "report.key_figures": ("Key figures", "Kerncijfers"),
    "report.pain_points": ("Pain points and their evidence", "Pijnpunten en hun onderbouwing"),
    "report.priorities": ("Priorities", "Prioriteiten"),
    "report.method": ("Method notes", "Verantwoording"),
    "report.map": ("The map", "De kaart"),
    "report.charts": ("Charts", "Grafieken"),
    "report.no_pain_points": ("No pain points on this map.", "Geen pijnpunten op deze kaart."),
    "report.no_priorities": (
        "No priorities yet: measure the touchpoints first.",
        "Nog geen prioriteiten: meet eerst de contactmomenten.",
    ),
    "report.not_measured": ("not measured", "niet gemeten"),
    "report.source_map": ("journey map (designed)", "klantreiskaart (ontworpen)"),
    "report.source_data": ("measured data", "gemeten data"),
    "kpi.stages": ("Stages", "Fases"),
    "kpi.touchpoints": ("Touchpoints", "Contactmomenten"),
    "kpi.measured_touchpoints": ("Touchpoints measured", "Contactmomenten gemeten"),
    "kpi.customers": (
        "Customers at the busiest touchpoint",
        "Klanten bij het drukste contactmoment",
    ),
    "kpi.pain_points": ("Pain points", "Pijnpunten"),
    "kpi.lowest_score": ("Lowest score", "Laagste score"),
    "kpi.period": ("Period", "Periode"),
    "col.rank": ("#", "#"),
    "col.pain_point": ("Pain point", "Pijnpunt"),
    "col.stage": ("Stage", "Fase"),
    "col.touchpoint": ("Touchpoint", "Contactmoment"),
    "col.owner": ("Owner", "Eigenaar"),
    "col.status": ("Status", "Status"),
    "col.impact": ("Estimated impact", "Geschatte impact"),
    "col.evidence": ("Evidence", "Onderbouwing"),
    "col.reach": ("Reach", "Bereik"),
    "col.score": ("Score", "Score"),
    "col.n": ("n", "n"),
    "col.channel": ("Channel", "Kanaal"),
    "col.conversion": ("Conversion", "Conversie"),
    "col.expected_emotion": ("Expected emotion", "Verwachte emotie"),
    "col.value": ("Value", "Waarde"),
    "method.hypothesis": (
        "This report has no measured data: every touchpoint, emotion and pain point is the team's "
        "hypothesis. Ingest events and feedback to check it.",
        "Dit rapport heeft geen gemeten data: elk contactmoment, elke emotie en elk pijnpunt is de "
        "hypothese van het team. Laad events en feedback in om die te toetsen.",
    ),
    "method.reach": (
        "Reach: the number of distinct customers with at least one event at the touchpoint.",
        "Bereik: het aantal verschillende klanten met minstens één event bij het contactmoment.",
    ),
    "method.conversion": (
        "Conversion: the share of customers reached at the touchpoint who later converted; "
        "n is that number of customers.",
        "Conversie: het aandeel van de bereikte klanten dat daarna converteerde; n is dat aantal klanten.",
    ),
    "method.score": (
        "Scores: mean CSAT/CES or NPS (% promoters 9–10 minus % detractors 0–6) with a 95% "
        "interval; n is the number of responses. Fewer than 30 responses is marked as a small sample.",
        "Scores: gemiddelde CSAT/CES of NPS (% promoters 9–10 min % criticasters 0–6) met een "
        "95%-interval; n is het aantal antwoorden. Minder dan 30 antwoorden heet een kleine steekproef.",
    ),
    "method.curve": (
        "Emotion curve: the designed curve is the expected emotion (−2 to +2) per touchpoint; the "
        "measured curve is each touchpoint's score rescaled from its scale to −2…+2, with the interval "
        "as a band.",
        "Emotiecurve: de ontworpen curve is de verwachte emotie (−2 tot +2) per contactmoment; de "
        "gemeten curve is de score van elk contactmoment herschaald van zijn schaal naar −2…+2, met "
        "het interval als band.",
    ),
    "method.priority": (
        "Priority: ranked by reach × severity (low score, drop-off after the touchpoint, time "
        "lost), as computed by the pain-points analysis; the estimated impact (if the touchpoint "
        "performed like the median one) is shown next to it with its interval: an estimate, "
        "not a promise.",
        "Prioriteit: gerangschikt op bereik × ernst (lage score, uitval na het contactmoment, "
        "verloren tijd), zoals berekend door de pijnpuntenanalyse; de geschatte impact (als het "
        "contactmoment presteerde als het mediane) staat ernaast met zijn interval: een "
        "schatting, geen belofte.",
    ),
    # charts
    "chart.funnel": ("Funnel", "Trechter"),
    "chart.paths": ("Most common paths", "Meest voorkomende paden"),
    "chart.transitions": ("Transitions", "Overgangen"),
    "chart.scores": ("Scores with 95% intervals", "Scores met 95%-intervallen"),
    "chart.timing": ("Time between steps", "Tijd tussen stappen"),
    "chart.kpi": ("KPI over time", "KPI in de tijd"),
    "chart.attribution": ("Attribution by model", "Attributie per model"),
    "chart.personas": ("Personas", "Persona's"),
    "chart.other": ("other", "overig"),
    "chart.end": ("end", "einde"),
    "chart.customers": ("customers", "klanten"),
    "chart.of_start": ("of start", "van start"),
    "chart.of_previous": ("of previous step", "van vorige stap"),
    "chart.median": ("median", "mediaan"),
    "chart.days": ("days", "dagen"),
    "chart.hours": ("hours", "uur"),
    "chart.share": ("share", "aandeel"),
    "chart.hidden": ("{n} more not shown", "{n} meer niet getoond"),
    "chart.small_sample_note": ("n < 30: small sample", "n < 30: kleine steekproef"),
    "chart.no_data": ("No data", "Geen data"),
    "chart.size": ("size", "omvang"),
    "chart.pain_points": ("Pain points by priority", "Pijnpunten op prioriteit"),
    "chart.priority_note": (
        "priority = reach × severity (low score, drop-off, time lost)",
        "prioriteit = bereik × ernst (lage score, uitval, verloren tijd)",
    ),
    "chart.reach": ("reach", "bereik"),
    "chart.drop_off": ("drop-off", "uitval"),
    "chart.to_next": ("to the next step", "tot de volgende stap"),
    "chart.trends": ("Trend per stage", "Trend per fase"),
    "chart.latest": ("latest", "laatste"),
}

_CHANNELS: dict[str, tuple[str, str]] = {
    "website": ("website", "website"),
    "webshop": ("webshop", "webshop"),
    "search": ("search", "zoekmachine"),
    "ads": ("ads", "advertenties"),
    "social": ("social media", "sociale media"),
    "email": ("e-mail", "e-mail"),
    "app": ("app", "app"),
    "chat": ("chat", "chat"),
    "review_site": ("review site", "reviewsite"),
    "call_centre": ("call centre", "klantenservice (telefoon)"),
    "phone": ("phone", "telefoon"),
    "store": ("store", "winkel"),
    "on_site": ("on site", "op locatie"),
    "event": ("event", "evenement"),
    "print": ("print", "drukwerk"),
    "mail": ("mail", "post"),
    "tv_radio": ("TV/radio", "tv/radio"),
    "word_of_mouth": ("word of mouth", "mond-tot-mond"),
    "partner": ("partner", "partner"),
    "sales": ("sales", "verkoop"),
    "delivery": ("delivery", "bezorging"),
    "other": ("other", "overig"),
}


def resolve_lang(lang: str | None, default: str = "en") -> Lang:
    """``lang`` if given, else ``default``; anything but ``nl`` means English."""
    chosen = lang or default
    return "nl" if chosen == "nl" else "en"


def label(key: str, lang: str = "en", **values: object) -> str:
    """The text for ``key`` in ``lang``; ``{name}`` placeholders are filled from ``values``."""
    en, nl = LABELS[key]
    text = nl if lang == "nl" else en
    return text.format(**values) if values else text


def channel_label(channel: str, lang: str = "en") -> str:
    """A readable channel name; unknown channels are shown as written."""
    pair = _CHANNELS.get(channel)
    if pair is None:
        return channel.replace("_", " ")
    return pair[1] if lang == "nl" else pair[0]


def _group(digits: str, sep: str) -> str:
    out: list[str] = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return sep.join(out)


def fmt_num(value: float, lang: str = "en", *, decimals: int = 1) -> str:
    """1,234.5 (en) or 1.234,5 (nl); a minus sign for negatives."""
    text = f"{abs(value):.{decimals}f}"
    whole, _, frac = text.partition(".")
    thousands, point = (".", ",") if lang == "nl" else (",", ".")
    out = _group(whole, thousands) + (point + frac if frac else "")
    return ("−" if value < 0 and float(text) != 0 else "") + out


def fmt_int(value: float, lang: str = "en") -> str:
    return fmt_num(round(value), lang, decimals=0)


def fmt_pct(share: float, lang: str = "en", *, decimals: int = 0) -> str:
    """A share 0..1 as a percentage: 45% (en) or 45% (nl), with the language's decimal mark."""
    return fmt_num(share * 100, lang, decimals=decimals) + "%"
