"""The tagger keeps its analysis of words it did not know (`bot.names._tagger`): same tags, each word analysed once."""

from __future__ import annotations

from HanTa import HanoverTagger

from bot.names import (
    _TOKENS,
    TAGGER_MODELS,
    _tag_sequence,
    _tagger,
    is_elliptic,
    proper_names,
    refers_back,
    refers_to_someone,
)

ANSWER = (
    "Am Sonntagnachmittag wurden an der Messstation Innere Stadt in Wien 37,2 Grad gemessen, so viel wie seit acht "
    "Jahren nicht mehr an einem Junitag."
)


def test_a_kept_analysis_tags_as_a_fresh_tagger_does():
    words = _TOKENS.findall(ANSWER)
    fresh = HanoverTagger.HanoverTagger(TAGGER_MODELS["de"])
    expected = fresh.tag_sent(words, taglevel=0)
    kept = _tagger("de")
    assert kept.tag_sent(words, taglevel=0) == expected
    assert kept.tag_sent(words, taglevel=0) == expected  # from the kept analyses
    assert "Wien" in proper_names(ANSWER, "de")


def test_a_word_the_tagger_does_not_know_is_analysed_once():
    kept = _tagger("de")
    words = _TOKENS.findall("Der Zwischenstand der Zollwachebeamtinnenkonferenz lag bei 41,7 Punkten.")
    kept.tag_sent(words, taglevel=0)
    analysed = kept.analyze_forward.cache_info().misses
    assert kept.analyze_forward.cache_info().currsize > 0
    kept.tag_sent(words, taglevel=0, casesensitive=False)
    kept.tag_sent(list(reversed(words)), taglevel=0)
    assert kept.analyze_forward.cache_info().misses == analysed


def test_a_follow_up_is_tagged_once_by_the_checks_that_read_it():
    question = "Was hat der Zollwachebeamte ihm danach gesagt?"
    before = _tag_sequence.cache_info()
    assert refers_back(question, "de")
    assert refers_to_someone(question, "de")
    assert not is_elliptic(question, "de")
    after = _tag_sequence.cache_info()
    assert after.misses == before.misses + 1
    assert after.hits == before.hits + 2
