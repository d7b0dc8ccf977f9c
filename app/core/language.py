"""Whether a question or a document is in a language the model does not read.

The bundled model reads English: a question in German gets "no answer" or junk, with no word why.
This is a measured heuristic, not a model (the libraries that ship one load it for a second and
write temporary files): the function words of English and of the languages readers most often try
(German, French, Spanish, Italian, Portuguese, Dutch), and the script of the letters. A text is
taken for another language only when that language's function words outnumber English ones (or
most letters are of a script English does not use), so short English questions, names and
technical words do not raise it. Measured: none of the 10,570 SQuAD v1.1 dev questions, the 200
out-of-domain questions of ``docs/evaluation``, the 2,625 documents under Debian's /usr/share/doc
or the 48 dev-v1.1 articles is flagged; all 45 questions written by hand in the six languages to
tune it are (one Portuguese one named as Italian), as are the test's documents.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
ASCII_LETTER = re.compile(r"[A-Za-z]")
NON_ASCII_WORD_CHAR = re.compile(r"[^\W\d_A-Za-z]")
ENGLISH_WORDS = (
    "the a an of and or to in on at for with from by about as is are was were be been being am do does did "
    "has have had what who whom whose when where which why how this that these those it its they their "
    "there he she his her we you your not no can could will would should many much than then"
)
ENGLISH = frozenset(ENGLISH_WORDS.split())
# Function words and question words, left out where they are also common English words or names
# ("die", "come", "hat", "chi", "la", "de", "do", "is", "was").
FOREIGN = {
    "German": "der das den dem des ein eine einen einem einer und ist sind wurde wurden wird hat haben "
    "wer wo wann warum wie welche welcher welches nicht mit auf für von zu im ich sie wir auch noch nach "
    "oder aber sich kann man kostet",
    "French": "le les un une des du et est sont été où qui quand pourquoi comment quel quelle quels "
    "quelles que qu'est ce cette avec pour dans sur pas ne au aux il elle nous vous ou mais se",
    "Spanish": "el los las una unos unas y es son fue dónde quién quiénes cuándo cómo cuál cuáles "
    "qué por para con del al se lo no pero muy cuánto cuánta está están",
    "Italian": "il gli lo una è sono dove chi quando perché quale quali cosa di del della delle "
    "dei con per non ma anche si",
    "Portuguese": "os as um uma é são foi onde quem quando porque qual quais como com para não "
    "mas muito também da dos das ao se nasceu fica",
    "Dutch": "het een en zijn waar wie wanneer waarom hoe welke niet met voor van op ook maar ik "
    "je heeft hebben wordt werd",
}
FOREIGN_WORDS = {language: frozenset(words.split()) for language, words in FOREIGN.items()}
# Question words that begin a question in one of these languages and never an English one.
OPENERS = {
    "German": "wer wo wann warum wie welche welcher welches wieviel wieviele",
    "French": "où qui quand pourquoi comment combien quel quelle quels quelles qu'est",
    "Spanish": "dónde quién quiénes cuándo cómo cuánto cuánta cuántos cuántas cuál cuáles qué",
    "Italian": "dove chi quando perché quale quali quanto quanta quanti cosa",
    "Portuguese": "onde quem quando porque qual quais quanto quanta quantos quantas",
    "Dutch": "waar wie wanneer waarom hoe welke hoeveel",
}
OPENER_WORDS = {language: frozenset(words.split()) for language, words in OPENERS.items()}
# A document is in another language when its function words make this share of its words (its own
# prose: about 0.3) and more than twice English ones (English prose: about 0.4).
DOCUMENT_FOREIGN_SHARE = 0.12
# Scripts whose letters English text does not use (Greek letters in formulas are a few, never most).
LATIN = "LATIN"
SCRIPT_LANGUAGES = {"CJK": "Chinese or Japanese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean"}
SAMPLE_CHARS = 4000
MIN_DOCUMENT_WORDS = 30
DOCUMENT_DISTINCT = 6
SAMPLES = 3


def question_language(question: str) -> str | None:
    """The language ``question`` seems to be in when it is not English ("German"; "a language in
    Cyrillic script" where only the script is known); None for English, or when unsure. Two
    function words of the language at least and more than English ones ("When did Luther write Wir
    glauben all an einen Gott?" stays English), or a question word no English question begins with.
    A question is judged by its first ``SAMPLE_CHARS`` characters (one can be a pasted book)."""
    question = question[:SAMPLE_CHARS]
    script = other_script(question)
    if script is not None:
        return script
    words = words_of(question)
    english = sum(w in ENGLISH for w in words)
    language, foreign = best_foreign(words)
    if foreign >= 2 and foreign > english:
        return language
    opener = next((lang for lang, openers in OPENER_WORDS.items() if words and words[0] in openers), None)
    return opener if opener is not None and english <= 1 and words[0] not in ENGLISH else None


def document_language(text: str) -> str | None:
    """The language a document seems to be in when it is not English, from three samples (its start,
    middle and end) that agree, so a quotation or a foreign title does not decide for a whole book;
    a few milliseconds however long. A sample counts when its letters are mostly of another script,
    or when one language's function words make ``DOCUMENT_FOREIGN_SHARE`` of its words, at least
    ``DOCUMENT_DISTINCT`` different ones (a list of names repeats "da" and "de"), and more than twice
    the English ones."""
    middle = max(0, len(text) // 2 - SAMPLE_CHARS // 2)
    starts = (0, middle, max(0, len(text) - SAMPLE_CHARS)) if len(text) > SAMPLES * SAMPLE_CHARS else (0,)
    found = [sample_language(text[start : start + SAMPLE_CHARS]) for start in starts]
    language = max(set(found), key=found.count)
    return language if language is not None and found.count(language) * 2 > len(found) else None


def sample_language(sample: str) -> str | None:
    script = other_script(sample)
    if script is not None:
        return script
    words = words_of(sample)
    if len(words) < MIN_DOCUMENT_WORDS:
        return None
    english = sum(w in ENGLISH for w in words)
    language, foreign = best_foreign(words)
    distinct = len(FOREIGN_WORDS[language].intersection(words))
    if foreign >= DOCUMENT_FOREIGN_SHARE * len(words) and distinct >= DOCUMENT_DISTINCT and foreign > 2 * english:
        return language
    return None


def other_script(text: str) -> str | None:
    """'a language in Cyrillic script' when most letters are of one script other than Latin."""
    # Letters are counted by regular expressions and each distinct one named once: the window
    # asks this of every document it shows, while other threads also want the interpreter.
    others = Counter(c for c in NON_ASCII_WORD_CHAR.findall(text) if c.isalpha())
    foreign = sum(others.values())
    latin_ascii = len(ASCII_LETTER.findall(text))
    if foreign * 2 <= latin_ascii + foreign:
        return None  # most letters are a to z (or there are none)
    scripts: Counter[str] = Counter({LATIN: latin_ascii})
    for letter, count in others.items():
        scripts[unicodedata.name(letter, "").split(" ")[0]] += count
    script, count = scripts.most_common(1)[0]
    if script == LATIN or count * 2 <= latin_ascii + foreign:
        return None
    return SCRIPT_LANGUAGES.get(script) or (f"a language in {script.title()} script" if script else "another language")


def words_of(text: str) -> list[str]:
    return [w.casefold() for w in WORD.findall(text.replace("\u2019", "'"))]


def best_foreign(words: list[str]) -> tuple[str, int]:
    """The language whose function words ``words`` hold most, and how many."""
    counts = {language: sum(w in vocabulary for w in words) for language, vocabulary in FOREIGN_WORDS.items()}
    return max(counts.items(), key=lambda item: item[1])


def reads_english_note(what: str, language: str) -> str:
    """'This question seems to be in German; the model reads English, so its answers may be wrong.'"""
    return f"{what} seems to be in {language}; the model reads English, so its answers may be wrong or missing."
