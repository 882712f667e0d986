"""The words by which an intake message shows which question a part of it answers.

Each pattern is a plain statement of one fact that nobody says about anything else: "maximaal
een half uur reizen" is a travel time whatever question is open, "per direct" a start date,
"bel me maar" a contact preference. Everything a pattern does not claim answers the question
that was asked. Lists lean narrow: a missed fact is asked for later, a wrong one is misfiled.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

_I = re.IGNORECASE

CONTACT = re.compile(
    r"\b(bel|bell|app|mail|e-?mail|sms|whatsapp|call|text|email|ring|contact)\s*(me|mij|mn)\b|"
    r"\bvia\s+(deze|de|this|the|je|jouw|your)\s+chat\b|"
    r"\b(telefonisch|per telefoon|via de telefoon|by phone|over the phone|per mail|per e-?mail|"
    r"via e-?mail|via mail|by e-?mail|via whatsapp|op whatsapp|on whatsapp|via de app|"
    r"via sms|by text)\b|"
    # A phone number (ten or more digits) or an e-mail address is always contact.
    r"(?<![\d])(?:\+|00)?\d[\d\s-]{8,14}\d(?![\d])|[\w.+-]+@[\w-]+\.[\w.]+",
    _I,
)
# A contact answer must name a way to be reached.
CONTACT_MEANS = re.compile(
    r"\b(bel\w*|tel\w*|phone|call\w*|ring\w*|mail\w*|e-?mail\w*|app\w*|whats\s?app|sms|text\w*|"
    r"chat\w*|brief|post|letter|videobel\w*|video|teams|zoom|langs|visit|maakt niet uit|"
    r"doesn'?t matter|any ?way|anything|alles|maakt me niet uit|whatever)\b",
    _I,
)

TRAVEL = re.compile(
    r"\b(reis\w*|reizen|onderweg|fiets\w*|bus|trein|ov|auto|rijden|km|kilometers?|travel\w*|"
    r"commut\w*|journey|drive|driving|cycl\w*|bike|minuten|minutes|mins?|kwartier|halfuur|"
    r"half\s+uur|half an hour|anderhalf\s+uur|away)\b",
    _I,
)

HOURS = re.compile(
    r"\b(full[- ]?time|voltijd|fulltijd)\b|"
    r"\b\d{1,2}(?:[.,]5)?\s*(?:-|tot|à|a|to|or|of)?\s*(?:\d{1,2}\s*)?(uur|uren|u|hours?|hrs?|h)\b|"
    r"\b(\d|een|twee|drie|vier|vijf|one|two|three|four|five)\s+(dagen|days|ochtenden|middagen|"
    r"avonden|mornings|afternoons|evenings)\b",
    _I,
)

# "40 uur werken", "per week": hours of work even at the travel question.
HOURS_OF_WORK = re.compile(
    r"\b(per week|in de week|a week|per wk|werken|work|working|fulltime|full time|parttime|"
    r"voltijd|deeltijd)\b",
    _I,
)

START = re.compile(
    r"\b(per direct|per omgaande|zo snel mogelijk|zsm|z\.s\.m|asap|a\.s\.a\.p|"
    r"as soon as possible|(volgende|komende) (week|maand)|next (week|month)|"
    r"over (een|twee|drie|vier|\d+) (week|weken|maand|maanden)|"
    r"in (a|one|two|three|\d+) (weeks?|months?)|"
    r"na de (zomer|vakantie|zomervakantie|kerst)|after (the )?(summer|holidays?|christmas)|"
    r"(vanaf|from|per|begin|eind|in) (morgen|tomorrow|maandag|monday|volgende|next|januari|"
    r"january|februari|february|maart|march|april|mei|may|juni|june|juli|july|augustus|august|"
    r"september|oktober|october|november|december)|"
    r"immediately|right away|straight away|morgen al|vandaag nog)\b",
    _I,
)
# "direct" or "nu" alone is a start date only next to a word for starting.
START_WEAK = re.compile(r"\b(direct|meteen|gelijk|nu|now|today|vandaag|morgen|tomorrow)\b", _I)
START_VERB = re.compile(
    r"\b(begin\w*|start\w*|aan de slag|beschikbaar|available|can start|kan ik)\b", _I
)

DEVELOPMENT = re.compile(
    r"\b(wil|wil ik|zou graag|would like|want|wanna|'d like|hoop)\b.*"
    r"\b(leren|learn\w*|oefenen|practi[cs]e|verbeteren|improve|beter worden|get better|"
    r"beter in|bijleren|cursus|course|opleiding|training|diploma|certifica\w*)\b|"
    r"^\s*(nog\s+)?(beter\s+)?(leren|bijleren|learn(ing)?|beter worden in|get better at)\b|"
    r"\b(mijn )?(leerpunt|ontwikkelpunt|verbeterpunt)\w*\b",
    _I,
)

TALENT = re.compile(
    r"\bik ben (heel |erg |best |echt |wel |super |zeer )?(goed|sterk|handig|creatief|precies|"
    r"nauwkeurig|geduldig|sociaal|behulpzaam|betrouwbaar|punctueel|zorgzaam|rustig|"
    r"een harde werker|een teamspeler)\b|"
    r"\bik kan (heel |erg |best |echt |wel |super |zeer )?goed\b|\b(goed|sterk) (in|met)\b|"
    r"\bmijn (sterke punt|kracht|talent)\w*\b|"
    r"\bi'?m (really |very |quite |pretty )?(good|great|skilled|handy|strong|patient|"
    r"reliable|creative|organi[sz]ed)\b|\bi am (really |very |quite )?(good|great|skilled|"
    r"handy|patient|reliable|creative|organi[sz]ed)\b|\b(good|great) (at|with)\b|"
    r"\bmy strengths?\b|\bik spreek\b|\bi speak\b|\b(ik heb|i have) (veel |lots of |much )?"
    r"(ervaring|experience)\b",
    _I,
)

SUPPORT = re.compile(
    r"\b(jobcoach|job coach|aangepast\w*|aanpassing\w*|rekening (mee )?houden|"
    r"niet (te |zo )?vroeg|later beginnen|korte(re)? (werk)?dagen|rustige (werk)?plek|"
    r"rustige omgeving|flexibele (werk)?tijden|thuis ?werken|hulpmiddel\w*|begeleiding|"
    r"werkplekaanpassing|reiskostenvergoeding|quiet (work)?place|quiet workspace|"
    r"flexible (hours|times)|not too early|not early|shorter (working )?days|"
    r"adjust(ed|ments?)|accommodations?|work from home|working from home)\b",
    _I,
)

WORK_WISH = re.compile(
    r"\b(werken|werk|baan|job|functie|work|working|vak)\s+(als|as)\s+\S|"
    r"\bik wil (graag )?\w+ worden\b|\b(i want to|i'd like to|i would like to) (be|become)\b",
    _I,
)
# After "als": words that start a clause of their own ("als de kinderen op school zijn").
CLAUSE_START = frozenset(
    "de het ik je jij we wij ze zij hij u er dat die mijn m'n the i you we they it my soon long "
    "well much".split()
)
CLAUSE_VERBS = frozenset(
    "is zijn ben bent kan kun kunnen mag mogen moet wil wilt heb hebt heeft gaat ga open dicht "
    "klaar are am can may must".split()
)
# "werken als kok": the role itself.
WISH_OBJECT = re.compile(r"\b(?:als|as)\s+(?:een\s+|a\s+|an\s+)?([\w' -]{2,40})$", _I)

NAME_PREFIX = re.compile(
    r"^(ik\s+heet|mijn\s+(voor)?naam(\s+is)?|m'?n\s+naam(\s+is)?|ik\s+ben|noem\s+me|zeg\s+maar|"
    r"my\s+(first\s+)?name(\s+is)?|i\s+am|i'm|im|call\s+me|it's|its|naam)(\s*[:,]?\s+|$)",
    _I,
)
# Only these say plainly that a name follows, whatever question is open.
NAME_SURE = re.compile(
    r"\b(ik heet|mijn (voor)?naam( is)?|my (first )?name is|noem me|zeg maar)\s+"
    r"(?P<name>[^\W\d_][\w'-]*)",
    _I,
)

# Pathway words that also describe what someone did or is ("werkervaring", "vrijwilliger"):
# outside the pathway question they do not count.
PATHWAY_AMBIGUOUS = frozenset(
    {"werkervaring", "work experience", "work-experience", "trial", "temporary", "vrijwilliger",
     "volunteer", "apprentice", "bbl", "gewoon werk", "uitzenden"}
)  # fmt: skip
PAST = re.compile(
    r"\b(gedaan|gewerkt|gestaan|gezeten|deed|did|done|worked|was|were|heb ik|jaar|jaren|years)\b",
    _I,
)
# "want daar woon ik", "because it's close": a reason given with a fact, no answer of its own.
REASON = re.compile(r"^\s*(want|omdat|because|since)\b", _I)
# What is left of a sentence about health counts only as a need, a wish or a fact of the
# intake: "wil ik een aangepaste stoel", "heb ik vaste pauzes nodig", "max een half uur".
PRACTICAL = re.compile(
    r"\b(wil|wilt|willen|graag|liever|nodig|need\w*|like|want\w*|prefer\w*|please|hulp|help|"
    r"kan|kun|can|zoek\w*|looking|niet (te |zo )?(lang|vroeg|zwaar|veel|laat)|geen zware|"
    r"not too)\b|\d",
    _I,
)
# "door mijn reuma", "na mijn burn-out", "because of my back": the health part of a sentence,
# taken off so that what is left ("wil ik een aangepaste stoel") can still count.
HEALTH_LEAD_IN = re.compile(
    r"\b(door|vanwege|na|sinds|wegens|because of|due to|since|after)\s+"
    r"(mijn|m'n|de|het|een|my|the|a)?\s*[\w'-]+",
    _I,
)

# Words of ordinary sentences: a name never holds one ("ik zoek werk" is no name).
COMMON_WORDS = frozenset(
    """
    ik je jij u het een de en van is niet wat hoe ben wil graag ja nee mijn met voor op dat dit
    er maar ook kan kun kunnen wel goed werk werken zoek zoeken bedankt dank waar wanneer waarom
    heb hebt heeft zijn nog al we wij jullie mag moet weer baan job hoi hallo hey hoii doei dag
    zou zal gaat ga gaan doen doe weet niks niets iets alles veel meer mee naar uit om over bij
    als dan of want omdat sorry oke ok okay prima top super leuk fijn eerst later nu straks
    vandaag morgen even effe ff wss idd thx aub pls please hi hello bye yes no not my with for on
    that this there but also can could well good work job looking find want need thanks thank
    where when why have has are still we our may must would like am i you the a an and of what
    how do does did help hulp stop verder continue start begin skip overslaan volgende next
    profiel profile chat bot robot mens person recruiter uur uren hours tijd time week dagen
    days kanker ziek nederlands engels dutch english taal language talen languages geen none
    jawel jep jup yep yeah yup sure oké klopt correct right goedemorgen goedemiddag goedenavond
    morning afternoon evening hee hoi hallo hiya dankjewel dankuwel thankyou
    zelf myself echt really heel very beetje bit thuis home mensen people klant klanten koken
    schoonmaken plannen helpen computer administratie zorg bouw horeca winkel magazijn
    """.split()
)
NAME_PARTICLES = frozenset(
    "van de der den te ter ten el al bin ben da di du le la von del vande 't".split()
)

# Asking to switch, not mentioning a language: "in het Engels graag", "switch to Dutch".
LANGUAGE_NAME = r"(engels|english|nederlands|dutch|nl|en)"
LANGUAGE_SWITCH = re.compile(
    rf"\b(in het|in|naar het|naar|to|into)\s+{LANGUAGE_NAME}\b|"
    rf"\b{LANGUAGE_NAME}\s*(alsjeblieft|aub|a\.u\.b|graag|please|pls|plz|svp)\b|"
    r"\b(andere taal|other language|another language|change (the )?language|taal (veranderen|"
    r"aanpassen|wijzigen)|switch|overschakelen|wissel)\b|"
    rf"\b(spreek|praat|speak|talk)\s+(je|jij|you)\s+(ook\s+)?{LANGUAGE_NAME}\b|"
    rf"^\s*{LANGUAGE_NAME}\s*[.!?]*\s*$",
    _I,
)

# The words a request of its own uses, by intent (data rights, consent, the profile).
REQUEST_WORDS = {
    "request_data_deletion": re.compile(
        r"\b(verwijder\w*|wis\w*|delete\w*|remove\w*|erase|vergeet|forget)\b", _I
    ),
    "request_data_export": re.compile(
        r"\b(gegevens|data|download\w*|export\w*|kopie|copy|bestand|file)\b", _I
    ),
    "withdraw_consent": re.compile(
        r"\b(toestemming|consent|intrek\w*|trek|withdraw\w*|niet meer|no longer|stop\w*)\b", _I
    ),
    "show_profile": re.compile(r"\b(profiel|profile|laat|show|zien|see|weet je|know)\b", _I),
    "request_human": re.compile(
        r"\b(recruiter\w*|mens|persoon|person|human|medewerker|iemand spreken|iemand praten|"
        r"praten|spreken|talk|speak|contact|echt\w*|real)\b",
        _I,
    ),
    "goodbye": re.compile(
        r"\b(doei\w*|dag|bye|tot (ziens|later|straks|morgen)|later|stop\w*|genoeg|klaar|see you|"
        r"ciao|doeg|groetjes|ophouden|for now|gotta go|moet gaan)\b",
        _I,
    ),
    "nudges_stop": re.compile(r"\b(stop\w*|ophouden|hou op|genoeg|quit|pauze|pause|klaar)\b", _I),
}
REQUEST_WORDS["request_recruiter"] = REQUEST_WORDS["request_human"]

# A clause that asks: a question word first, or a verb with "ik", "je", "I", "you" after it
# ("krijg ik", "kun je"), not a verb alone ("kan goed plannen").
QUESTION_START = re.compile(
    r"^\s*(wat|hoe|wanneer|waarom|welke|wie|waar|what|how|when|why|which|who|where)\b"
    # "wanneer jullie willen", "whenever you like": an answer, not a question.
    r"(?!\s+(ik|je|jij|jullie|we|wij|u|ze|zij|het|er|i|you|we|they|it|ever)\b)|"
    r"^\s*(krijg|mag|moet|kan|kun|kunt|is|zijn|ben|bent|heb|hebben|word|wordt|do|does|can|could|"
    r"is|are|will|would|should|may|am)\s+(ik|je|jij|u|we|wij|het|er|dat|i|you|it|there|that|"
    r"this)\b",
    _I,
)

_LOOKUPS = Path(__file__).resolve().parent.parent / "nlu" / "lookups.yml"


@cache
def lookup(name: str) -> frozenset[str]:
    """The lowercase entries of one lookup table of the training data ("place", "sector")."""
    try:
        data = yaml.safe_load(_LOOKUPS.read_text("utf-8"))
    except OSError:
        return frozenset()
    for block in data.get("nlu", []):
        if block.get("lookup") == name:
            lines = str(block.get("examples", "")).splitlines()
            return frozenset(
                line.strip()[2:].strip().lower() for line in lines if line.strip().startswith("- ")
            )
    return frozenset()
