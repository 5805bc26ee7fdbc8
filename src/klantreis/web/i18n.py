"""The web app's words in English and Dutch. Pages pick the language from ``?lang=``, the
``lang`` cookie, the browser's Accept-Language, then the workspace's language."""

from __future__ import annotations

from typing import Any

__all__ = ["LANGS", "pick_lang", "translate"]

LANGS = ("en", "nl")

_NL: dict[str, str] = {
    "Journeys": "Klantreizen",
    "Dashboard": "Dashboard",
    "Map": "Kaart",
    "Edit": "Bewerken",
    "Board": "Prioriteiten",
    "Priority board": "Prioriteitenbord",
    "Surveys": "Enquêtes",
    "Settings": "Instellingen",
    "History": "Geschiedenis",
    "Log in": "Inloggen",
    "Log out": "Uitloggen",
    "User name": "Gebruikersnaam",
    "Password": "Wachtwoord",
    "Skip to content": "Naar de inhoud",
    "New journey": "Nieuwe klantreis",
    "Template": "Sjabloon",
    "Language": "Taal",
    "Create": "Aanmaken",
    "Save": "Opslaan",
    "Delete": "Verwijderen",
    "Add": "Toevoegen",
    "Move left": "Naar links",
    "Move right": "Naar rechts",
    "Move up": "Omhoog",
    "Move down": "Omlaag",
    "Stage": "Fase",
    "Stages": "Fasen",
    "Touchpoint": "Contactmoment",
    "When": "Wanneer",
    "Metric": "Meetwaarde",
    "Score": "Score",
    "Comment": "Opmerking",
    "Touchpoints": "Contactmomenten",
    "Channel": "Kanaal",
    "Owner": "Eigenaar",
    "Expected emotion": "Verwachte emotie",
    "Goal": "Doel",
    "Name": "Naam",
    "Comments": "Opmerkingen",
    "Add a comment": "Opmerking toevoegen",
    "Funnel": "Trechter",
    "Scores per touchpoint": "Scores per contactmoment",
    "Pain points": "Pijnpunten",
    "Trends": "Trends",
    "Alerts": "Meldingen",
    "Latest survey answers": "Laatste enquêteantwoorden",
    "Filters": "Filters",
    "Segment": "Segment",
    "Persona": "Persona",
    "Period": "Periode",
    "From": "Van",
    "To": "Tot",
    "Apply": "Toepassen",
    "All": "Alle",
    "Status": "Status",
    "Root cause": "Oorzaak",
    "Actions": "Acties",
    "Estimated impact": "Geschatte impact",
    "Priority": "Prioriteit",
    "Title": "Titel",
    "Export CSV": "Exporteer CSV",
    "Import from analyses": "Importeer uit analyses",
    "How satisfied are you with": "Hoe tevreden bent u over",
    "How likely are you to recommend us to a friend or colleague?": "Hoe waarschijnlijk is het dat u ons aanbeveelt aan een vriend of collega?",
    "How easy was it to get what you needed?": "Hoe gemakkelijk kon u regelen wat u nodig had?",
    "Comment (optional)": "Opmerking (optioneel)",
    "Send": "Versturen",
    "Thank you for your answer!": "Bedankt voor uw antwoord!",
    "You answered this survey recently. Thank you!": "U heeft deze enquête onlangs al ingevuld. Bedankt!",
    "Very unhappy": "Zeer ontevreden",
    "Very happy": "Zeer tevreden",
    "Not likely": "Niet waarschijnlijk",
    "Very likely": "Zeer waarschijnlijk",
    "Very hard": "Zeer moeilijk",
    "Very easy": "Zeer gemakkelijk",
    "Users": "Gebruikers",
    "API keys": "API-sleutels",
    "Role": "Rol",
    "Scope": "Bereik",
    "Origins": "Herkomsten",
    "Revoke": "Intrekken",
    "Version": "Versie",
    "Conflict": "Conflict",
    "Error": "Fout",
    "No data yet": "Nog geen gegevens",
    "Show the numbers": "Toon de cijfers",
    "rows": "rijen",
    "Trend metric": "Trendmaat",
    "Share link": "Deellink",
    "Survey page": "Enquêtepagina",
    "Widget": "Widget",
    "Lanes": "Banen",
    "actions": "acties",
    "motivations": "motivaties",
    "questions": "vragen",
    "pain_points": "pijnpunten",
    "emotions": "emoties",
    "opportunities": "kansen",
    "Timeline": "Tijdlijn",
    "Edit YAML": "YAML bewerken",
    "Read only": "Alleen lezen",
    "customers": "klanten",
}


def translate(lang: str) -> Any:
    """A ``_`` function for templates: English text in, the text in ``lang`` out."""
    table = _NL if lang == "nl" else {}

    def _(text: str) -> str:
        return table.get(text, text)

    return _


def pick_lang(query: str | None, cookie: str | None, accept: str | None, default: str) -> str:
    for candidate in (query, cookie):
        if candidate in LANGS:
            return str(candidate)
    if accept:
        for part in accept.split(","):
            code = part.split(";")[0].strip().lower()[:2]
            if code in LANGS:
                return code
    return default if default in LANGS else "en"
