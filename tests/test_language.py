"""The app says when a question or a document is not in English, and never for English ones."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from reading_assistant.core.language import document_language, question_language

SQUAD_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad" / "dev-v1.1.json.gz"
OUT_OF_DOMAIN = Path(__file__).resolve().parents[1] / "docs" / "evaluation"

FOREIGN_QUESTIONS = [
    ("German", "Wo wurde Marie Curie geboren?"),
    ("German", "Wie lange dauert die Installation?"),
    ("German", "Was kostet das Abo pro Monat?"),
    ("French", "Où est née Marie Curie ?"),
    ("French", "Combien coûte l'abonnement par mois ?"),
    ("French", "Qui a écrit ce livre ?"),
    ("Spanish", "¿Dónde nació Marie Curie?"),
    ("Spanish", "¿Cuánto tiempo dura la instalación?"),
    ("Italian", "Chi ha scritto questo libro?"),
    ("Portuguese", "Onde fica o museu do Louvre?"),
    ("Dutch", "Waarom is het project gestopt?"),
    ("a language in Cyrillic script", "Где родилась Мария Кюри?"),
    ("Korean", "마리 퀴리는 어디에서 태어났습니까?"),
    ("Chinese or Japanese", "居里夫人出生在哪里?"),
]

ENGLISH_QUESTIONS = [
    "Who?",
    "Where was Curie born?",
    "What does --verbose do?",
    "Which file is /etc/hosts?",
    "When did Luther write Wir glauben all an einen Gott?",
    "How are ergänzungsschulen funded?",
    "What is the Café de Flore?",
    "Who founded La Paz?",
    "What is x86_64-linux-gnu?",
    "What did Paul Baran develop",
]


@pytest.mark.parametrize(("language", "question"), FOREIGN_QUESTIONS)
def test_a_question_in_another_language_is_named(language, question):
    assert question_language(question) == language


@pytest.mark.parametrize("question", ENGLISH_QUESTIONS)
def test_english_questions_with_names_code_and_foreign_words_stay_english(question):
    assert question_language(question) is None


def test_no_squad_or_out_of_domain_question_is_flagged():
    questions = []
    if SQUAD_DEV.exists():  # ../shared is on the developers' machines; the hand-made set is in the repository
        data = json.loads(gzip.decompress(SQUAD_DEV.read_bytes()))["data"]
        questions += [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
    for name in ("out-of-domain-fit.json", "out-of-domain-measure.json"):
        data = json.loads((OUT_OF_DOMAIN / name).read_text())["data"]
        questions += [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
    assert len(questions) >= 200
    assert [q for q in questions if question_language(q) is not None] == []


GERMAN = (
    "Die Installation des Programms ist einfach. Man lädt das Archiv herunter, entpackt es und startet "
    "die Datei im neuen Ordner. Wenn eine Fehlermeldung erscheint, sollte man prüfen, ob die Rechte "
    "stimmen und ob noch genug Platz auf der Festplatte ist. Die Einstellungen werden in einer Datei im "
    "Benutzerordner gespeichert; sie können jederzeit geändert werden, auch während das Programm läuft. "
)
FRENCH = (
    "Le logiciel est distribué sous une licence libre. Il peut être installé sur tous les ordinateurs de "
    "la maison, et les mises à jour sont gratuites pendant deux ans. Pour toute question, écrivez au "
    "service client, qui répond en général dans la journée. Les données restent sur votre machine et ne "
    "sont jamais envoyées à nos serveurs, même quand vous utilisez la recherche. "
)
SPANISH = (
    "El programa se instala en pocos minutos y no necesita conexión a internet. Los documentos se abren "
    "desde el menú Archivo o se arrastran a la ventana. Cuando la respuesta no está en el texto, el "
    "programa lo dice y muestra sus mejores conjeturas, que no siempre son correctas. Para más ayuda, "
    "consulte el manual que viene con la aplicación. "
)
ENGLISH_TECHNICAL = (
    "OPTIONS\n  --vault NAME   Vault to rotate. If omitted, $VAULTCTL_DEFAULT is used.\n"
    "  --grace DURATION   How long clients may still read with the old key (default 7d, at most 30d).\n"
    "FILES\n  /etc/vaultctl/config.toml, /var/log/vaultctl/audit.log\n"
)
NAMES = "".join(
    f"{name} <{name.split()[0].lower()}@example.org>\n"
    for name in (
        "Ana da Silva",
        "João dos Santos",
        "Luis de la Cruz",
        "Marie de Gaulle",
        "Pieter van der Berg",
        "Giulia della Rovere",
        "Hans im Glück",
        "Rosa da Costa",
        "Carlos del Río",
        "Inês das Neves",
    )
    * 3
)


@pytest.mark.parametrize(("language", "text"), [("German", GERMAN), ("French", FRENCH), ("Spanish", SPANISH)])
def test_a_document_in_another_language_is_named_even_with_english_quoted_in_it(language, text):
    assert document_language(text * 3) == language
    # A long book with an English preface and an English quotation in its middle is still German.
    book = ENGLISH_TECHNICAL * 20 + text * 200 + ENGLISH_TECHNICAL * 5 + text * 200
    assert document_language(book) == language


@pytest.mark.parametrize("text", [ENGLISH_TECHNICAL * 5, NAMES, "Kindergarten, Zeitgeist and déjà vu. " * 20])
def test_english_technical_text_and_lists_of_names_are_not_flagged(text):
    assert document_language(text) is None


def test_ask_says_the_model_reads_english(tmp_path):
    document = tmp_path / "anleitung.txt"
    document.write_text(GERMAN * 3)
    result = subprocess.run(
        [sys.executable, "-m", "reading_assistant", "ask", str(document), "Wo werden die Einstellungen gespeichert?"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert notes == [
        "note: The document seems to be in German; the model reads English, so its answers may be wrong or missing.",
        "note: The question seems to be in German; the model reads English, so its answers may be wrong or missing.",
    ]
