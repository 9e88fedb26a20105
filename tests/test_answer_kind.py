"""The kind of answer a question asks, and whether a context holds one the question does not name (issue #14)."""

from __future__ import annotations

import pytest

from bot.answer_kind import (
    AGE,
    AMOUNT,
    DURATION,
    PERSON,
    PLACE,
    PRICE,
    TIME,
    asked_kind,
    asked_value,
    holds_kind,
    kind_missing,
    shows_value,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Wer leitet die Gewerkschaft GPA-djp?", PERSON),
        ("Von wem wurde der Gipfel vorgeschlagen?", PERSON),
        ("Who proposed the summit?", PERSON),
        ("Wo soll der Gipfel stattfinden?", PLACE),
        ("In welcher Stadt findet der Gipfel statt?", PLACE),
        ("Where will the summit take place?", PLACE),
        ("Wann wurde die Bahnstrecke eröffnet?", TIME),
        ("In welchem Jahr wurde die Universität gegründet?", TIME),
        ("When was the line opened?", TIME),
        ("Wie viele Jahre dauerte der Bau?", AMOUNT),  # a count, though it counts years
        ("Wie hoch ist der Leitzins in Japan?", AMOUNT),
        ("How many degrees were measured in Vienna?", AMOUNT),
        ("Was kostet ein Ticket von Graz nach Klagenfurt?", PRICE),
        ("How much does a ticket cost?", PRICE),
        ("How much will the new Apple TV cost?", PRICE),  # its auxiliary is no "does": the verb at the end says it
        ("Wie viel wird das Krankenhaus Nord am Ende kosten?", PRICE),  # the verb at the end says it
        ("Was hat der Umbau gekostet?", PRICE),
        ("Was fordert die Gewerkschaft?", None),
        ("Welche Rolle spielte Luther?", None),
    ],
)
def test_the_question_word_and_its_structure_tell_the_asked_kind(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize("question", ["Wer ist Barbara Teiber?", "Who is Barbara Teiber?", "Wer war Martin Luther?"])
def test_a_question_about_a_named_one_asks_what_they_are_not_who(question):
    assert asked_kind(question) is None


def test_wer_ist_before_a_common_noun_asks_a_person():
    assert asked_kind("Wer ist der Chef der GPA-djp?") == PERSON


def test_a_follow_up_without_a_question_word_asks_what_the_earlier_question_asked():
    assert asked_kind("Und in Wien?", earlier="Wann beginnt der Streik?") == TIME
    assert asked_kind("Und wer noch?", earlier="Wann beginnt der Streik?") == PERSON


@pytest.mark.parametrize(
    ("kind", "question", "answer", "near_miss"),
    [
        (
            PERSON,
            "Wer ist der Chef der GPA-djp?",
            "GPA-djp-Chefin Barbara Teiber fordert mehr Lohn.",
            "Die Gewerkschaft GPA-djp fordert mehr Lohn.",
        ),
        (
            PLACE,
            "Wo findet der Gipfel statt?",
            "Der Gipfel findet in Budapest statt.",
            "Der Gipfel wurde von der Kommission vorgeschlagen.",
        ),
        (
            TIME,
            "Wann wurde die Bahnstrecke eröffnet?",
            "Die Strecke wurde im Dezember eröffnet.",
            "Die Strecke verbindet die Landeshauptstädte.",
        ),
        (
            AMOUNT,
            "Wie viele Pendler fahren täglich?",
            "Täglich fahren 12.000 Pendler.",
            "Pendler fahren künftig im Stundentakt.",
        ),
        (
            PRICE,
            "Was kostet ein Ticket von Graz nach Klagenfurt?",
            "Ein Ticket kostet 29,90 Euro.",
            "Die Fahrt von Graz nach Klagenfurt dauert nur noch 45 Minuten.",  # a number, but no sum of money
        ),
    ],
)
def test_a_context_holds_the_asked_kind_only_where_it_gives_one(kind, question, answer, near_miss):
    assert holds_kind(kind, [answer], question, "de")
    assert not holds_kind(kind, [near_miss], question, "de")


@pytest.mark.parametrize(
    ("kind", "question", "context"),
    [
        # the year, the place, the name the question gives are not its answer
        (TIME, "Wann schoss Higuain 2014 ein Tor?", "Higuain spielte 2014 für Argentinien."),
        (AMOUNT, "Wie viele Tore schoss Higuain 2014?", "Higuain traf 2014 im Finale nicht."),
        (PLACE, "Wo trifft sich der Rat in Budapest?", "Der Rat in Budapest trifft sich morgen."),
        (PERSON, "Wer besiegte Higuain im Finale?", "Higuains Finale war enttäuschend."),  # "Higuains": its own name
    ],
)
def test_what_the_question_names_itself_does_not_count_as_its_answer(kind, question, context):
    assert not holds_kind(kind, [context], question, "de")


def test_a_time_the_report_gives_in_words_counts():
    assert holds_kind(TIME, ["Der Streik beginnt am Montag."], "Wann beginnt der Streik?", "de")
    assert holds_kind(TIME, ["Vor drei Jahren wurde er gegründet."], "Wann wurde der Verein gegründet?", "de")
    summit = 'Trump sagte, dass das Treffen "wahrscheinlich in den nächsten zwei Wochen" stattfinden könnte.'
    assert holds_kind(TIME, [summit], "Wann soll der Gipfel stattfinden?", "de")
    assert holds_kind(TIME, [summit], "And when?", "de")
    assert not holds_kind(TIME, ["Das Treffen soll in Budapest stattfinden."], "Wann soll es stattfinden?", "de")
    # a weekday with its part of the day in one word ("Am Donnerstagvormittag gibt … ein Update") was no time
    assert holds_kind(TIME, ["Am Donnerstagvormittag gibt sie ein Update."], "Wann gibt sie ein Update?", "de")
    assert holds_kind(TIME, ["Das teilte das Weiße Haus am Donnerstagabend mit."], "Wann sagte es das?", "de")
    assert not holds_kind(TIME, ["Der Montagsdemonstrant sprach."], "Wann sprach er?", "de")


def test_an_english_question_over_a_german_context_is_judged_by_the_context():
    assert holds_kind(PLACE, ["Der Gipfel findet in Budapest statt."], "Where will the summit take place?", "de")
    assert not holds_kind(PERSON, ["Die Gewerkschaft fordert mehr Lohn."], "Who leads the union?", "de")


def test_only_the_asked_kind_is_missing_and_a_price_counts_as_an_amount():
    question = "Was kostet ein Ticket?"
    assert kind_missing(asked_kind(question), ["Die Fahrt dauert 45 Minuten."], question, "de") == {
        TIME: 0.0,
        AMOUNT: 1.0,
    }
    assert kind_missing(asked_kind(question), ["Es kostet 9 Euro."], question, "de") == {TIME: 0.0, AMOUNT: 0.0}
    assert kind_missing(TIME, ["Die Fahrt dauert 45 Minuten."], "Wann fährt er?", "de") == {TIME: 1.0, AMOUNT: 0.0}


@pytest.mark.parametrize("question", ["Was fordert sie?", "Wer fordert das?", "Wo liegt das?"])
def test_a_person_a_place_or_no_kind_asked_is_no_signal(question):
    """A person's or a place's absence, told by proper names, did not tell near misses from answers (answer_kind)."""
    assert set(kind_missing(asked_kind(question), ["Die Fahrt dauert lange."], question, "de").values()) == {0.0}


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("Wie alt ist Luis Durnwalder?", AGE),
        ("Wie alt war Peyton Manning, als er im Super Bowl 50 spielte?", AGE),
        ("How old is Roger Federer?", AGE),
        ("Wie lange pflegt Canonical die LTS-Versionen von Ubuntu?", DURATION),
        ("Wie lang ist die Strecke?", AMOUNT),  # a length, not a span of time
        ("Wie viele Menschen waren ohne Strom?", AMOUNT),
        ("Wann erhielt Pione Sisto den dänischen Pass?", TIME),
        ("Was kostet ein Ticket?", PRICE),
        ("Wer leitet die Gewerkschaft?", None),  # a name: the tagger tells it too poorly to choose a sentence by
        ("Wo findet der Gipfel statt?", None),
        ("Was fordert die Gewerkschaft?", None),
    ],
)
def test_the_value_an_answer_must_show(question, value):
    assert asked_value(question) == value


def test_a_question_opening_with_who_asks_a_person_whatever_its_clause_says():
    assert asked_value("Who was the leader when the Franks entered the Euphrates valley?") is None


def test_a_follow_up_without_a_question_word_asks_the_earlier_questions_value():
    assert asked_value("Und Jeremy Corbyn?", earlier="Wie alt ist Luis Durnwalder?") == AGE


def test_the_asked_kind_of_an_age_or_a_span_stays_an_amount_for_the_refusal():
    assert asked_kind("Wie alt ist Luis Durnwalder?") == AMOUNT
    assert asked_kind("Wie lange dauert der Bau?") == AMOUNT


@pytest.mark.parametrize(
    "sentence",
    [
        "Da er Getränke bezahlt hat, wird dem 74-Jährigen auch illegale Parteienfinanzierung zur Last gelegt.",
        "Ein zu fünf Jahren Haft verurteilter 25-jähriger Muslim befindet sich weiter auf freiem Fuß.",
        "Mit 39 Jahren ist er der älteste Quarterback, der je in einem Super Bowl spielte.",
        "John Elway führte im Alter von 38 Jahren die Broncos zum Sieg.",
        "Der Altlandeshauptmann Luis Durnwalder (74) bestreitet die Vorwürfe.",
        "Der Schweizer ist 34 Jahre alt.",
    ],
)
def test_an_age_is_given_in_the_forms_of_an_age(sentence):
    assert holds_kind(AGE, [sentence], "Wie alt ist er?", "de")


@pytest.mark.parametrize(
    "sentence",
    [
        "Im Prozess gegen Luis Durnwalder hat der Staatsanwalt drei Jahre Haft für den Ex-Politiker gefordert.",
        "Er verlor erstmals seit mehr als drei Jahren eine Partie.",
        "Beim 3:2 (1:0) erzielte er zwei Treffer (44., 54.).",
    ],
)
def test_other_numbers_and_spans_of_years_are_no_age(sentence):
    assert not holds_kind(AGE, [sentence], "Wie alt ist er?", "de")


def test_a_duration_is_a_number_before_a_unit_of_time():
    question = "Wie lange pflegt Canonical die LTS-Versionen von Ubuntu?"
    assert holds_kind(DURATION, ["Versprochen wird ein Pflegezeitraum von fünf Jahren."], question, "de")
    assert holds_kind(DURATION, ["Manche versprechen einen Support von neun Monaten."], question, "de")
    assert not holds_kind(DURATION, ["Für die Versionen 12.04 und 14.04 gilt das nicht."], question, "de")


def test_a_duration_is_also_given_by_its_bounds():
    question = "Wie lange war das Sommertheater in Betrieb?"
    assert holds_kind(DURATION, ["Dort war das Sommertheater von 1870 bis 1939 in Betrieb."], question, "de")
    assert holds_kind(DURATION, ["Das Wojciech Bogusławski Theater (1922-26) war das beste."], question, "de")
    assert not holds_kind(DURATION, ["Das Theater wurde 1870 eröffnet und 1939 zerstört."], question, "de")


def test_a_count_given_in_words_shows_an_amount_but_is_no_figure_for_the_refusal():
    question = "Zu wie vielen Wiedergeburten hat sich ein Lama bereiterklärt?"
    lama = ["Ein Lama, der sich bewusst zur Wiedergeburt, häufig mehrere Male, entschlossen hat, heißt Tulku."]
    assert shows_value(asked_value(question), lama, question, "de")
    assert not holds_kind(AMOUNT, lama, question, "de")
    assert not shows_value(AMOUNT, ["Ein Lama heißt Tulku."], question, "de")


@pytest.mark.parametrize(
    ("sentence", "counts"),
    [
        ("Die Umfrage wurde in der Region Phang Nga durchgeführt, die 2004 stark betroffen war.", False),
        ("Im Jahr 2004 wurde die Studie begonnen.", False),
        ("Die Studie (2015) erschien in Plos One.", False),
        ("Befragt wurden 2004 Menschen.", True),  # a noun after it: what the figure counts
        ("Mehr als 2000 zumeist Vermummte wurden befragt.", True),  # one word between
        ("Befragt wurden 1.500 Menschen.", True),  # a count of thousands is written with its point
        ("Der Anteil stieg auf 1999 %.", True),
        ("Befragt wurden 312 Menschen in Phang Nga.", True),
    ],
)
def test_a_year_is_no_count(sentence, counts):
    question = "Wie viele Menschen wurden für die Studie befragt?"
    assert holds_kind(AMOUNT, [sentence], question, "de") is counts
    assert shows_value(AMOUNT, [sentence], question, "de") is counts
    if not counts:  # what it gives is a time
        assert holds_kind(TIME, [sentence], "Wann wurde die Studie gemacht?", "de")


def test_years_as_a_spans_bounds_and_a_share_in_a_compound_give_an_amount():
    question = "Wie lange war das Sommertheater in Betrieb?"
    assert shows_value(AMOUNT, ["Dort war das Sommertheater von 1870 bis 1939 in Betrieb."], question, "de")
    assert not shows_value(AMOUNT, ["Das Theater wurde 1870 eröffnet und 1939 zerstört."], question, "de")
    question = "Wie viel Stimmenmehrheit muss es geben, um der Kommission das Misstrauen auszusprechen?"
    majority = "Es kann mit einer Zweidrittelmehrheit der gesamten Kommission das Misstrauen aussprechen."
    assert shows_value(AMOUNT, [majority], question, "de")
    assert holds_kind(AMOUNT, [majority], question, "de")


@pytest.mark.parametrize("question", ["Um wie viel Uhr beginnt das Konzert?", "Um wieviel Uhr?", "At what time?"])
def test_a_clock_time_is_asked_with_an_amounts_words_and_shown_by_a_time(question):
    assert asked_kind(question) == TIME
    assert asked_value(question) == TIME
    concert = ["Das Konzert beginnt um 20.15 Uhr im Großen Saal."]
    assert shows_value(asked_value(question), concert, question, "de")
    assert not shows_value(asked_value(question), ["Das Konzert findet im Großen Saal statt."], question, "de")
