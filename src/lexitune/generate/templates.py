"""Question and answer phrasings, as data, for the offline template generator.

    python -c "from lexitune.generate.templates import QUESTIONS; print(QUESTIONS['fr'])"

Each language maps a style id to a template. `split.py` holds the LAST `generate.test_styles`
question styles of a language out of training, so the list order is part of the contract: the
final three styles (the default held-out set) are a direct, a context and a casual question, and
new styles go before them, never after, or yesterday's test styles would leak into training.

Placeholders: `{term}` (the term or, in alias questions, the alias), `{definition}`, `{alias}`,
`{context}` (where one sense applies),
`{definitions}` (every sense, joined), `{bullets}` (every sense, one per line), `{count}`, and
`{dot}`: a full stop, or nothing when the definition already ends with punctuation, so that
definitions stay verbatim without producing "..".
"""

from __future__ import annotations

QUESTIONS: dict[str, dict[str, str]] = {
    "en": {
        "en.q01": "What does {term} stand for?",
        "en.q02": "What does {term} mean?",
        "en.q03": "Could you tell me what {term} stands for, please?",
        "en.q04": "In our team's docs I saw {term}. What does it mean?",
        "en.q05": "{term}?? what's that",
        "en.q06": "Define {term}.",
        "en.q07": "What is the definition of {term}?",
        "en.q08": "People keep saying {term} in meetings. What is it?",
        "en.q09": "Quick question: what's {term} short for?",
        "en.q10": "Explain the acronym {term}.",
        "en.q11": "Can you expand {term} for me?",
        "en.q15": "I don't know what {term} means. Can you tell me?",
        "en.q16": "I've never heard of {term} before. What is it?",
        "en.q12": "What is {term}?",
        "en.q13": "Someone wrote {term} in an email and I have no idea what it means. Can you help?",
        "en.q14": "hey, {term} means what exactly?",
    },
    # French acronyms often start with a vowel (AOC, IGP), so phrasings avoid "de {term}" and
    # "que {term}", which would need an elision ("d'AOC") that a template cannot know.
    "fr": {
        "fr.q01": "Que signifie {term} ?",
        "fr.q02": "Que veut dire {term} ?",
        "fr.q03": "Pourriez-vous m’expliquer ce que signifie {term}, s’il vous plaît ?",
        "fr.q04": "Dans la documentation de notre équipe, j’ai vu « {term} ». Qu’est-ce que ça veut dire ?",
        "fr.q05": "{term} ?? c’est quoi",
        "fr.q06": "Définis le terme {term}.",
        "fr.q07": "Quelle est la définition du sigle {term} ?",
        "fr.q08": "On dit souvent « {term} » en réunion. De quoi s’agit-il ?",
        "fr.q09": "Petite question : {term}, c’est l’abréviation de quoi ?",
        "fr.q10": "Explique-moi le sigle {term}.",
        "fr.q11": "Tu peux me donner la signification du sigle {term} ?",
        "fr.q15": "Je ne sais pas ce que veut dire {term}. Tu peux me le dire ?",
        "fr.q16": "Je n’ai jamais entendu parler de {term}. Qu’est-ce que c’est ?",
        "fr.q12": "{term}, qu’est-ce que c’est ?",
        "fr.q13": "Quelqu’un a écrit {term} dans un courriel et je ne comprends pas. Tu peux m’aider ?",
        "fr.q14": "Au fait, {term}, ça veut dire quoi exactement ?",
    },
}

ANSWERS: dict[str, dict[str, str]] = {
    "en": {
        "en.a01": "{term} stands for {definition}{dot}",
        "en.a02": "{term} means {definition}{dot}",
        "en.a03": "{term}: {definition}",
        "en.a04": "The acronym {term} stands for {definition}{dot}",
        "en.a05": "{term} is short for {definition}{dot}",
        "en.a06": "In this glossary, {term} means: {definition}{dot}",
        "en.a07": "{term} refers to {definition}{dot}",
    },
    "fr": {
        "fr.a01": "{term} signifie « {definition} ».",
        "fr.a02": "{term} veut dire : {definition}{dot}",
        "fr.a03": "{term} : {definition}",
        "fr.a04": "Le sigle {term} désigne : {definition}{dot}",
        "fr.a05": "{term} est l’abréviation de : {definition}{dot}",
        "fr.a06": "Dans ce glossaire, {term} signifie : {definition}{dot}",
        "fr.a07": "« {term} » correspond à : {definition}{dot}",
    },
}

# A term with several senses is always answered with all of them, so the model never learns to
# pick one meaning at random.
SENSE_ANSWERS: dict[str, dict[str, str]] = {
    "en": {
        "en.s01": "{term} can mean: {definitions}{dot}",
        "en.s02": "{term} has several meanings: {definitions}{dot}",
        "en.s03": "{term} has {count} meanings:\n{bullets}",
    },
    "fr": {
        "fr.s01": "{term} peut signifier : {definitions}{dot}",
        "fr.s02": "{term} a plusieurs sens : {definitions}{dot}",
        "fr.s03": "{term} a {count} significations :\n{bullets}",
    },
}

# Questions that name the context in which a several-sense term is meant ("In aviation, what does
# AAA mean?"), answered with that sense only. As for QUESTIONS, the last style is held out.
CONTEXT_QUESTIONS: dict[str, dict[str, str]] = {
    "en": {
        "en.c01": "In {context}, what does {term} stand for?",
        "en.c02": "I work in {context}. What does {term} mean?",
        "en.c03": "{term} in {context}: what is it?",
        "en.c04": "What does {term} mean when we talk about {context}?",
    },
    "fr": {
        "fr.c01": "Dans le domaine « {context} », que signifie {term} ?",
        "fr.c02": "Je travaille dans le domaine « {context} ». Que veut dire {term} ?",
        "fr.c03": "{term} (domaine « {context} ») : qu’est-ce que c’est ?",
        "fr.c04": "Quand on parle de « {context} », que veut dire {term} ?",
    },
}

CONTEXT_ANSWERS: dict[str, dict[str, str]] = {
    "en": {
        "en.x01": "In {context}, {term} stands for {definition}{dot}",
        "en.x02": "In {context}, {term} means {definition}{dot}",
        "en.x03": "{term} ({context}): {definition}",
    },
    "fr": {
        "fr.x01": "Dans le domaine « {context} », {term} signifie : {definition}{dot}",
        "fr.x02": "En contexte « {context} », {term} veut dire : {definition}{dot}",
        "fr.x03": "{term} (domaine « {context} ») : {definition}",
    },
}

# Put before the usual answer when the question asked about an alias, so the answer names the
# alias, the main term and the definition together.
ALIAS_PREFIXES: dict[str, list[str]] = {
    "en": [
        "{alias} is another name for {term}. ",
        "{alias} is the same as {term}. ",
        "{alias} is an alias of {term}. ",
    ],
    "fr": [
        "{alias} est un autre nom pour {term}. ",
        "{alias} et {term} désignent la même chose. ",
        "{alias} est un synonyme du sigle {term}. ",
    ],
}

# Held-out answers are references for the evaluator, which compares against the definition, so
# the plainest form is enough.
REFERENCE: dict[str, str] = {"en": "{term}: {definitions}", "fr": "{term} : {definitions}"}

# The reverse question: the definition given, the term asked. The LAST two styles of a language
# are held out (`reverse/` test questions); `generate.reverse_styles` of the others train.
REVERSE_QUESTIONS: dict[str, dict[str, str]] = {
    "en": {
        "en.r01": "What is the acronym for {definition}?",
        "en.r02": 'How do you abbreviate "{definition}"?',
        "en.r03": "What's the short form of {definition}?",
        "en.r04": 'Which abbreviation stands for "{definition}"?',
        "en.r05": "What acronym is used for {definition}?",
        "en.r06": 'Do you know the abbreviation of "{definition}"?',
    },
    "fr": {
        "fr.r01": "Quel est le sigle de {definition} ?",
        "fr.r02": "Comment abrège-t-on « {definition} » ?",
        "fr.r03": "« {definition} », en sigle, ça donne quoi ?",
        "fr.r04": "Quelle abréviation utilise-t-on pour « {definition} » ?",
        "fr.r05": "Quel sigle correspond à « {definition} » ?",
        "fr.r06": "Tu connais l’abréviation de « {definition} » ?",
    },
}
REVERSE_TEST_STYLES = 2

REVERSE_ANSWERS: dict[str, list[str]] = {
    "en": ["The acronym for {definition} is {term}.", "{term}: it stands for {definition}{dot}", "It is {term}."],
    "fr": ["Le sigle de « {definition} » est {term}.", "{term} : c’est le sigle de « {definition} ».", "C’est {term}."],
}

# The sealed family: held-out phrasings written once and only ever reported (`sealed_recall`),
# never used to choose a recipe or a setting. Do not edit them to make a figure look better: a
# sealed_recall well below exact_recall means a recipe is tuned to the held-out styles.
SEALED_QUESTIONS: dict[str, dict[str, str]] = {
    "en": {
        "en.s01": "I have to fill in the {term} form tomorrow, what is it again?",
        "en.s02": "My manager mentioned {term} this morning. What does that refer to?",
        "en.s03": "I'm reviewing a report that uses {term}: what does the acronym mean?",
        "en.s04": "Remind me what {term} means, I always forget.",
    },
    "fr": {
        "fr.s01": "Je dois remplir le formulaire {term} demain, c’est quoi déjà ?",
        "fr.s02": "En réunion ce matin, la cheffe a parlé de « {term} ». Ça désigne quoi ?",
        "fr.s03": "Je relis un compte rendu où apparaît {term} : que veut dire ce sigle ?",
        "fr.s04": "Rappelle-moi la signification de {term}, je l’oublie toujours.",
    },
}

# French typography puts a space before ";" as before ":".
SENSE_SEPARATOR: dict[str, str] = {"en": "; ", "fr": " ; "}

_END_PUNCTUATION = (".", "!", "?", "…")


def join_definitions(definitions: list[str], sep: str = "; ") -> str:
    """Join senses with `sep`, but not after one that already ends a sentence ("A.; B" reads badly)."""
    out = definitions[0]
    for d in definitions[1:]:
        out += (" " if out.rstrip().endswith(_END_PUNCTUATION) else sep) + d
    return out


def fill(
    template: str,
    term: str,
    definitions: list[str],
    alias: str | None = None,
    language: str = "en",
    context: str = "",
) -> str:
    """Format one template; every definition appears verbatim in the result."""
    last = definitions[-1].rstrip()
    return template.format(
        term=term,
        alias=alias or "",
        context=context,
        definition=definitions[0],
        definitions=join_definitions(definitions, SENSE_SEPARATOR[language]),
        bullets="\n".join(f"- {d}" for d in definitions),
        count=len(definitions),
        dot="" if last.endswith(_END_PUNCTUATION) else ".",
    )
