from bot.service import NewsService


def test_fake_pipeline_answers_from_the_right_article(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    report = service.index_paths([articles_dir])
    assert len(report.added) == 3
    answer = service.ask("Wo soll der Gipfel stattfinden?")
    assert answer.answered
    assert "Budapest" in answer.text
    assert answer.sources[0].source.endswith("gipfel.txt")
