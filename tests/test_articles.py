from pathlib import Path

import pytest

from index.articles import find_article_files, read_article_file, title_from_text
from index.chunking import split_article, split_sentences
from index.errors import NewsbotError


def test_latin1_file_is_decoded_with_umlauts_intact(tmp_path: Path):
    path = tmp_path / "alt.txt"
    path.write_bytes("Größere Brücke über die Mur\n\nDie Brücke wird größer. Die Kosten steigen.".encode("latin-1"))
    article = read_article_file(path)
    assert article.title == "Größere Brücke über die Mur"
    assert "größer" in article.text


def test_binary_file_is_refused_with_a_german_message(tmp_path: Path):
    path = tmp_path / "bild.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(NewsbotError, match="Keine Textdatei"):
        read_article_file(path)


def test_unsupported_suffix_and_missing_path_are_user_errors(tmp_path: Path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(NewsbotError, match="nicht unterstützt"):
        read_article_file(tmp_path / "x.pdf")
    with pytest.raises(NewsbotError, match="nicht gefunden"):
        find_article_files(tmp_path / "fehlt")


def test_html_main_text_is_extracted_without_navigation(articles_dir: Path):
    article = read_article_file(articles_dir / "bahn.html")
    assert article.title == "Neue Bahnstrecke eröffnet"
    assert "45 Minuten" in article.text
    assert "Menü" not in article.text


def test_markdown_title_loses_its_hashes(articles_dir: Path):
    assert read_article_file(articles_dir / "wetter.md").title == "Hitzewelle in Wien"


MARKDOWN = """# Hafen in **Triest** wird erweitert

Der Hafen von [Triest](https://example.org/triest) wird bis *2027* erweitert,
teilte die `Hafenbehörde` mit.

## Die Pläne

- Ein neues Terminal für 400.000 Container
- Zwei Liegeplätze mehr

> „Wir wachsen“, sagte der Hafenchef.
"""


def test_markdown_is_read_as_its_text_without_markup(tmp_path: Path):
    """Headings, emphasis and links once stayed as written: answers began with "# Hitzewelle …", and
    BM25 and the embedder read "**Triest**" and the link's address."""
    path = tmp_path / "hafen.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    article = read_article_file(path)
    assert article.title == "Hafen in Triest wird erweitert"
    paragraphs = article.text.split("\n\n")
    assert paragraphs == [
        "Hafen in Triest wird erweitert",
        "Der Hafen von Triest wird bis 2027 erweitert, teilte die Hafenbehörde mit.",
        "Die Pläne",
        "Ein neues Terminal für 400.000 Container",
        "Zwei Liegeplätze mehr",
        "„Wir wachsen“, sagte der Hafenchef.",
    ]
    assert not any(mark in article.text for mark in ("#", "*", "`", "](", "https://", ">"))


def test_a_lead_paragraph_as_first_line_gives_its_first_sentence_as_title():
    lead = "Die Gewerkschaft lanciert einen Rechner. " + "Sie findet, dass die Vertragsform beschränkt gehört. " * 5
    assert title_from_text(lead) == "Die Gewerkschaft lanciert einen Rechner."


@pytest.mark.parametrize(
    ("lead", "title"),
    [
        ("Benfica mit Abwehrsorgen nach St. Petersburg. ", "Benfica mit Abwehrsorgen nach St. Petersburg."),
        ("Der Gipfel findet am 1. Oktober statt. ", "Der Gipfel findet am 1. Oktober statt."),
        ("Laut Dr. Huber steigen die Preise. ", "Laut Dr. Huber steigen die Preise."),
    ],
)
def test_a_headline_taken_from_the_lead_does_not_end_at_an_abbreviation(lead: str, title: str):
    text = lead + "Danach folgt der Rest des langen ersten Absatzes, der kein Titel sein kann. " * 3
    assert title_from_text(text) == title


def test_folder_search_is_recursive_and_skips_hidden_and_other_files(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "eins.txt").write_text("Eins", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("geheim", encoding="utf-8")
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8")
    assert [p.name for p in find_article_files(tmp_path)] == ["eins.txt"]


def test_german_dates_and_abbreviations_do_not_end_sentences():
    text = "Am 3. Oktober kam z. B. Dr. Müller nach Wien. Dann ging er wieder."
    sentences = [s for _, _, s in split_sentences(text)]
    assert sentences == ["Am 3. Oktober kam z. B. Dr. Müller nach Wien.", "Dann ging er wieder."]


def test_a_sentence_does_not_end_inside_a_word_or_before_its_closing_words():
    text = (
        "AVM stellte die FRITZ!Box 5490 vor. Tore in der K.-o.-Phase fehlen. "
        "Wetten, keiner schafft es?, fragt er. Dann ging er."
    )
    sentences = [s for _, _, s in split_sentences(text)]
    assert sentences == [
        "AVM stellte die FRITZ!Box 5490 vor.",
        "Tore in der K.-o.-Phase fehlen.",
        "Wetten, keiner schafft es?, fragt er.",
        "Dann ging er.",
    ]
    assert all(text[start : start + len(s)] == s for start, _, s in split_sentences(text))


@pytest.mark.parametrize(
    "sentence",
    [  # as in the dev and news articles, where pysbd cut each into three
        "Im Laufe des 18. und 19. Jahrhunderts migrierten Nachkommen der Franzosen westwärts.",
        "Die diesjährigen Zeremonien sollen am 21. oder 22. September beginnen.",
        "Wien – Eine Initiative will am 3. und 4. Juni eine Aktionskonferenz abhalten.",
        "Im 18. – 19. Jahrhundert lebten hier Bauern.",
        "Am 1. bis 3. Mai ist frei.",
    ],
)
def test_ordinals_joined_by_und_bis_or_a_dash_stay_in_their_sentence(sentence):
    text = f"{sentence} Danach kam der Krieg."
    split = split_sentences(text)
    assert [s for _, _, s in split] == [sentence, "Danach kam der Krieg."]
    assert all(text[start : start + len(s)] == s for start, _, s in split)


def test_a_rankings_lines_stay_sentences_of_their_own():
    text = "Ergebnisse: 5. Tomasz Majewski 21,95 Meter. 6. Adam Nelson 21,61 Meter. 7. Ralf Bartels 21,37 Meter."
    assert [s for _, _, s in split_sentences(text)] == [
        "Ergebnisse:",
        "5. Tomasz Majewski 21,95 Meter.",
        "6. Adam Nelson 21,61 Meter.",
        "7. Ralf Bartels 21,37 Meter.",
    ]


def test_chunks_fit_the_size_and_every_sentence_lies_in_its_chunk(articles_dir: Path):
    article = read_article_file(articles_dir / "gipfel.txt")
    long_text = article.text + "\n\n" + "\n\n".join(f"Absatz {i} mit einigen Wörtern über Budapest." for i in range(80))
    article = type(article)(article.article_id, article.source, article.title, long_text)
    parts = split_article(article, chunk_size=300, chunk_overlap=50)
    assert len(parts.chunks) > 5
    assert all(len(c.text) <= 300 for c in parts.chunks)
    for sentence in parts.sentences:
        assert sentence.text in parts.chunks[sentence.chunk].text


def test_chunks_are_verbatim_slices_of_the_article_at_their_offsets(tmp_path: Path):
    # One long paragraph forces splits at sentence ends (a regex separator): the text must stay intact.
    lead = " ".join(f"Der Satz Nummer {i} endet hier. Und noch einer folgt!" for i in range(60))
    path = tmp_path / "lang.txt"
    path.write_text(lead, encoding="utf-8")
    article = read_article_file(path)
    parts = split_article(article, chunk_size=400, chunk_overlap=60)
    assert len(parts.chunks) > 3
    for chunk in parts.chunks:
        assert article.text[chunk.start : chunk.start + len(chunk.text)] == chunk.text


SOFT_HYPHEN, ZERO_WIDTH_SPACE, BYTE_ORDER_MARK = "\u00ad", "\u200b", "\ufeff"


@pytest.mark.parametrize("suffix", [".txt", ".html"])
def test_invisible_characters_leave_title_and_text(tmp_path: Path, suffix: str):
    headline = f"Bundes{SOFT_HYPHEN}regierung beschließt Klima{ZERO_WIDTH_SPACE}gesetz"
    body = f"{BYTE_ORDER_MARK}Die Bundes{SOFT_HYPHEN}regierung hat am Montag das Klimagesetz beschlossen."
    path = tmp_path / f"klima{suffix}"
    if suffix == ".html":
        path.write_text(f"<html><head><title>{headline}</title></head><body><p>{body}</p></body></html>", "utf-8")
    else:
        path.write_text(f"{headline}\n\n{body}", encoding="utf-8")
    article = read_article_file(path)
    assert article.title == "Bundesregierung beschließt Klimagesetz"
    assert "Die Bundesregierung hat am Montag" in article.text
    assert not any(c in article.text + article.title for c in (SOFT_HYPHEN, ZERO_WIDTH_SPACE, BYTE_ORDER_MARK))


def test_a_soft_hyphenated_word_is_found_and_shown_whole(settings, fake_embedder, tmp_path: Path):
    from bot.service import NewsService

    (tmp_path / "klima.txt").write_text(
        f"Klimagesetz\n\nDie Bundes{SOFT_HYPHEN}regierung hat am Montag das Klimagesetz beschlossen.\n\n"
        "In Wien regnete es am Dienstag.",
        encoding="utf-8",
    )
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), fake_embedder)
    service.index_paths([tmp_path / "klima.txt"])
    snapshot = service.retriever.snapshot()
    terms = snapshot.lexical.query_terms("Bundesregierung")
    (row, _), *_ = snapshot.lexical.search(terms, 1)
    assert snapshot.sentences[row].text.startswith("Die Bundesregierung hat")
    answer = service.ask(f"Was hat die Bundes{SOFT_HYPHEN}regierung{ZERO_WIDTH_SPACE} beschlossen?")
    assert answer.question == "Was hat die Bundesregierung beschlossen?"
    assert "Die Bundesregierung hat am Montag das Klimagesetz beschlossen." in answer.text
    with pytest.raises(NewsbotError, match="leer"):  # nothing visible is no question
        service.ask(ZERO_WIDTH_SPACE * 3)


def test_umlauts_in_either_unicode_form_are_one_word(settings, fake_embedder, tmp_path: Path):
    """macOS writes and sends "ü" as "u" and a combining diaeresis (NFD): a file saved so, or a question typed
    so, shared no word with the other form for BM25 and the embedder, and the answer quoted the decomposed text."""
    import unicodedata

    from bot.service import NewsService

    text = "Blaualgen im Wasser\n\nDas Seebad in Zürich bleibt wegen Blaualgen geschlossen.\n\nIn Wien regnete es."
    (tmp_path / "seebad.txt").write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), fake_embedder)
    service.index_paths([tmp_path / "seebad.txt"])
    composed = service.ask("Warum ist das Seebad in Zürich geschlossen?")
    decomposed = service.ask(unicodedata.normalize("NFD", "Warum ist das Seebad in Zürich geschlossen?"))
    assert "Das Seebad in Zürich bleibt wegen Blaualgen geschlossen." in composed.text  # composed, as typed here
    assert composed.sources[0].snippet == "Das Seebad in Zürich bleibt wegen Blaualgen geschlossen."
    assert decomposed.question == "Warum ist das Seebad in Zürich geschlossen?"
    assert (decomposed.text, decomposed.confidence) == (composed.text, composed.confidence)


@pytest.mark.parametrize(
    ("name", "between_paragraphs"),
    [("mac-classic", "\r\r"), ("word", "\u2029"), ("json", "\u2028\u2028"), ("next-line", "\x85\x85"), ("page", "\f")],
)
def test_paragraphs_apart_by_any_line_break_are_paragraphs(tmp_path: Path, name: str, between_paragraphs: str):
    """Classic Mac files end lines with CR; Word and JavaScript text carry Unicode's paragraph and line separators.
    Read as no break at all, the headline became the first sentence's start, separator and all."""
    paragraphs = [
        "Neue Brücke in Graz eröffnet",
        "Die neue Brücke über die Mur wurde am Montag eröffnet. Sie kostet 12 Millionen Euro.",
        "Der Bürgermeister sprach von einem großen Tag.",
    ]
    path = tmp_path / f"{name}.txt"
    path.write_bytes(between_paragraphs.join(paragraphs).encode("utf-8"))
    article = read_article_file(path)
    sentences = split_article(article, chunk_size=1000, chunk_overlap=150).sentences
    assert article.title == paragraphs[0]
    assert [s.text.strip() for s in sentences] == [
        paragraphs[0],
        "Die neue Brücke über die Mur wurde am Montag eröffnet.",
        "Sie kostet 12 Millionen Euro.",
        paragraphs[2],
    ]
    assert [s.paragraph for s in sentences] == [0, 1, 1, 2]


@pytest.mark.parametrize(
    ("markup", "published"),
    [
        ("<p>Im Jahr 2024 beginnt der Bau, 2025 soll die Brücke fertig sein.</p>", None),
        ("<p>Die Brücke soll 2025 fertig sein.</p><footer>© 2024 Beispielzeitung</footer>", None),
        ('<p><time datetime="2025-01-01">1. Jänner 2025</time></p><p>Der Bau beginnt 2025.</p>', "2025-01-01"),
        ('<p class="date">12.03.2025</p><p>Im Jahr 2024 begann der Bau.</p>', "2025-03-12"),
    ],
)
def test_a_page_is_dated_by_its_date_not_by_a_year_it_mentions(tmp_path: Path, markup: str, published: str | None):
    """htmldate's last resort makes a year in the text (or a copyright year) the 1st of January: a page on work
    that "begins in 2024" was published on 2024-01-01, shown so, aged by it for "which story is meant", and
    removed by a retention of 90 days at once."""
    path = tmp_path / "bruecke.html"
    path.write_text(
        f"<html><head><title>Neue Brücke</title></head><body><article><h1>Neue Brücke</h1>{markup}"
        "<p>Die neue Brücke über die Mur verbindet zwei Stadtteile.</p></article></body></html>",
        encoding="utf-8",
    )
    assert read_article_file(path).published == published


def test_ligatures_of_text_copied_from_a_pdf_are_letters(settings, fake_embedder, tmp_path: Path):
    """A PDF's text comes with "ﬁ" and "ﬀ" as one character each: "ﬁnanziert" shared no word with "finanziert"."""
    from bot.service import NewsService

    (tmp_path / "haushalt.txt").write_text(
        "Haushalt beschlossen\n\nDie Oﬀensive für Schulen wird aus dem Haushalt ﬁnanziert.\n\nIn Wien regnete es.",
        encoding="utf-8",
    )
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), fake_embedder)
    service.index_paths([tmp_path / "haushalt.txt"])
    typed = service.ask("Wie wird die Offensive für Schulen finanziert?")
    pasted = service.ask("Wie wird die Oﬀensive für Schulen ﬁnanziert?")
    assert "Die Offensive für Schulen wird aus dem Haushalt finanziert." in typed.text
    assert pasted.question == "Wie wird die Offensive für Schulen finanziert?"
    assert (pasted.text, pasted.confidence) == (typed.text, typed.confidence)


def test_a_zero_width_non_joiner_in_a_word_leaves_it_whole(tmp_path: Path):
    """Careful German typesetting puts U+200C between the parts of "Auflage" so that "f" and "l" are not joined:
    invisible, like a soft hyphen, and it split the word for BM25 in two."""
    path = tmp_path / "auflage.txt"
    path.write_text("Neue Auf\u200clage\n\nDie zweite Auf\u200clage des Buches erscheint im Mai.", encoding="utf-8")
    article = read_article_file(path)
    assert article.title == "Neue Auflage"
    assert "Die zweite Auflage des Buches" in article.text
