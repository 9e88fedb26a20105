from bot.service import NewsService


def test_fake_pipeline_answers_from_the_right_article(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    report = service.index_paths([articles_dir])
    assert len(report.added) == 3
    answer = service.ask("Wo soll der Gipfel stattfinden?")
    assert answer.answered
    assert "Budapest" in answer.text
    assert answer.sources[0].source.endswith("gipfel.txt")


def test_a_question_asked_again_reuses_its_vector_but_searches_the_current_index(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    first = service.ask("Wo soll der Gipfel stattfinden?")
    again = service.ask("Wo soll der Gipfel stattfinden?")
    assert (again.text, again.sources) == (first.text, first.sources)
    service.ask("Wann wurde die Bahnstrecke eröffnet?")
    assert fake_embedder.queries == ["Wo soll der Gipfel stattfinden?", "Wann wurde die Bahnstrecke eröffnet?"]

    service.remove(str(articles_dir / "gipfel.txt"))
    after_removal = service.ask("Wo soll der Gipfel stattfinden?")
    assert all(not s.source.endswith("gipfel.txt") for s in after_removal.sources)
    assert len(fake_embedder.queries) == 2
